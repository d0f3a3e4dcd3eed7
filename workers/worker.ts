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
import { createHeldLogger, createLogger, type HeldLogger, type Logger } from "../src/log.ts";
import { ask } from "../src/cache/channel.ts";
import type { CacheCall } from "../src/cache/memory_store.ts";
import type { FromWorker, ToWorker, WorkerStats } from "../src/protocol.ts";
import { readSiphonPackage } from "../src/pyodide/assets.ts";
import type { SnapshotFile } from "../src/pyodide/snapshot_file.ts";
import { logMarks, mark } from "../src/startup.ts";
import { DeadlineClock } from "./serve/deadlines.ts";
import { buildGeneration as buildGenerationIn, type PythonServices } from "./host/generation.ts";
import type { RunningListener } from "./serve/mtls.ts";
import { workerLife } from "./serve/life.ts";
import { Outbound } from "./host/outbound.ts";
import { loadRedis, RedisCaches } from "./host/redis_cache.ts";
import { PubSubs } from "./host/pubsub.ts";
import { fastScheduler, underDeadline } from "./host/scheduler.ts";
import { errorText } from "./host/error_text.ts";
import { loadPython, preloadPyodide } from "./host/python.ts";
import { type Listener, listenerFor, listenerKey, startListener } from "./serve/listener.ts";
import type { RequestContext, WorkerLife } from "./serve/context.ts";

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
const listeners = new Map<string, { listener: Listener; http: RunningListener }>();
let recycleAsked = false;
const life: WorkerLife = workerLife({
  onRequest: () => {
    const max = current?.config.recycle.max_requests ?? 0;
    if (max > 0 && life.requests >= max) askRecycle(`served ${life.requests} requests`);
  },
});

const post = (msg: FromWorker) => self.postMessage(msg);

/** `siphon.cache` on a memory cache: the supervisor holds the store; returns the JSON answer. */
function cacheCall(name: string, callJson: string): string {
  const call: CacheCall = JSON.parse(callJson);
  return ask(init!.control.cache, () => post({ type: "cache", name, call }), 5000);
}

const outbound = new Outbound();
const schedule = fastScheduler();
const redis = new RedisCaches(createLogger({ source: "redis" }));
/** siphon.pubsub: one per backend, shared by every generation of this worker. */
const pubsubs = new PubSubs(
  life.metrics,
  (topic, message) => post({ type: "publish", topic, message }),
);

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  const id = init?.id ?? -1;
  switch (msg.type) {
    case "init":
      init = msg;
      interrupt = new Int32Array(msg.control.interrupt, 0, 1);
      kill = new Int32Array(msg.control.interrupt, 4, 1);
      clock = new DeadlineClock(new Float64Array(msg.control.clock));
      // Python does not depend on the config: load it while the supervisor reads that.
      headStart = startPython();
      return;
    case "prepare":
      try {
        const t0 = performance.now();
        pending = await buildGeneration(msg.config, { snapshot: msg.snapshot });
        pending.ctx.log.flush(); // boot lines come before the supervisor's "serving"
        post({ type: "prepared", id, python: pending.python, ms: performance.now() - t0 });
      } catch (e) {
        pending = null;
        post({ type: "prepare_failed", id, message: errorText(e) });
      }
      return;
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
        const checked = await buildGeneration(msg.config, { startup: false });
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
      if (current) post({ type: "stats", stats: memoryStats(current) });
      return;
    case "published":
      pubsubs.relayed(msg.topic, msg.message);
      return;
    case "stop":
      await stop(msg.graceMs, msg.runShutdownHooks);
      post({ type: "stopped", id });
      return;
  }
};

// A Python exception escaping an asyncio callback must not kill the worker.
self.addEventListener("error", (e) => {
  e.preventDefault();
  current?.ctx.log.error(`uncaught error in worker: ${e.message}`);
});
self.addEventListener("unhandledrejection", (e) => {
  e.preventDefault();
  current?.ctx.log.error(`unhandled rejection in worker: ${errorText(e.reason)}`);
});

/**
 * Loads a fresh interpreter, imports the script, compiles routes, runs on_startup (unless
 * `startup` is false: `check` only imports).
 */
