/**
 * Python's bytecodes per request, counted with `sys.monitoring`: `deno task bench:bytecodes`.
 * The bench app's trivial and realistic requests go through the whole request path in process
 * (a generation built as a worker builds it), and every instruction Python executes is counted
 * and charged to the handler — the script's own code and what it calls (json …) — or to the
 * framework: siphon's code and what it calls (the part this project can make smaller). Then the
 * last request of each route is dispatched again in a loop inside Python, to time Python's part on
 * its own (no JS around it, warm caches): what a bytecode is worth here.
 *
 * With BENCH_APP=starlette the same is done for an ASGI app: bench/peers/starlette_app.py served
 * as `app:` (wheels from Debian's packages, bench/_asgi_project.ts); the app's code (its module
 * and its packages) is the handler's side, and the app alone called in a loop
 * (bench/peers/asgi_loop.py) is timed in the same interpreter, so the difference is what
 * siphon-deno's Python adds around an ASGI app.
 *
 * Env: BENCH_REQUESTS (200 per route), BENCH_BY_FUNCTION=1 (also list the framework's
 * functions, the costliest first), BENCH_APP=starlette.
 */
import { join } from "node:path";
import { loadConfig } from "../src/config/files.ts";
import { freePort } from "../harness/launch.ts";
import { createLogger } from "../src/log.ts";
import { readSiphonPackage } from "../src/pyodide/assets.ts";
import { loadPython } from "../src/snapshot/restore.ts";
import { offlineHost } from "../workers/doubles/offline_host.ts";
import { buildGeneration } from "../workers/generation/generation.ts";
import { listenerFor } from "../workers/serve/listener.ts";
import { requestHandler } from "../workers/serve/request_path.ts";
import { realisticRequest } from "./_realistic.ts";
import { asgiProject } from "./_asgi_project.ts";

const requests = Number(Deno.env.get("BENCH_REQUESTS") ?? 200);
const asgi = Deno.env.get("BENCH_APP") === "starlette";
const project = asgi ? asgiProject() : null;
const config = project
  ? await loadConfig(join(project, "http.yaml"), {
    env: {
      PORT: String(freePort()),
      WORKERS: "1",
      ADMIN_PORT: String(freePort()),
      METRICS: "false",
    },
  })
  : await loadConfig(join(import.meta.dirname!, "app", "http.yaml"), {
    env: { PORT: String(freePort()) },
  });
// The handler's side: the script, or an app's module folder and its installed packages.
const handlerFiles = project ? [project + "/", `${config.python.site}/`] : [config.script];
const log = createLogger({ level: "warning" });
const { py } = await loadPython({ files: await readSiphonPackage(), env: {}, log });
const { context } = buildGeneration({ config, python: py, host: offlineHost({ log }) });
const handle = requestHandler(listenerFor(config.servers[0], context));
const info = {
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 50000 },
  completed: Promise.resolve(),
} as unknown as Deno.ServeHandlerInfo;
const base = `http://${config.servers[0].listen.text}`; // in process: nothing listens
const ROUTES = {
  trivial: () => new Request(`${base}/trivial`),
  realistic: () => realisticRequest(base),
};

