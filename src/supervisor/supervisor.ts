/**
 * The supervisor (main thread): spawns N request workers and moves them through generations
 * (./generations.ts: boot, every reload, a replacement and a recycle are all `prepare` on the
 * workers concerned, then `commit`, or `abort`), runs the watchdog and the RSS guard, keeps the
 * memory caches, the metrics and the pubsub relay, and drains on SIGINT/SIGTERM.
 *
 * Boundary: never on the request path. It sends and receives only src/protocol.ts messages.
 *
 * @module
 */
import { type Config, listenUrls, type LogOverrides } from "../config/load.ts";
import type { Logger } from "../log.ts";
import type { FromWorker, ToWorker, WorkerStats } from "../protocol.ts";
import { Caches } from "../cache/caches.ts";
import { answer } from "../cache/channel.ts";
import { startAdmin } from "./admin.ts";
import { askWorkers, type Slot } from "./ask.ts";
import { advance, boot } from "./generations.ts";
import { nextGeneration } from "./next_generation.ts";
import { rememberSite } from "./start_hint.ts";
import { HandshakeLogs } from "./handshake_log.ts";
import { MetricsBook } from "./metrics_book.ts";
import { assertAddressesFree } from "./ports.ts";
import { RssGuard } from "./rss_guard.ts";
import { preparePython, type PythonStart } from "./snapshot.ts";
import type { HeadStart } from "./head_start.ts";
import { spawnWorker } from "./spawn.ts";
import { watchedFilesFor } from "./watch.ts";
import { Watchdog } from "./watchdog.ts";
import { logMarks, mark } from "../startup.ts";

/** Options for {@link Supervisor.start}. */
export interface SupervisorOptions {
  config: Config;
  log: Logger;
  /** The config file, re-read on reload. @default config.file */
  configFile?: string;
  /** Environment handed to Python's `os.environ` and used for `${VAR}`. @default Deno.env */
  env?: Record<string, string>;
  /** Give up when the workers are not ready in this long. @default 180000 */
  bootTimeoutMs?: number;
  /** Command-line log settings, applied again to every reloaded config. @default {} */
  logOverrides?: LogOverrides;
  /** Begun before the config was read (./head_start.ts): its worker becomes worker 1. */
  headStart?: HeadStart;
}

/** Reload bookkeeping, also written to the log after every attempt. */
export interface ReloadCounters {
  ok: number;
  failed: number;
  lastError: string | null;
}

/** A running set of workers. */
export class Supervisor {
  readonly #slots: Slot[] = [];
  readonly #log: Logger;
  readonly #watchdog: Watchdog;
  readonly #rssGuard: RssGuard;
  readonly #options: SupervisorOptions & { env: Record<string, string>; configFile: string };
  #python: PythonStart | Promise<PythonStart>;
  readonly #caches = new Caches();
  readonly #metrics = new MetricsBook();
  readonly #handshakes: HandshakeLogs;
  #config: Config;
  #generation = 1;
  /** Reloads, replacements and recycles run one at a time, in order. */
  #queue: Promise<unknown> = Promise.resolve();
  #live = false;
  #admin: Deno.HttpServer | null = null;
  #restarts = 0;
  #recycles = 0;
  #stopping: Promise<void> | null = null;
  readonly counters: ReloadCounters = { ok: 0, failed: 0, lastError: null };