async function buildGeneration(
  config: Config,
  { startup = true, snapshot = init?.snapshot ?? null } = {},
): Promise<Generation> {
  if (!init) throw new Error("worker not initialised");
  const log = createLogger({
    level: config.log.level,
    format: config.log.format,
    source: `w${init.id}`,
    buffered: true,
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
      env: { ...init.env, SIPHON_WORKER: String(init.id) },
      log,
      clock,
      interrupt,
      life,
      onFatal: die,
      onHandshakeError: (failure) => post({ type: "handshake_failed", failure }),
      traceRoute: await spanNamer(),
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
    loadPython({ files, env: init!.env, log, snapshot, wasm: init!.wasm })
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
    cache: cacheCall,
    cacheAsync: (name, callJson) => {
      const c = config.cache[name];
      return redis.run({ url: c.url!, prefix: c.prefix }, JSON.parse(callJson));
    },
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
  const wanted = new Map(next.config.servers.map((s) => [listenerKey(s), s]));
  const opened: [string, { listener: Listener; http: RunningListener }][] = [];
  try {
    for (const [key, server] of wanted) {
      if (listeners.has(key)) continue;
      const listener = listenerFor(server, next.ctx);
      opened.push([key, { listener, http: await startListener(listener) }]);
    }
  } catch (e) {
    await Promise.all(opened.map(([, l]) => l.http.shutdown()));
    throw e;
  }
  for (const [key, entry] of listeners) {
    const server = wanted.get(key);
    if (server) {
      listenerFor(server, next.ctx, entry.listener);
    } else {
      listeners.delete(key);
      entry.http.shutdown().catch(() => {});
      next.ctx.log.info(`closed listener ${key}`);
    }
  }
  for (const [key, entry] of opened) listeners.set(key, entry);
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

/** What this worker holds: its interpreter's wasm memory plus its V8 heap. */
function checkMemory(): void {
  const max = current?.config.recycle.max_memory_mb ?? 0;
  if (!current || max <= 0 || recycleAsked) return;
  // deno-lint-ignore no-explicit-any
  const wasm = ((current.py as any)._module?.HEAP8?.byteLength ?? 0) as number;
  const mb = (wasm + Deno.memoryUsage().heapTotal) / 1048576;
  if (mb > max) askRecycle(`holds ${Math.round(mb)} MiB (wasm + V8 heap) > ${max}`);
}

/**
 * With Deno's OpenTelemetry on (`OTEL_DENO=true`), Deno.serve opens a span per request named
 * after the method; this renames it `GET /users/{id}` and sets `http.route`, as the HTTP
 * semantic conventions ask. Without it, the API is not even loaded.
 */
async function spanNamer(): Promise<RequestContext["traceRoute"]> {
  if (!/^(true|1)$/i.test(Deno.env.get("OTEL_DENO") ?? "")) return null;
  const { trace } = await import("@opentelemetry/api");
  return (method, template) => {
    const span = trace.getActiveSpan();
    if (!span) return;
    span.updateName(`${method} ${template}`);
    span.setAttribute("http.route", template);
  };
}

let dead = false;

/** The interpreter failed: stop accepting (the kernel sends new connections to the other
 * workers) and ask the supervisor for a replacement. */
function die(cause: string): void {
  if (dead) return;
  dead = true;
  current?.ctx.log.flush();
  // The sockets' close frames go out before the listeners (whose shutdown would say 1001) close.
  life.sockets.closeAll(1011, "server error").then(() => {
    for (const { http } of listeners.values()) http.shutdown().catch(() => {});
  });
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
    Promise.all(
      [...listeners.values()].map((l) => l.http.shutdown()).concat(life.sockets.drained()),
    ),
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

/** Memory after a full collection in V8 (needs --expose-gc) and in Python. */
function memoryStats(g: Generation): WorkerStats {
  (globalThis as { gc?: () => void }).gc?.();
  const pyObjects: number = g.runtime.memory_stats();
  // deno-lint-ignore no-explicit-any
  const heap8 = (g.py as any)._module?.HEAP8 as Uint8Array | undefined;
  return {
    id: init?.id ?? -1,
    heapUsed: Deno.memoryUsage().heapUsed,
    wasmBytes: heap8?.byteLength ?? 0,
    pyObjects,
  };
}
