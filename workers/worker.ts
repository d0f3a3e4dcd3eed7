/**
 * A request worker: its own Pyodide, the user's script, the compiled route table and every
 * listener (reusePort). Boot happens in two steps so that no worker accepts before all of them
 * are ready: `boot` → `prepared` (Python loaded, script imported, on_startup done), then
 * `listen` → `listening`.
 *
 * Boundary: the request path lives here and in ./serve.ts; the supervisor only sends the
 * messages of src/protocol.ts.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { PyodideAPI } from "pyodide";
import type { PyProxy } from "pyodide/ffi";
import type { Config } from "../src/config/load.ts";
import { errorResponse } from "../src/http/errors.ts";
import { createLogger } from "../src/log.ts";
import type { FromWorker, ToWorker, WorkerStats } from "../src/protocol.ts";
import { readSiphonPackage } from "../src/pyodide/assets.ts";
import { type RouteDef, Router } from "../src/router/router.ts";
import { parseTemplate } from "../src/router/template.ts";
import { Bridge } from "./bridge.ts";
import { DeadlineClock } from "./deadlines.ts";
import { mountFolders } from "./mounts.ts";
import { loadPython } from "./python_runtime.ts";
import { type RequestContext, startListeners } from "./serve.ts";

type Boot = Extract<ToWorker, { type: "boot" }>;

let state: {
  id: number;
  config: Config;
  py: PyodideAPI;
  runtime: PyProxy;
  ctx: RequestContext;
  servers: Deno.HttpServer[];
} | null = null;

const post = (msg: FromWorker) => self.postMessage(msg);

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  if (msg.type === "boot") {
    try {
      const t0 = performance.now();
      const mode = await boot(msg);
      post({ type: "prepared", id: msg.id, python: mode, ms: performance.now() - t0 });
    } catch (e) {
      post({ type: "fatal", id: msg.id, message: errorText(e) });
    }
  } else if (msg.type === "listen" && state) {
    const s = state;
    let bound = 0;
    try {
      s.servers = await startListeners({
        servers: s.config.servers,
        ctx: s.ctx,
        onListen: () => {
          if (++bound === s.config.servers.length) post({ type: "listening", id: s.id });
        },
      });
    } catch (e) {
      post({ type: "fatal", id: s.id, message: `Cannot listen: ${errorText(e)}` });
    }
  } else if (msg.type === "stats" && state) {
    post({ type: "stats", stats: memoryStats(state) });
  } else if (msg.type === "stop" && state) {
    const s = state;
    await Promise.race([
      Promise.all(s.servers.map((server) => server.shutdown())),
      new Promise((resolve) => setTimeout(resolve, msg.graceMs)),
    ]);
    await (s.runtime.shutdown() as Promise<void>).catch((e: unknown) =>
      s.ctx.log.error(errorText(e))
    );
    s.ctx.clock.stop();
    post({ type: "stopped", id: s.id });
  }
};

// A Python exception escaping an asyncio callback must not kill the worker.
self.addEventListener("error", (e) => {
  e.preventDefault();
  state?.ctx.log.error(`uncaught error in worker: ${e.message}`);
});
self.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  state?.ctx.log.error(`unhandled rejection in worker: ${errorText(e.reason)}`);
});

async function boot(msg: Boot): Promise<"snapshot" | "cold"> {
  const { config } = msg;
  const log = createLogger({
    level: config.log.level,
    format: config.log.format,
    source: `w${msg.id}`,
  });
  const { py, mode } = await loadPython({
    files: await readSiphonPackage(),
    env: msg.env,
    log,
    snapshot: msg.snapshot,
  });
  const interrupt = new Int32Array(msg.control.interrupt);
  py.setInterruptBuffer(interrupt);
  mountFolders(py, config, errorText);
  const runtime: PyProxy = py.pyimport("siphon._runtime");
  runtime.attach(
    {
      log: (level: string, text: string) => log.at(level, text),
      wait: (ms: number) => Atomics.wait(interrupt, 0, 0, ms),
    },
    JSON.stringify({ ...msg.env, SIPHON_WORKER: String(msg.id) }),
  );
  const decorated: [string, string[], string][] = JSON.parse(runtime.load_script(config.script));
  const router = compileRoutes(config, decorated, runtime);
  const clock = new DeadlineClock(new Float64Array(msg.control.clock));
  const bridge = new Bridge(py, errorResponse);
  interrupt[0] = 0;
  await runtime.startup();
  clock.start();
  state = {
    id: msg.id,
    config,
    py,
    runtime,
    ctx: { router, bridge, clock, interrupt, log },
    servers: [],
  };
  return mode;
}

/** Memory after a full collection in V8 (needs --expose-gc) and in Python. */
function memoryStats(s: NonNullable<typeof state>): WorkerStats {
  (globalThis as { gc?: () => void }).gc?.();
  const pyObjects: number = s.runtime.memory_stats();
  // deno-lint-ignore no-explicit-any
  const heap8 = (s.py as any)._module?.HEAP8 as Uint8Array | undefined;
  return {
    id: s.id,
    heapUsed: Deno.memoryUsage().heapUsed,
    wasmBytes: heap8?.byteLength ?? 0,
    pyObjects,
  };
}

function compileRoutes(
  config: Config,
  decorated: [string, string[], string][],
  runtime: PyProxy,
): Router {
  const defs: RouteDef[] = [
    ...config.routes.map((r, id) => ({
      template: r.path,
      methods: r.methods,
      id,
      source: r.source,
    })),
    ...decorated.map(([template, methods, source], i) => ({
      template,
      methods,
      id: config.routes.length + i,
      source,
    })),
  ];
  const router = Router.compile(defs);
  const entries = defs.map((d) => {
    const params = parseTemplate(d.template).flatMap((s) =>
      s.kind === "static" ? [] : [[s.name, s.kind === "param" ? s.type : "str"]]
    );
    const handler = d.id < config.routes.length
      ? config.routes[d.id].handler
      : d.id - config.routes.length;
    return [d.source, handler, params, `${d.methods.join(",")} ${d.template}`];
  });
  runtime.install(JSON.stringify(entries));
  return router;
}

function errorText(e: unknown): string {
  if (e && typeof e === "object" && "type" in e && e.type === "ScriptError") {
    // A PythonError's message is the Python traceback; keep just the ScriptError text.
    const text = String((e as { message?: unknown }).message);
    const at = text.lastIndexOf("ScriptError: ");
    return at === -1 ? text : text.slice(at + "ScriptError: ".length).trimEnd();
  }
  if (e && typeof e === "object" && "type" in e) {
    const text = String((e as { message?: unknown }).message).trimEnd();
    return text.slice(text.lastIndexOf("\n") + 1);
  }
  if (e instanceof Error) return e.message;
  if (e && typeof e === "object" && "errno" in e) return `file system error, errno ${e.errno}`;
  return String(e);
}
