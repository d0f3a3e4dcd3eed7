/**
 * A request worker's state and its answer to each message from the supervisor: every listener
 * (reusePort) and one *generation* at a time — a config, its own Pyodide with the user's script
 * imported, and the compiled route table. A reload builds the next generation beside the serving
 * one (`prepare`), then swaps it in (`commit`); requests in flight finish on the generation they
 * started on, and listeners whose address is unchanged are never closed. Boot is the first
 * prepare + commit; at boot each worker commits as soon as it has prepared
 * (src/supervisor/generations.ts `boot`). The interpreter of the first generation starts loading
 * as soon as the worker is told its snapshot (`init`), before the config comes.
 *
 * Boundary: the thread program (workers/worker.ts) makes one {@link ServingWorker} and hands it
 * every message; the request path lives in ../serve/, a generation is built by
 * ../generation/generation.ts, what Python calls by ./serving_services.ts.
 *
 * @module
 */
import type { PyodideAPI } from "pyodide";
import type { PyProxy } from "pyodide/ffi";
import type { Config } from "../../src/config/load.ts";
import { createLogger, LogBudget } from "../../src/log.ts";
import type { FromWorker, ToWorker } from "../../src/protocol.ts";
import type { SnapshotFile } from "../../src/snapshot/file.ts";
import { interpreterAlive } from "../../src/snapshot/restore.ts";
import { logMarks, mark } from "../../src/start/marks.ts";
import { DeadlineClock } from "../base/deadlines.ts";
import { errorText } from "../base/error_text.ts";
import type { RuntimeEntries } from "../bridge/contract.ts";
import { buildGeneration } from "../generation/generation.ts";
import type { RequestContext, WorkerLife } from "../serve/context.ts";
import { workerLife } from "../serve/life.ts";
import { Listeners } from "../serve/listeners.ts";
import { spanNamer } from "../serve/trace.ts";
import { memoryStats, memoryVerdict } from "./memory.ts";
import { type PythonStart, startPython } from "./python_start.ts";
import { ServingServices } from "./serving_services.ts";

type Init = Extract<ToWorker, { type: "init" }>;
type Message<T extends ToWorker["type"]> = Extract<ToWorker, { type: T }>;

/** One config + interpreter + route table. */
interface Generation {
  python: "snapshot" | "cold";
  config: Config;
  py: PyodideAPI;
  runtime: RuntimeEntries & PyProxy;
  ctx: RequestContext;
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

/** One request worker. */
export class ServingWorker {
  readonly #init: Init;
  readonly #interrupt: Int32Array;
  readonly #clock: DeadlineClock;
  /** The first interpreter, loading from the moment the worker knows its snapshot. */
  #headStart: PythonStart | null;
  #current: Generation | null = null;
  #pending: Generation | null = null;
  /** Replaced generations whose ASGI lifespan shuts down once their last request is done. */
  readonly #retiring = new Set<Promise<void>>();
  /** This worker's listeners, kept accepting; the supervisor hears when one goes down or up. */
  readonly #listeners: Listeners;
  readonly #life: WorkerLife;
  /** This worker's log allowance (`log.max_bytes_per_sec`), kept across its generations. */
  readonly #logBudget = new LogBudget();
  readonly #services: ServingServices;
  #recycleAsked = false;
  #dead = false;