  private constructor(options: SupervisorOptions, python: Promise<PythonStart>) {
    this.#log = options.log;
    this.#python = python;
    this.#config = options.config;
    this.#options = {
      ...options,
      env: options.env ?? Deno.env.toObject(),
      configFile: options.configFile ?? options.config.file,
    };
    this.#watchdog = new Watchdog({
      log: options.log,
      onHung: (id) => this.#enqueue(() => this.#replace(id, "hung past its deadline")),
    });
    this.#rssGuard = new RssGuard({
      limitMb: () => this.#config.recycle.max_rss_mb,
      stats: () => this.stats(),
      recycle: (id, reason) => {
        const slot = this.#slots.find((s) => s.id === id);
        return slot ? this.#enqueue(() => this.#recycle(slot, reason)) : Promise.resolve();
      },
      log: options.log,
    });
    this.#handshakes = new HandshakeLogs((message) => this.#log.warning(message));
    this.#caches.sync(options.config);
  }

  /**
   * Boots every worker and starts listening: the admin listener first (`/healthz` answers,
   * `/readyz` says 503), then each worker accepts as soon as its interpreter is ready
   * (./generations.ts `boot`), and the server is ready when all do.
   *
   * @param options config, logger, environment
   * @returns the running supervisor
   * @throws {AddressInUseError} when another process holds a listener's address
   * @throws {Error} when a worker cannot boot (script import error, route conflict, port in use);
   *   every worker is stopped first and nothing keeps listening
   */
  static async start(options: SupervisorOptions): Promise<Supervisor> {
    const { config, log, headStart: head } = options;
    const t0 = performance.now();
    assertAddressesFree(config);
    head?.log.release(log);
    // With python.packages: the head start's snapshot if it guessed them (./start_hint.ts), else new.
    const site = config.python.site;
    const wasm = head?.python.then((p) => p.wasm);
    const python = head?.site === site ? head.python : preparePython({ log, site, wasm });
    const supervisor = new Supervisor({ ...options, env: options.env ?? head?.env }, python);
    const slots = supervisor.#slots;
    for (let id = 1; id <= config.workers; id++) {
      slots.push(id === 1 && head ? supervisor.#spawn(id, head.worker) : supervisor.#spawn(id));
    }
    mark("workers spawned");
    let prepared: FromWorker[];
    try {
      // /healthz answers from now on; /readyz once every worker accepts.
      supervisor.#admin = await startAdmin({
        admin: config.admin,
        log,
        ready: () => supervisor.#live,
        metrics: () => supervisor.#config.admin?.metrics ? supervisor.#renderMetrics() : null,
      });
      supervisor.#python = await python;
      mark("python start ready");
      prepared = await boot({
        slots,
        config,
        snapshot: supervisor.#python.snapshot,
        timeoutMs: options.bootTimeoutMs ?? 180000,
        onCommitted: (slot) => supervisor.#watchdog.add(slot.id, slot.control),
      });
    } catch (e) {
      for (const s of slots) s.worker.terminate();
      await supervisor.#admin?.shutdown();
      throw e;
    }
    supervisor.#watchdog.start();
    supervisor.#rssGuard.start();
    supervisor.#live = true;
    rememberSite(supervisor.#options.configFile, site, supervisor.#options.env); // head starts
    logMarks(log, { last: true });
    const modes = new Set(prepared.map((m) => m.type === "prepared" ? m.python : ""));
    log.info(
      `serving ${listenUrls(config)} with ${slots.length} workers (python from ` +
        `${[...modes].join("+")}, ready in ${Math.round(performance.now() - t0)} ms)`,
    );
    return supervisor;
  }

  /**
   * Starts a worker thread and tells it who it is (or takes one started already); it reports
   * deaths from then on.
   */
  #spawn(
    id: number,
    slot = spawnWorker({ id, python: this.#python, env: this.#options.env }),
  ): Slot {
    const { worker, control } = slot;
    const serving = () => this.#live && this.#slots.includes(slot);
    worker.addEventListener("message", (e: MessageEvent<FromWorker>) => {
      const msg = e.data;
      if (msg.type === "cache") {
        const { ok, json } = this.#caches.run(msg.name, msg.call);
        answer(control.cache, ok, json);
      } else if (msg.type === "publish") {
        for (const s of this.#slots) {
          if (s !== slot) s.worker.postMessage({ ...msg, type: "published" });
        }
      } else if (msg.type === "handshake_failed") {
        this.#handshakes.failed(msg.failure);
      } else if (msg.type === "died" && serving()) {
        this.#enqueue(() => this.#replace(id, msg.cause));
      } else if (msg.type === "recycle" && serving()) {
        this.#enqueue(() => this.#recycle(slot, msg.reason));
      }
    });
    worker.addEventListener("error", (e) => {
      e.preventDefault();
      if (serving()) this.#enqueue(() => this.#replace(id, `thread crashed: ${e.message}`));
    });
    return slot;
  }

  /** Prepares `config` on `slots` from `python`'s snapshot, then commits it (./generations.ts). */
  async #advance(
    slots: Slot[],
    config = this.#config,
    python = this.#python,
  ): Promise<FromWorker[]> {
    const { snapshot } = await python;
    return advance({ slots, config, snapshot, timeoutMs: this.#options.bootTimeoutMs ?? 180000 });
  }

  /**
   * Replaces a dead or hung worker with a fresh one on the current generation. The others keep
   * serving meanwhile; a replacement that cannot start is not retried (no respawn loop).
   */
  async #replace(id: number, cause: string): Promise<void> {
    const index = this.#slots.findIndex((s) => s.id === id);
    if (index === -1 || this.#stopping) return;
    const t0 = performance.now();
    this.#log.error(`worker ${id} died (${cause}); starting a replacement`);
    this.#watchdog.remove(id);
    const old = this.#slots[index];
    await this.#metrics.retire(old, this.#config.admin?.metrics ? 250 : 0);
    old.worker.terminate();
    const slot = this.#spawn(id);
    this.#slots[index] = slot;
    try {
      await this.#advance([slot]);
    } catch (e) {
      slot.worker.terminate();
      this.#slots.splice(this.#slots.indexOf(slot), 1);
      this.#log.error(
        `cannot start a replacement for worker ${id} (${(e as Error).message}); ` +
          `serving with ${this.#slots.length} workers`,
      );
      return;
    }
    this.#watchdog.add(id, slot.control);
    this.#restarts++;
    this.#log.info(`worker ${id} replaced in ${Math.round(performance.now() - t0)} ms`);
  }

  /**
   * Recycles a worker in place: a fresh interpreter (from the snapshot, on the current config)
   * is prepared beside the serving one and swapped in — a reload of that one worker. Its
   * listeners never close, so no connection is refused or reset; requests in flight finish on
   * the old interpreter, and its wasm memory goes with it.
   */
  async #recycle(slot: Slot, reason: string): Promise<void> {
    if (!this.#slots.includes(slot) || this.#stopping) return;
    const t0 = performance.now();
    try {
      await this.#advance([slot]);
    } catch (e) {
      this.#log.error(
        `cannot recycle worker ${slot.id} (${(e as Error).message}); it keeps serving`,
      );
      return;
    }
    this.#recycles++;
    this.#log.info(
      `worker ${slot.id} recycled (${reason}): a fresh interpreter serves after ` +
        `${Math.round(performance.now() - t0)} ms`,
    );
  }

  #enqueue<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(job, job);
    this.#queue = run.catch(() => {});
    return run;
  }

  /** The number of workers. */
  get size(): number {
    return this.#slots.length;
  }

  /** The generation now serving (1 at boot, +1 per successful reload). */
  get generation(): number {
    return this.#generation;
  }

  /**
   * The files whose change means a reload: the config, the script, and the `.py` files beside
   * the script (modules it may import).
   *
   * @returns absolute paths
   */
  watchedFiles(): string[] {
    return watchedFilesFor(this.#config, this.#options.configFile);
  }

  /**
   * Re-reads the config and the script and swaps every worker to the new generation. Nothing
   * changes when anything fails: the error is logged (file:line:col) and the old generation
   * keeps serving. Calls are serialised.
   *
   * @param reason what triggered it, for the log (`SIGHUP`, `file change`)
   * @returns true when the new generation is serving
   */
  reload(reason: string): Promise<boolean> {
    return this.#enqueue(async () => {
      if (this.#stopping) return false;
      const t0 = performance.now();
      let config: Config;
      let python: PythonStart;
      try {
        ({ config, python } = await nextGeneration({
          ...this.#options,
          current: this.#config,
          python: this.#python,
          workers: this.#slots.length,
          log: this.#log,
        }));
        await this.#advance(this.#slots, config, python);
      } catch (e) {
        this.counters.failed++;
        this.counters.lastError = (e as Error).message;
        this.#log.error(
          `reload failed (${reason}); generation ${this.#generation} keeps serving ` +
            `[${this.#reloads()}]:\n${(e as Error).message}`,
        );
        return false;
      }
      this.#generation++;
      this.#config = config;
      this.#python = python;
      rememberSite(this.#options.configFile, config.python.site, this.#options.env);
      this.#caches.sync(config);
      this.counters.ok++;
      this.counters.lastError = null;
      this.#log.info(
        `reloaded (${reason}): generation ${this.#generation} serving ${listenUrls(config)} in ` +
          `${Math.round(performance.now() - t0)} ms [${this.#reloads()}]`,
      );
      return true;
    });
  }

  #reloads(): string {
    return `reloads ok ${this.counters.ok}, failed ${this.counters.failed}`;
  }

  /** @returns each worker's memory after a full garbage collection (V8's needs --expose-gc) */
  async stats(): Promise<WorkerStats[]> {
    const answers = await askWorkers({
      slots: this.#slots,
      want: "stats",
      send: (s) => s.worker.postMessage({ type: "stats" } satisfies ToWorker),
      timeoutMs: this.#options.bootTimeoutMs ?? 180000,
    });
    return answers.flatMap((m) => m.type === "stats" ? [m.stats] : []);
  }

  /**
   * Stops accepting, lets in-flight requests finish within the grace period, runs the
   * `on_shutdown` hooks once (in the first worker), and ends the workers. Calling it again
   * returns the same promise.
   *
   * @returns resolves when every worker has stopped
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#live = false;
      await this.#queue;
      this.#watchdog.stop();
      this.#rssGuard.stop();
      const graceMs = this.#config.shutdown_grace_ms;
      this.#log.info(`stopping: draining in-flight requests (up to ${graceMs} ms)`);
      const first = this.#slots[0];
      await askWorkers({
        slots: this.#slots,
        want: "stopped",
        send: (s) =>
          s.worker.postMessage(
            { type: "stop", graceMs, runShutdownHooks: s === first } satisfies ToWorker,
          ),
        timeoutMs: graceMs + 5000,
      }).catch((e) => this.#log.warning(`not every worker stopped cleanly: ${e.message}`));
      for (const s of this.#slots) s.worker.terminate();
      this.#caches.close();
      await this.#admin?.shutdown();
      this.#log.info("stopped");
    })();
    return this.#stopping;
  }

  /** The Prometheus page (./metrics_book.ts). */
  #renderMetrics(): Promise<string> {
    return this.#metrics.render(this.#slots, {
      workers: this.#slots.length,
      generation: this.#generation,
      restarts: this.#restarts,
      recycles: this.#recycles,
      reloadsOk: this.counters.ok,
      reloadsFailed: this.counters.failed,
    });
  }
}
