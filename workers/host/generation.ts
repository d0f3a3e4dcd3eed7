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
import type { RequestContext, WorkerLife } from "../serve/context.ts";
import type { DeadlineClock } from "../serve/deadlines.ts";
import type { SocketsForPython, Upgrade } from "../serve/sockets.ts";
import { errorText } from "./error_text.ts";
import { mountFolders } from "./mounts.ts";
import type { PubSubForPython } from "./pubsub.ts";
import { type CompiledRoutes, compileRoutes } from "./routes.ts";

/** The functions Python calls into (`siphon._runtime.attach`). */
export interface PythonServices {
  /** A `log.*` line: level, text, request id ("" outside a request). */
  log(level: string, text: string, requestId: string): void;
  /** `time.sleep`'s wait: returns early when the interrupt flag is set. */
  wait(ms: number): unknown;
  /** Whether the watchdog asked the interpreter to exit at the next interrupt. */
  killed(): boolean;
  /** asyncio's scheduler (a MessageChannel one: no clamped zero-delay timers). */
  schedule?(callback: () => void, delayMs?: number): void;
  /** asyncio's steps may call `run_sync` (the script test runner); serving leaves it off, so
   * the watchdog's interrupt reaches a step that blocks. */
  stackSwitching?: boolean;
  fetch(...args: unknown[]): Promise<unknown>;
  fetchStream?(...args: unknown[]): Promise<unknown>;
  readStream?(id: number): Promise<unknown>;
  closeStream?(id: number): void;
  /** A `siphon.cache` call on a memory cache (answered synchronously). */
  cache?(name: string, callJson: string): string;
  /** A `siphon.cache` call on a redis cache. */
  cacheAsync?(name: string, callJson: string): Promise<string>;
  /** The worker's WebSockets (`siphon._websocket`). */
  sockets?: SocketsForPython;
  /** The worker's `siphon.pubsub`. */
  pubsub?: PubSubForPython;
}

/** Where the generation lives: the thread's services, identity and lasting state. */
export interface GenerationHost {
  services: PythonServices;
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
  /** A started interpreter (workers/host/python.ts); a test harness reuses one for many. */
  python: PyodideAPI;
  host: GenerationHost;
}

/** A generation ready to serve. */
export interface Generation {
  context: RequestContext;
  /** Python's `siphon._runtime` (startup and shutdown hooks, memory stats). */
  runtime: PyProxy;
  routes: CompiledRoutes;
}

/** Per interpreter: its bridge, and the folder of the script it loaded last. */
const interpreters = new WeakMap<PyodideAPI, { bridge: Bridge; folder: string | null }>();

/**
 * Connects an interpreter to its thread, once: the interrupt flag, the services Python calls,
 * `os.environ`, and the bridge. {@link buildGeneration} does it when needed; a thread that runs
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
    py.pyimport("siphon._runtime").attach(host.services, JSON.stringify(host.env));
    const bridge = new Bridge(py, {
      clock: host.clock,
      interrupt: host.interrupt,
      onLimit: (limit) => host.life.metrics.hit(limit),
    });
    known = { bridge, folder: null };
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
  const runtime: PyProxy = py.pyimport("siphon._runtime");
  const bridge = attachHost(py, host);
  const known = interpreters.get(py)!;
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
  const decorated = JSON.parse(runtime.load_script(config.script, JSON.stringify(config.code)));
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
    streaming: routes.streaming,
    websocket: routes.websocket,
    upgrade: host.upgrade ?? Deno.upgradeWebSocket,
    metrics: config.admin?.metrics ?? false,
    access: config.log.access,
    traceRoute: host.traceRoute ?? null,
  };
  return { context, runtime, routes };
}
