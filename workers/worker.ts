/**
 * A request worker: every listener (reusePort) and one *generation* at a time — a config, its
 * own Pyodide with the user's script imported, and the compiled route table. A reload builds the
 * next generation beside the serving one (`prepare`), then swaps it in (`commit`); requests in
 * flight finish on the generation they started on, and listeners whose address is unchanged are
 * never closed. Boot is the first prepare + commit; at boot each worker commits as soon as it
 * has prepared (src/supervisor/generations.ts `boot`). The interpreter of the first generation
 * starts loading as soon as the worker is told its snapshot (`init`), before the config comes.
 *
 * Boundary: the request path lives in ./serve/, a generation is built by
 * ./host/generation.ts; the supervisor only sends src/protocol.ts messages.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { PyodideAPI } from "pyodide";
import type { PyProxy } from "pyodide/ffi";
import type { Config } from "../src/config/load.ts";
import {
  createHeldLogger,
  createLogger,
  type HeldLogger,
  LogBudget,
  type Logger,
} from "../src/log.ts";
import type { FromWorker, ToWorker } from "../src/protocol.ts";
import { readSiphonPackage } from "../src/pyodide/assets.ts";
import type { SnapshotFile } from "../src/pyodide/snapshot_file.ts";
import { logMarks, mark } from "../src/startup.ts";
import { DeadlineClock } from "./serve/deadlines.ts";
import { buildGeneration as buildGenerationIn, type PythonServices } from "./host/generation.ts";
import { workerLife } from "./serve/life.ts";
import { Outbound } from "./host/outbound.ts";
import { loadRedis, RedisCaches } from "./host/redis_cache.ts";
import { PubSubs } from "./host/pubsub.ts";
import { fastScheduler, underDeadline } from "./host/scheduler.ts";
import { errorText } from "./host/error_text.ts";
import { interpreterAlive, loadPython, preloadPyodide } from "./host/python.ts";
import { cacheCalls } from "./host/cache_calls.ts";
import { Listeners } from "./serve/listeners.ts";
import { lockDown } from "./host/lockdown.ts";
import { memoryStats, memoryVerdict } from "./host/memory.ts";
import { spanNamer } from "./serve/trace.ts";
import type { RequestContext, WorkerLife } from "./serve/context.ts";

lockDown(); // before any Python: see ./host/lockdown.ts
mark("worker module loaded");
// What loading Pyodide imports, imported while this worker waits for its snapshot and wasm.
preloadPyodide();

type Init = Extract<ToWorker, { type: "init" }>;

/** One config + interpreter + route table. */
interface Generation {
  python: "snapshot" | "cold";
  config: Config;
  py: PyodideAPI;
  runtime: PyProxy;
  ctx: RequestContext;
}

let init: Init | null = null;
/** The first interpreter, loading from the moment the worker knows its snapshot. */
let headStart: PythonStart | null = null;
let interrupt: Int32Array;
let kill: Int32Array;
let clock: DeadlineClock;
let current: Generation | null = null;
let pending: Generation | null = null;
/** This worker's listeners, kept accepting; the supervisor hears when one goes down or back up. */
const listeners = new Listeners({
  onChange: (listen, up, cause) =>
    post({ type: "listener", id: init?.id ?? -1, listen, up, cause }),
});
let recycleAsked = false;
const life: WorkerLife = workerLife({
  onRequest: () => {
    const max = current?.config.recycle.max_requests ?? 0;
    if (max > 0 && life.requests >= max) askRecycle(`served ${life.requests} requests`);
  },
});

/** The private channel to the supervisor (src/supervisor/spawn.ts), kept out of Python's reach. */
let channel: MessagePort | null = null;
const post = (msg: FromWorker) => channel?.postMessage(msg);
/** This worker's log allowance (`log.max_bytes_per_sec`), kept across its generations. */
const logBudget = new LogBudget();
life.metrics.logCounts = () => ({ cut: logBudget.cutTotal, dropped: logBudget.droppedTotal });

const outbound = new Outbound();
const schedule = fastScheduler();
const redis = new RedisCaches(createLogger({ source: "redis" }));
/** siphon.pubsub: one per backend, shared by every generation of this worker. */
const pubsubs = new PubSubs(
  life.metrics,
  (topic, message) => post({ type: "publish", topic, message }),
);

// The first message comes on the thread's own channel and hands over the private one; every
// later message comes on that one (a script can post on the thread's channel, never on it).
self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  if (msg.type !== "init" || init) return;
  self.onmessage = null;
  init = msg;
  channel = msg.port;
  channel.onmessage = (e: MessageEvent<ToWorker>) => handle(e.data);
  interrupt = new Int32Array(msg.control.interrupt, 0, 1);
  kill = new Int32Array(msg.control.interrupt, 4, 1);
  clock = new DeadlineClock(new Float64Array(msg.control.clock));
  // Python does not depend on the config: load it while the supervisor reads that.
  headStart = startPython();
};

