/**
 * One stage of the request path as a server of its own, for bench/stages.ts: `stages_server.ts
 * STAGE PORT`. Every stage adds one piece to the one before, so the CPU per request of each,
 * measured side by side, prices each piece:
 *
 * - `wire`: plain Deno.serve answering "ok" — hyper, the kernel, the Request object;
 * - `route`: siphon's request path (routing, limits, the request packed for Python, deadline
 *   bookkeeping, metrics), answered by a stub bridge without Python;
 * - `cross`: the same, plus one call into Python that does nothing (the crossing itself);
 * - `full`: the real bridge and handler, as a worker serves (what bench:cpu measures).
 *
 * The generation is built as a worker builds it (workers/generation/generation.ts), one worker's
 * worth in this process's main thread.
 */
import { join } from "node:path";
import type { PyCallable } from "pyodide/ffi";
import { loadConfig } from "../src/config/files.ts";
import { createLogger } from "../src/log.ts";
import { readSiphonPackage } from "../src/pyodide/assets.ts";
import type { Bridge, BridgeRequest } from "../workers/bridge/bridge.ts";
import { buildGeneration } from "../workers/generation/generation.ts";
import { offlineHost } from "../workers/doubles/offline_host.ts";
import { loadPython } from "../src/snapshot/restore.ts";
import { DeadlineClock } from "../workers/base/deadlines.ts";
import { listenerFor } from "../workers/serve/listener.ts";
import { requestHandler } from "../workers/serve/request_path.ts";

const [stage, port] = [Deno.args[0], Number(Deno.args[1])];
const serve = (handler: Deno.ServeHandler) =>
  Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, handler);

if (stage === "wire") {
  serve(() => new Response("ok"));
} else if (stage === "body") {
  serve(async (req) => {
    if (req.body) await req.bytes();
    return new Response("ok");
  });
} else {
  const config = await loadConfig(join(import.meta.dirname!, "app", "http.yaml"), {
    env: { PORT: String(port) },
  });
  const log = createLogger({ level: "warning" });
  const { py } = await loadPython({ files: await readSiphonPackage(), env: {}, log });
  const clock = new DeadlineClock(new Float64Array(new SharedArrayBuffer(16)));
  clock.start();
  const { context } = buildGeneration({
    config,
    python: py,
    host: offlineHost({ log, clock, batch: true, onFatal: (cause) => log.error(cause) }),
  });
  if (stage !== "full") {
    py.runPython("def noop(a, b, c):\n    return '200\\x002'\n");
    const noop = py.globals.get("noop") as PyCallable;
    const stub = {
      call: (_: BridgeRequest) => {
        if (stage === "cross") noop(1, 2, 3);
        return new Response("ok");
      },
    };
    context.bridge = stub as unknown as Bridge;
  }
  serve(requestHandler(listenerFor(config.servers[0], context)));
}
