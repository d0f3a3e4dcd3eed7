/**
 * The JS↔Python bridge in process, no sockets: `deno bench -P bench/bridge_bench.ts`.
 * Baseline: the straightforward bridge (a `toPy` dict in, `tuple.toJs()` out) that measured
 * 0.06× plain Deno.serve (docs/internals.md, "The bridge"). The request: 8 headers, 2 path params, 3 query params,
 * a 100 B body; the reply: 2 headers and a JSON body.
 */
import type { PyProxy } from "pyodide/ffi";
import { parseConfig } from "../src/config/load.ts";
import { freePort } from "../harness/launch.ts";
import { createLogger } from "../src/log.ts";
import { readSiphonPackage } from "../src/pyodide/assets.ts";
import type { BridgeRequest } from "../workers/bridge/bridge.ts";
import { buildGeneration } from "../workers/generation/generation.ts";
import { offlineHost } from "../workers/doubles/offline_host.ts";
import { loadPython } from "../src/snapshot/restore.ts";

const log = createLogger({ level: "warning" });
const { py } = await loadPython({ files: await readSiphonPackage(), env: {}, log });
const dir = Deno.makeTempDirSync({ prefix: "siphon-bridge-bench-" });
Deno.writeTextFileSync(
  `${dir}/app.py`,
  `import json
from siphon import http

@http.route("/users/{id:int}/orders/{order}")
def order(req):
    p = req.path_params
    return http.Response(200, {"content-type": "application/json", "x-req": req.header("x-request-id")},
                         json.dumps({"id": p["id"], "order": p["order"], "page": req.query_params.get("page"),
                                     "n": len(req.body())}))

def straightforward(d):
    p = d["params"]
    body = json.dumps({"id": int(p["id"]), "order": p["order"], "page": d["query"].get("page"),
                       "n": len(d["body"])})
    return (200, [["content-type", "application/json"], ["x-req", d["headers"]["x-request-id"]]], body)
`,
);
// Built as a worker builds a generation (workers/generation/generation.ts).
const { context } = buildGeneration({
  config: parseConfig(`script: app.py\nservers:\n  - listen: 127.0.0.1:${freePort()}\n`, {
    file: `${dir}/http.yaml`,
    dir,
    env: {},
  }),
  python: py,
  host: offlineHost({ log }),
});
const bridge = context.bridge;
const appModule: PyProxy = py.pyimport("app");
const straightforward = appModule.straightforward;

const headers = [
  "host",
  "127.0.0.1:8080",
  "user-agent",
  "bench/1.0",
  "accept",
  "application/json",
  "accept-encoding",
  "gzip",
  "content-type",
  "application/json",
  "content-length",
  "100",
  "x-request-id",
  "abc-123",
  "authorization",
  "Bearer token",
];
const body = new TextEncoder().encode(JSON.stringify({ pad: "x".repeat(88) }));
const request: BridgeRequest = {
  route: 0,
  method: "POST",
  path: "/users/42/orders/abc",
  client: "127.0.0.1:50000",
  query: ["page", "2", "limit", "50", "sort", "name"],
  headers,
  params: ["42", "abc"],
  mayHaveControl: false,
  clientCert: "",
  requestId: "bench-1",
  seq: 0,
  lazy: () => "127.0.0.1:50000",
  timeoutMs: 30000,
  bodyStream: null,
  body,
};

Deno.bench("straightforward bridge (toPy dict, tuple.toJs)", {
  group: "bridge",
  baseline: true,
}, () => {
  const h: Record<string, string> = {};
  for (let i = 0; i < headers.length; i += 2) h[headers[i]] = headers[i + 1];
  const url = new URL("http://127.0.0.1:8080/users/42/orders/abc?page=2&limit=50&sort=name");
  const arg = py.toPy({
    method: "POST",
    path: url.pathname,
    headers: h,
    query: Object.fromEntries(url.searchParams),
    params: { id: "42", order: "abc" },
    body,
  });
  const out = straightforward(arg);
  const js = out.toJs();
  const res = new Response(js[2], { status: js[0] });
  for (const [k, v] of js[1]) res.headers.append(k, v);
  out.destroy();
  arg.destroy();
});

Deno.bench("siphon bridge (packed string, shared buffers)", { group: "bridge" }, () => {
  const res = bridge.call(request);
  if (!(res instanceof Response) || res.status !== 200) throw new Error("unexpected result");
});