  /** @param init the supervisor's first message (src/supervisor/spawn.ts) */
  constructor(init: Init) {
    this.#init = init;
    this.#interrupt = new Int32Array(init.control.interrupt, 0, 1);
    this.#clock = new DeadlineClock(new Float64Array(init.control.clock));
    this.#listeners = new Listeners({
      onChange: (listen, up, cause) =>
        this.#post({ type: "listener", id: init.id, listen, up, cause }),
    });
    this.#life = workerLife({ onRequest: () => this.#counted() });
    this.#life.metrics.logCounts = () => ({
      cut: this.#logBudget.cutTotal,
      dropped: this.#logBudget.droppedTotal,
    });
    this.#services = new ServingServices({
      init,
      clock: this.#clock,
      interrupt: this.#interrupt,
      life: this.#life,
      post: (msg) => this.#post(msg),
    });
    // Python does not depend on the config: load it while the supervisor reads that.
    this.#headStart = startPython(init, init.snapshot);
  }

  /**
   * One message from the supervisor.
   *
   * @param msg the message
   */
  handle(msg: ToWorker): Promise<void> | void {
    switch (msg.type) {
      case "prepare":
        return this.#prepare(msg);
      case "commit":
        return this.#commit();
      case "check":
        return this.#check(msg);
      case "abort":
        this.#pending = null;
        return this.#post({ type: "aborted", id: this.#init.id });
      case "metrics":
        return this.#post({
          type: "metrics",
          id: this.#init.id,
          snapshot: this.#life.metrics.snapshot(),
        });
      case "stats":
        return this.#stats();
      case "published":
        return this.#services.pubsubs.relayed(msg.topic, msg.message);
      case "stop":
        return this.#stop(msg);
    }
  }

  /**
   * An error no request caught (a Python exception escaping an asyncio callback): logged; the
   * interpreter having exited there (the watchdog's kill reaching a background task) ends the
   * worker.
   *
   * @param text what happened
   */
  uncaught(text: string): void {
    const current = this.#current;
    current?.ctx.log.error(text);
    if (current && !interpreterAlive(current.py)) {
      this.#die(`the interpreter ended outside a request (${text})`);
    }
  }

  #post(msg: FromWorker): void {
    this.#init.port.postMessage(msg);
  }

  /** Builds the next generation beside the serving one (the supervisor commits it later). */
  async #prepare(msg: Message<"prepare">): Promise<void> {
    const id = this.#init.id;
    this.#clock.busy(true);
    try {
      const t0 = performance.now();
      const { config, snapshot, env, tracing } = msg;
      const next = this.#pending = await this.#build(config, { snapshot, env, tracing });
      next.ctx.log.flush(); // boot lines come before the supervisor's "serving"
      const routes = next.ctx.labels.length;
      const ms = performance.now() - t0;
      this.#post({ type: "prepared", id, python: next.python, ms, routes });
    } catch (e) {
      this.#pending = null;
      this.#post({ type: "prepare_failed", id, message: errorText(e) });
    } finally {
      this.#clock.busy(false);
    }
  }

  /** `check`: the generation built (script imported, routes compiled), never served. */
  async #check(msg: Message<"check">): Promise<void> {
    const id = this.#init.id;
    try {
      const checked = await this.#build(msg.config, { startup: false, env: msg.env });
      const missing: string[] = JSON.parse(checked.runtime.unresolved_imports(msg.config.script));
      if (missing.length > 0) throw new Error(missing.join("\n"));
      this.#post({ type: "checked", id, routes: checked.ctx.labels.length });
    } catch (e) {
      this.#post({ type: "check_failed", id, message: errorText(e) });
    }
  }

  /** Memory figures for `/debug`-style stats, measured while the watchdog looks away. */
  #stats(): void {
    const current = this.#current;
    if (!current) return;
    this.#clock.busy(true);
    try {
      this.#post({
        type: "stats",
        stats: memoryStats(this.#init.id, current.py, current.runtime),
      });
    } finally {
      this.#clock.busy(false);
    }
  }

  /**
   * Loads a fresh interpreter (or takes the head start), imports the script, compiles routes,
   * runs on_startup (unless `startup` is false: `check` only imports).
   */
  async #build(config: Config, options: BuildOptions): Promise<Generation> {
    const { env, startup = true, snapshot = this.#init.snapshot, tracing = false } = options;
    this.#logBudget.rate = config.log.max_bytes_per_sec;
    const log = createLogger({
      level: config.log.level,
      format: config.log.format,
      source: `w${this.#init.id}`,
      buffered: true,
      maxLineBytes: config.log.max_line_bytes,
      budget: this.#logBudget,
    });
    this.#services.prepare(config);
    const start = this.#takeStart(snapshot);
    start.log.release(log);
    const { py, mode } = await start.python;
    const { context, runtime } = buildGeneration({
      config,
      python: py,
      host: {
        services: this.#services.forPython(config, log),
        env: { ...env, SIPHON_WORKER: String(this.#init.id) },
        log,
        clock: this.#clock,
        interrupt: this.#interrupt,
        life: this.#life,
        onFatal: (cause) => this.#die(cause),
        onHandshakeError: (failure) => this.#post({ type: "handshake_failed", failure }),
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

  /** The head start restored the snapshot this worker was spawned with; a generation whose
   * python.packages differ starts from another one. */
  #takeStart(snapshot: SnapshotFile | null): PythonStart {
    const head = this.#headStart;
    this.#headStart = null;
    if (head !== null && head.snapshot?.path === snapshot?.path) return head;
    if (head) mark("head start dropped: another snapshot wanted");
    return startPython(this.#init, snapshot);
  }

  /** Makes the pending generation current, and tells the supervisor. */
  async #commit(): Promise<void> {
    try {
      await this.#swap();
    } catch (e) {
      const message = `Cannot listen: ${errorText(e)}`;
      this.#post({ type: "commit_failed", id: this.#init.id, message });
      return;
    }
    mark("listening");
    const log = this.#current?.ctx.log;
    if (log) logMarks(log);
    log?.flush();
    this.#post({ type: "committed", id: this.#init.id });
  }

  /**
   * Existing listeners get the pending generation's settings and context in place; listeners
   * it adds are opened (before any is closed); listeners it drops are closed after their
   * in-flight requests finish.
   */
  async #swap(): Promise<void> {
    const next = this.#pending;
    if (!next) throw new Error("nothing prepared to commit");
    await this.#listeners.commit(next.config.servers, next.ctx);
    if (!this.#current) {
      this.#clock.start();
      setInterval(() => this.#checkMemory(), 1000);
    }
    const replaced = this.#current;
    this.#current = next;
    this.#services.serving(next.config);
    this.#pending = null;
    if (replaced) this.#retire(replaced);
    // A fresh interpreter starts the recycling counts again; the old one's wasm memory (and the
    // new one's load buffers) are freed once V8 collects them: a full collection, once serving
    // (needs --expose-gc, which the deno tasks pass).
    this.#life.requests = 0;
    this.#recycleAsked = false;
    setTimeout(() => (globalThis as { gc?: () => void }).gc?.(), replaced ? 1000 : 200);
  }

  /** A reload replaced `old`: its app's lifespan shuts down once its last request is done. */
  #retire(old: Generation): void {
    const log = old.ctx.log;
    const done: Promise<void> = (old.runtime.retire() as Promise<void>)
      .catch((e: unknown) => log.error(errorText(e)))
      .finally(() => {
        log.flush();
        this.#retiring.delete(done);
      });
    this.#retiring.add(done);
  }

  /** After each response: `recycle.max_requests`. */
  #counted(): void {
    const max = this.#current?.config.recycle.max_requests ?? 0;
    const served = this.#life.requests;
    if (max > 0 && served >= max) this.#askRecycle(`served ${served} requests`);
  }

  /** Asks the supervisor, once, for a fresh interpreter to take over from this one. */
  #askRecycle(reason: string): void {
    if (this.#recycleAsked || this.#dead) return;
    this.#recycleAsked = true;
    this.#post({ type: "recycle", id: this.#init.id, reason });
  }

  /** `recycle.max_memory_mb`: a fresh interpreter past it, a replacement past twice it. */
  #checkMemory(): void {
    const current = this.#current;
    if (!current || this.#dead) return;
    const { act, why } = memoryVerdict(current.py, current.config.recycle.max_memory_mb);
    if (act === "replace") this.#die(why);
    else if (act === "recycle") this.#askRecycle(why);
  }

  /** The interpreter failed: stop accepting (the kernel sends new connections to the other
   * workers) and ask the supervisor for a replacement. */
  #die(cause: string): void {
    if (this.#dead) return;
    this.#dead = true;
    this.#current?.ctx.log.flush();
    // The sockets' close frames go out before the listeners (whose shutdown would say 1001).
    this.#life.sockets.closeAll(1011, "server error").then(() => this.#listeners.stopAll());
    this.#post({ type: "died", id: this.#init.id, cause });
  }

  /**
   * Closes WebSockets (1001), stops accepting, waits for in-flight requests and socket handlers
   * up to the grace, then shuts the app's lifespan down and (in one worker) runs on_shutdown.
   */
  async #stop(msg: Message<"stop">): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await this.#life.sockets.closeAll(1001, "server shutting down");
    await Promise.race([
      Promise.all([this.#listeners.stopAll(), this.#life.sockets.drained(), ...this.#retiring]),
      new Promise((resolve) => timer = setTimeout(resolve, msg.graceMs)),
    ]);
    clearTimeout(timer);
    const current = this.#current;
    if (current) {
      // Every interpreter shuts its ASGI app's lifespan down; on_shutdown runs in one worker.
      const log = current.ctx.log;
      await (current.runtime.shutdown(msg.runShutdownHooks) as Promise<void>).catch((
        e: unknown,
      ) => log.error(errorText(e)));
    }
    this.#clock.stop();
    current?.ctx.log.flush();
    this.#post({ type: "stopped", id: this.#init.id });
  }
}