/** One message from the supervisor. */
async function handle(msg: ToWorker): Promise<void> {
  const id = init?.id ?? -1;
  switch (msg.type) {
    case "prepare":
      return await prepare(msg);
    case "commit":
      try {
        await commit();
        mark("listening");
        if (current) logMarks(current.ctx.log);
        current?.ctx.log.flush();
        post({ type: "committed", id });
      } catch (e) {
        post({ type: "commit_failed", id, message: `Cannot listen: ${errorText(e)}` });
      }
      return;
    case "check":
      try {
        const checked = await buildGeneration(msg.config, { startup: false, env: msg.env });
        const missing: string[] = JSON.parse(checked.runtime.unresolved_imports(msg.config.script));
        if (missing.length > 0) throw new Error(missing.join("\n"));
        post({ type: "checked", id, routes: checked.ctx.labels.length });
      } catch (e) {
        post({ type: "check_failed", id, message: errorText(e) });
      }
      return;
    case "abort":
      pending = null;
      post({ type: "aborted", id });
      return;
    case "metrics":
      post({ type: "metrics", id, snapshot: life.metrics.snapshot() });
      return;
    case "stats":
      if (!current) return;
      clock.busy(true);
      try {
        post({ type: "stats", stats: memoryStats(id, current.py, current.runtime) });
      } finally {
        clock.busy(false);
      }
      return;
    case "published":
      pubsubs.relayed(msg.topic, msg.message);
      return;
    case "stop":
      await stop(msg.graceMs, msg.runShutdownHooks);
      post({ type: "stopped", id });
      return;
  }
}

/** Builds the next generation beside the serving one (the supervisor commits it later). */
async function prepare(msg: Extract<ToWorker, { type: "prepare" }>): Promise<void> {
  const id = init?.id ?? -1;
  clock.busy(true);
  try {
    const t0 = performance.now();
    const { config, snapshot, env, tracing } = msg;
    pending = await buildGeneration(config, { snapshot, env, tracing });
    pending.ctx.log.flush(); // boot lines come before the supervisor's "serving"
    const routes = pending.ctx.labels.length;
    post({ type: "prepared", id, python: pending.python, ms: performance.now() - t0, routes });
  } catch (e) {
    pending = null;
    post({ type: "prepare_failed", id, message: errorText(e) });
  } finally {
    clock.busy(false);
  }
}

// A Python exception escaping an asyncio callback must not kill the worker; the interpreter
// exiting there (the watchdog's kill reaching a background task) must end it.
self.addEventListener("error", (e) => {
  e.preventDefault();
  uncaught(`uncaught error in worker: ${e.message}`);
});
self.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  uncaught(`unhandled rejection in worker: ${errorText(e.reason)}`);
});

function uncaught(text: string): void {
  current?.ctx.log.error(text);
  if (current && !interpreterAlive(current.py)) {
    die(`the interpreter ended outside a request (${text})`);
  }
}

/** How a generation is built: its Python environment, and what the supervisor decided. */
interface BuildOptions {
  /** Python's `os.environ` (`python.env`), SIPHON_WORKER added here. */
  env: Record<string, string>;
  /** Run on_startup (serving); `check` only imports. @default true */
  startup?: boolean;
  /** The snapshot to start from. @default the one of the worker's init */
  snapshot?: SnapshotFile | null;
  /** Name request spans after routes (OpenTelemetry on). @default false */
  tracing?: boolean;
}

/**
 * Loads a fresh interpreter, imports the script, compiles routes, runs on_startup (unless
 * `startup` is false: `check` only imports).
 */
async function buildGeneration(config: Config, options: BuildOptions): Promise<Generation> {
  const { env, startup = true, snapshot = init?.snapshot ?? null, tracing = false } = options;
  if (!init) throw new Error("worker not initialised");
  logBudget.rate = config.log.max_bytes_per_sec;
  const log = createLogger({
    level: config.log.level,
    format: config.log.format,
    source: `w${init.id}`,
    buffered: true,
    maxLineBytes: config.log.max_line_bytes,
    budget: logBudget,
  });
  if (Object.values(config.cache).some((c) => c.backend === "redis")) {
    loadRedis().catch(() => {}); // loads beside the interpreter; a failure shows on first use
  }
  // The head start restored the snapshot this worker was spawned with; a generation whose
  // python.packages differ starts from another one.
  const head = headStart;
  headStart = null;
  const reuse = head !== null && head.snapshot?.path === snapshot?.path;
  if (head && !reuse) mark("head start dropped: another snapshot wanted");
  const start = reuse ? head : startPython(snapshot);
  start.log.release(log);
  const { py, mode } = await start.python;
  const { context, runtime } = buildGenerationIn({
    config,
    python: py,
    host: {
      services: services(config, log),
      env: { ...env, SIPHON_WORKER: String(init.id) },
      log,
      clock,
      interrupt,
      life,
      onFatal: die,
      onHandshakeError: (failure) => post({ type: "handshake_failed", failure }),
      traceRoute: tracing ? await spanNamer() : null,
    },
  });
  mark("script imported, routes compiled");
  if (startup) {
    await runtime.startup();
    mark("on_startup done");
  }
  logMarks(log);
  return { python: mode, config, py, runtime, ctx: context };
}

