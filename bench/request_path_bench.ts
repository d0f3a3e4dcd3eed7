/**
 * The whole request path of one worker in process, without sockets: routing, limits, body,
 * the bridge, Python, the Response — built by the same generation builder as a worker's
 * (workers/generation/generation.ts). `deno bench -P bench/request_path_bench.ts`.
 * The baseline is the same handler answering 404 without Python.
 */
import { join } from "node:path";
import { loadConfig } from "../src/config/files.ts";
import { freePort } from "../harness/launch.ts";
import { createLogger } from "../src/log.ts";
import { readSiphonPackage } from "../src/pyodide/assets.ts";
import { buildGeneration } from "../workers/generation/generation.ts";
import { offlineHost } from "../workers/doubles/offline_host.ts";
import { loadPython } from "../src/snapshot/restore.ts";
import { listenerFor } from "../workers/serve/listener.ts";
import { requestHandler } from "../workers/serve/request_path.ts";
import type { Config } from "../src/config/load.ts";
import { realisticRequest } from "./_realistic.ts";

const config = await loadConfig(join(import.meta.dirname!, "app", "http.yaml"), {
  env: { PORT: String(freePort()) },
});
const log = createLogger({ level: "warning" });
const { py } = await loadPython({ files: await readSiphonPackage(), env: {}, log });
const interrupt = new Int32Array(new SharedArrayBuffer(8));
/** A generation as a worker builds it (workers/generation/generation.ts), with one switch changed. */
function handlerWith(options: { metrics: boolean; access: boolean }) {
  const variant: Config = {
    ...config,
    admin: config.admin ? { ...config.admin, metrics: options.metrics } : config.admin,
    log: { ...config.log, access: options.access },
  };
  const { context } = buildGeneration({
    config: variant,
    python: py,
    host: offlineHost({
      log: options.access ? createLogger({ format: "json", buffered: true, write: () => {} }) : log,
      interrupt,
    }),
  });
  return requestHandler(listenerFor(config.servers[0], context));
}
const handle = handlerWith({ metrics: true, access: false });
const noMetrics = handlerWith({ metrics: false, access: false });
const withAccess = handlerWith({ metrics: true, access: true });
const info = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 50000 },
  completed: Promise.resolve(),
} as unknown as Deno.ServeHandlerInfo;
const base = `http://${config.servers[0].listen.text}`; // in process: nothing listens

async function serve(req: Request, want: number, via = handle): Promise<void> {
  const res = await via(req, info);
  if (res.status !== want) throw new Error(`${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
}

Deno.bench("GET 404, no Python", { group: "request path", baseline: true }, async () => {
  await serve(new Request(`${base}/nope`), 404);
});
Deno.bench("GET /trivial", { group: "request path" }, async () => {
  await serve(new Request(`${base}/trivial`), 200);
});
Deno.bench(
  "POST /realistic/42 (8 headers, query, 100 B JSON)",
  { group: "request path" },
  async () => {
    await serve(realisticRequest(base), 200);
  },
);

Deno.bench(
  "GET /trivial, metrics on (default)",
  { group: "switches", baseline: true },
  async () => {
    await serve(new Request(`${base}/trivial`), 200);
  },
);
Deno.bench("GET /trivial, metrics off", { group: "switches" }, async () => {
  await serve(new Request(`${base}/trivial`), 200, noMetrics);
});
Deno.bench("GET /trivial, metrics on + JSON access log", { group: "switches" }, async () => {
  await serve(new Request(`${base}/trivial`), 200, withAccess);
});
