/**
 * The one builder of a generation — a config put to work in an interpreter: the host folders
 * Python sees, the services it calls (attached once per interpreter), the user's script
 * imported, the route table compiled on both sides, the bridge, and the request context the
 * request path reads. The request worker, the script test worker and every bench build their
 * generations here, so a test or a bench runs what serving runs.
 *
 * Boundary: worker-side, off the request path; `on_startup` is the caller's to run (serving
 * does, `check` and the test harness decide for themselves).
 *
 * @module
 */
import type { PyodideAPI } from "pyodide";
import type { PyProxy } from "pyodide/ffi";
import { cacheKind } from "../../src/cache/caches.ts";
import type { Config } from "../../src/config/load.ts";
import type { HandshakeFailure } from "../../src/protocol.ts";
import type { Logger } from "../../src/log.ts";
import { Bridge } from "../bridge/bridge.ts";
import { attach, type PythonServices, type RuntimeEntries } from "../bridge/contract.ts";
import { BodySources } from "../bridge/streams.ts";
import type { RequestContext, WorkerLife } from "../serve/context.ts";
import type { DeadlineClock } from "../base/deadlines.ts";
import type { Upgrade } from "../serve/context.ts";
import { errorText } from "../base/error_text.ts";
import { mountFolders } from "../../src/pyodide/mounts.ts";
import { type CompiledRoutes, compileRoutes } from "./routes.ts";

/** Where the generation lives: the thread's services, identity and lasting state. */
export interface GenerationHost {
  /** What Python may call (the bridge adds `readBody`, `requestPart` and `routeLabel`). */
  services: Omit<PythonServices, "readBody" | "requestPart" | "routeLabel">;
  /** Python's `os.environ`. */
  env: Record<string, string>;
  log: Logger;
  clock: DeadlineClock;
  /** Pyodide's interrupt flag (shared with the watchdog). */
  interrupt: Int32Array;
  life: WorkerLife;
  onFatal: (cause: string) => void;
  onHandshakeError?: (failure: HandshakeFailure) => void;
  traceRoute?: RequestContext["traceRoute"];
  /** How accepted WebSocket upgrades become sockets (default `Deno.upgradeWebSocket`). */
  upgrade?: Upgrade;
}

/** Options for {@link buildGeneration}. */
export interface GenerationOptions {
  config: Config;
  /** A started interpreter (src/snapshot/restore.ts); a test harness reuses one for many. */
  python: PyodideAPI;
  host: GenerationHost;
}

/** A generation ready to serve. */
export interface Generation {
  context: RequestContext;
  /** Python's `siphon._runtime` (startup and shutdown hooks, memory stats). */
  runtime: RuntimeEntries & PyProxy;
  routes: CompiledRoutes;
}

/** Per interpreter: its bridge and runtime, and the folder of the script it loaded last. */
const interpreters = new WeakMap<
  PyodideAPI,
  { bridge: Bridge; runtime: Generation["runtime"]; folder: string | null }
>();

/**
 * Connects an interpreter to its thread, once: the interrupt flag, the services Python calls and
 * `os.environ` (../bridge/contract.ts `attach`), and the bridge. {@link buildGeneration} does it when needed; a thread that runs
 * Python before its first generation (the test runner) calls it first.
 *
 * @param py the interpreter
 * @param host the thread's services and state
 * @returns the interpreter's bridge
 */
export function attachHost(py: PyodideAPI, host: GenerationHost): Bridge {
  let known = interpreters.get(py);
  if (!known) {
    py.setInterruptBuffer(host.interrupt);
    const sources = new BodySources();
    const readBody = (id: number) => sources.read(id);
    const late: { bridge?: Bridge } = {}; // the bridge answers `requestPart` once it exists
    const requestPart = (seq: string, part: string) => late.bridge!.part(seq, part);
    const routeLabel = (seq: string, label: string) => late.bridge!.label(seq, label);
    const python = attach(py, { ...host.services, readBody, requestPart, routeLabel }, host.env);
    const bridge = late.bridge = new Bridge(python.bridge, {
      sources,
      clock: host.clock,
      interrupt: host.interrupt,
      onLimit: (limit) => host.life.metrics.hit(limit),
    });
    known = { bridge, runtime: python.runtime, folder: null };
    interpreters.set(py, known);
  }
  return known.bridge;
}

/**
 * Builds a generation of `config` in `python`.
 *
 * @param options config, interpreter, host
 * @returns the request context and Python's runtime module
 * @throws {Error} with file:line when the script cannot be imported or its routes compiled
 */
export function buildGeneration(options: GenerationOptions): Generation {
  const { config, python: py, host } = options;
  const bridge = attachHost(py, host);
  const known = interpreters.get(py)!;
  const runtime = known.runtime;
  mountFolders(py, config, errorText);
  runtime.configure(
    JSON.stringify(config.clients),
    JSON.stringify(
      Object.fromEntries(Object.entries(config.cache).map(([n, c]) => [n, cacheKind(c)])),
    ),
  );
  // Start clean: the script loaded before in this interpreter (the test harness loads one after
  // another) and modules already imported from the script's folder (a test may import them).
  const folder = config.script.slice(0, config.script.lastIndexOf("/"));
  if (known.folder !== null && known.folder !== folder) runtime.forget_script(known.folder);
  runtime.forget_script(folder);
  known.folder = folder;
  const code = JSON.stringify(config.code);
  const app = config.app;
  const decorated = app?.only ? [] : JSON.parse(runtime.load_script(config.script, code));
  if (app) runtime.load_app(app.spec, app.source, app.folder, app.only ? code : "{}");
  const routes = compileRoutes(config, decorated, runtime);
  host.life.metrics.countMethods(routes.defs.flatMap((d) => d.methods));
  host.life.metrics.countMethods(config.admin?.metricsMethods ?? []);
  host.interrupt[0] = 0;
  const context: RequestContext = {
    router: routes.router,
    bridge,
    clock: host.clock,
    interrupt: host.interrupt,
    log: host.log,
    onFatal: host.onFatal,
    onHandshakeError: host.onHandshakeError ?? (() => {}),
    life: host.life,
    labels: routes.labels,
    app: routes.app,
    streaming: routes.streaming,
    websocket: routes.websocket,
    upgrade: host.upgrade ?? Deno.upgradeWebSocket,
    metrics: config.admin?.metrics ?? false,
    access: config.log.access,
    traceRoute: host.traceRoute ?? null,
  };
  return { context, runtime, routes };
}