/** An interpreter on its way, and the logger its load (and later its stdout) writes to. */
interface PythonStart {
  python: ReturnType<typeof loadPython>;
  log: HeldLogger;
  snapshot: SnapshotFile | null;
}

/** Starts loading an interpreter from a snapshot; its lines wait for the generation's log. */
function startPython(snapshot = init!.snapshot): PythonStart {
  const log = createHeldLogger();
  const python = readSiphonPackage().then((files) =>
    loadPython({ files, env: {}, log, snapshot, wasm: init!.wasm })
  ).then((loaded) => {
    mark(loaded.mode === "snapshot" ? "python restored from the snapshot" : "python loaded cold");
    return loaded;
  });
  python.catch(() => {}); // awaited (and reported) by the prepare that takes it
  return { python, log, snapshot };
}

/** What this worker's Python calls: its log, sleep, outbound HTTP and the caches. */
function services(config: Config, log: Logger): PythonServices {
  return {
    log: (level, text, rid) => log.at(level, text, rid ? { request_id: rid } : undefined),
    wait: (ms) => Atomics.wait(interrupt, 0, 0, ms),
    killed: () => Atomics.load(kill, 0) === 1,
    schedule: underDeadline(
      schedule,
      () => clock,
      () => interrupt,
      Math.max(...config.servers.map((s) => s.request_timeout_ms)),
      () => served.has(config),
    ),
    fetch: outbound.fetch.bind(outbound),
    fetchStream: outbound.fetchStream.bind(outbound),
    readStream: outbound.read.bind(outbound),
    closeStream: outbound.close.bind(outbound),
    ...cacheCalls(config, {
      channel: () => init!.control.cache,
      post: (name, call) => post({ type: "cache", name, call }),
      redis,
      metrics: life.metrics,
    }),
    sockets: life.sockets.forPython(),
    pubsub: pubsubs.for(config.pubsub, log).forPython(),
  };
}

/** The configs of the generations that have served (their asyncio steps run under a deadline). */
const served = new WeakSet<Config>();

/**
 * Makes the pending generation current: existing listeners get its settings and context in
 * place; listeners it adds are opened (before any is closed); listeners it drops are closed
 * after their in-flight requests finish.
 */
async function commit(): Promise<void> {
  const next = pending;
  if (!next) throw new Error("nothing prepared to commit");
  await listeners.commit(next.config.servers, next.ctx);
  if (!current) {
    clock.start();
    setInterval(checkMemory, 1000);
  }
  const replaced = current;
  current = next;
  served.add(next.config);
  pending = null;
  // A fresh interpreter starts the recycling counts again; the old one's wasm memory (and the
  // new one's load buffers) are freed once V8 collects them: a full collection, once serving
  // (needs --expose-gc, which the deno tasks pass).
  life.requests = 0;
  recycleAsked = false;
  setTimeout(() => (globalThis as { gc?: () => void }).gc?.(), replaced ? 1000 : 200);
}

/** Asks the supervisor, once, for a fresh interpreter to take over from this one. */
function askRecycle(reason: string): void {
  if (recycleAsked || dead) return;
  recycleAsked = true;
  post({ type: "recycle", id: init?.id ?? -1, reason });
}

/** `recycle.max_memory_mb`: a fresh interpreter past it, a replacement past twice it. */
function checkMemory(): void {
  if (!current || dead) return;
  const { act, why } = memoryVerdict(current.py, current.config.recycle.max_memory_mb);
  if (act === "replace") die(why);
  else if (act === "recycle" && !recycleAsked) askRecycle(why);
}

let dead = false;

/** The interpreter failed: stop accepting (the kernel sends new connections to the other
 * workers) and ask the supervisor for a replacement. */
function die(cause: string): void {
  if (dead) return;
  dead = true;
  current?.ctx.log.flush();
  // The sockets' close frames go out before the listeners (whose shutdown would say 1001) close.
  life.sockets.closeAll(1011, "server error").then(() => listeners.stopAll());
  post({ type: "died", id: init?.id ?? -1, cause });
}

/**
 * Closes WebSockets (1001), stops accepting, waits for in-flight requests and socket handlers
 * up to the grace, then runs on_shutdown.
 */
async function stop(graceMs: number, runShutdownHooks: boolean): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await life.sockets.closeAll(1001, "server shutting down");
  await Promise.race([
    Promise.all([listeners.stopAll(), life.sockets.drained()]),
    new Promise((resolve) => timer = setTimeout(resolve, graceMs)),
  ]);
  clearTimeout(timer);
  if (current && runShutdownHooks) {
    const log = current.ctx.log;
    await (current.runtime.shutdown() as Promise<void>).catch((e: unknown) =>
      log.error(errorText(e))
    );
  }
  clock?.stop();
  current?.ctx.log.flush();
}