// Instructions are charged by the nearest frame that is the script's or siphon's own.
py.runPython(`
import sys
_mon = sys.monitoring
_TOOL = 4
_counts = {"handler": 0, "framework": 0}
_who = {}
_by = {}
_handler_files = tuple(${JSON.stringify(handlerFiles)})

def _owner(code):
    f = code.co_filename
    if f.startswith(_handler_files):
        return "handler"
    if "/siphon/" in f:
        return "framework"
    return None

def _instruction(code, offset):
    owner = _who.get(code)
    if owner is None:
        owner = _owner(code)
        if owner is None:
            frame = sys._getframe(1)
            while frame is not None and owner is None:
                owner = _owner(frame.f_code)
                frame = frame.f_back
            owner = owner or "framework"
        else:
            _who[code] = owner
    _counts[owner] += 1
    if owner == "framework":
        _by[code] = _by.get(code, 0) + 1

def _start():
    _counts.update(handler=0, framework=0)
    _by.clear()
    _mon.use_tool_id(_TOOL, "bytecodes")
    _mon.register_callback(_TOOL, _mon.events.INSTRUCTION, _instruction)
    _mon.set_events(_TOOL, _mon.events.INSTRUCTION)

def _stop():
    _mon.set_events(_TOOL, 0)
    _mon.register_callback(_TOOL, _mon.events.INSTRUCTION, None)
    _mon.free_tool_id(_TOOL)
    return f"{_counts['handler']} {_counts['framework']}"

# The last dispatch's arguments (caught as it starts), to time Python's part on its own: the same
# request dispatched in a loop, with no JS around it (inbuf still holds it: the calls are sync).
_last = []
_dispatch = __import__("siphon._bridge", fromlist=["_"]).dispatch

def _caught(code, offset):
    if code is _dispatch.__code__:
        f = sys._getframe(1).f_locals
        _last[:] = [f["route_id"], f["meta_len"], f["body_len"]]

def _catch():
    _mon.use_tool_id(_TOOL, "catch")
    _mon.register_callback(_TOOL, _mon.events.PY_START, _caught)
    _mon.set_events(_TOOL, _mon.events.PY_START)

def _time_dispatch(n):
    import time
    _mon.set_events(_TOOL, 0)
    _mon.register_callback(_TOOL, _mon.events.PY_START, None)
    _mon.free_tool_id(_TOOL)
    args = tuple(_last)
    for _ in range(n):
        _dispatch(*args)
    t = time.perf_counter()
    for _ in range(n):
        _dispatch(*args)
    return (time.perf_counter() - t) / n * 1e6

def _app_alone():
    import asgi_loop
    return asgi_loop.per_request()

def _by_function(n):
    rows = sorted(_by.items(), key=lambda kv: -kv[1])
    return [(f"{c.co_qualname} ({c.co_filename.rsplit('/', 1)[-1]})", k / n) for c, k in rows]
`);
const start = py.globals.get("_start");
const stop = py.globals.get("_stop");

const own = asgi ? "the app's own code (Starlette …)" : "the handler's own code";
console.log(
  `\n## Python bytecodes per request${asgi ? ", an ASGI app" : ""} (${requests} requests ` +
    "per route, in process)\n",
);
console.log(`| route | ${own} | the framework's | total | µs in Python (dispatch in a loop) |`);
console.log("|---|---|---|---|---|");
const alone = asgi
  ? py.globals.get("_app_alone")().toJs({ dict_converter: Object.fromEntries }) as Record<
    string,
    number
  >
  : null;
for (const [name, make] of Object.entries(ROUTES)) {
  for (let i = 0; i < 20; i++) await (await handle(make(), info)).arrayBuffer(); // warm
  start();
  for (let i = 0; i < requests; i++) {
    const res = await handle(make(), info);
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  }
  const [handler, framework] = String(stop()).split(" ").map((n) => Number(n) / requests);
  py.globals.get("_catch")();
  await (await handle(make(), info)).arrayBuffer();
  const micros = Number(py.globals.get("_time_dispatch")(20_000));
  console.log(
    `| ${name} | ${handler} | ${framework} | ${handler + framework} | ${micros.toFixed(2)} |`,
  );
  if (alone) {
    const app = alone[name];
    console.log(
      `|   the app alone in a loop (bench/peers/asgi_loop.py): ${app.toFixed(2)} µs; ` +
        `siphon-deno's Python around it ${(micros - app).toFixed(2)} µs | | | | |`,
    );
  }
  if (Deno.env.get("BENCH_BY_FUNCTION")) {
    const rows = py.globals.get("_by_function")(requests).toJs() as [string, number][];
    for (const [fn, n] of rows) console.log(`|   ${fn} |  | ${n.toFixed(1)} |  |  |`);
  }
}
if (project) Deno.removeSync(project, { recursive: true });
