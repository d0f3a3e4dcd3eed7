/**
 * The supervisor (main thread): spawns N request workers, moves them through generations
 * (boot and every reload are `prepare` on all, then `commit` on all, or `abort` on all), runs
 * the watchdog, and drains on SIGINT/SIGTERM.
 *
 * Boundary: never on the request path. It sends and receives only src/protocol.ts messages.
 *
 * @module
 */
import { ConfigError, loadConfig, type LogOverrides, withLogOverrides } from "../config/load.ts";
import type { Config } from "../config/load.ts";
import type { Logger } from "../log.ts";
import type { FromWorker, HandshakeFailure, ToWorker, WorkerStats } from "../protocol.ts";
import { HandshakeLog } from "./handshake_log.ts";
import { Caches } from "../cache/caches.ts";
import { answer } from "../cache/channel.ts";
import { spawnWorker } from "./spawn.ts";
import { startAdmin } from "./admin.ts";
import { renderMetrics } from "./metrics_text.ts";
import { RssGuard } from "./rss_guard.ts";
import { askWorkers, type Slot } from "./ask.ts";
import { addSnapshot, emptySnapshot, type MetricsSnapshot } from "../metrics_snapshot.ts";
import { obtainSnapshot } from "./snapshot.ts";
import { AddressInUseError, assertAddressesFree } from "./ports.ts";
import { watchedFilesFor } from "./watch.ts";
import { Watchdog } from "./watchdog.ts";

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
}

/** Reload bookkeeping, also written to the log after every attempt. */
export interface ReloadCounters {
  ok: number;
  failed: number;
  lastError: string | null;
}

/** A running set of workers. */
export class Supervisor {
  readonly #slots: Slot[];
  readonly #log: Logger;
  readonly #watchdog: Watchdog;
  readonly #configFile: string;
  readonly #env: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #snapshot: Uint8Array | null;
  readonly #logOverrides: LogOverrides;
  #config: Config;
  #generation = 1;
  /** Reloads and replacements run one at a time, in order. */
  #queue: Promise<unknown> = Promise.resolve();
  #live = false;
  readonly #caches = new Caches();
  #admin: Deno.HttpServer | null = null;
  #restarts = 0;
  #recycles = 0;
  #stopping: Promise<void> | null = null;
  readonly #rssGuard: RssGuard;
  /** Counts of workers replaced or recycled, so /metrics totals never go down… */
  #retired: MetricsSnapshot = emptySnapshot();
  /** …and each serving worker's counts at the last scrape, in case it cannot answer at the end. */
  readonly #lastSeen = new Map<number, MetricsSnapshot>();
  /** Failed mutual-TLS handshakes, by listener. */
  readonly #handshakes = new Map<string, HandshakeLog>();
  readonly counters: ReloadCounters = { ok: 0, failed: 0, lastError: null };

  private constructor(options: SupervisorOptions, snapshot: Uint8Array | null) {
    this.#slots = [];
    this.#log = options.log;
    this.#snapshot = snapshot;
    this.#watchdog = new Watchdog({
      log: options.log,
      onHung: (id) => this.#enqueue(() => this.#replace(id, "hung past its deadline")),
    });
    this.#config = options.config;
    this.#configFile = options.configFile ?? options.config.file;
    this.#env = options.env ?? Deno.env.toObject();
    this.#timeoutMs = options.bootTimeoutMs ?? 180000;
    this.#logOverrides = options.logOverrides ?? {};
    this.#rssGuard = new RssGuard({
      limitMb: () => this.#config.recycle.max_rss_mb,
      stats: () => this.stats(),
      recycle: (id, reason) => {
        const slot = this.#slots.find((s) => s.id === id);
        return slot ? this.#enqueue(() => this.#recycle(slot, reason)) : Promise.resolve();
      },
      log: options.log,
    });
    this.#caches.sync(options.config);
  }

  /**
   * Boots every worker and starts listening.
   *
   * @param options config, logger, environment
   * @returns the running supervisor
   * @throws {AddressInUseError} when another process holds a listener's address
   * @throws {Error} when a worker cannot boot (script import error, route conflict, port in use);
   *   every worker is stopped first and nothing keeps listening
   */
  static async start(options: SupervisorOptions): Promise<Supervisor> {
    const { config, log } = options;
    const t0 = performance.now();
    assertAddressesFree(config);
    const snapshot = await obtainSnapshot({ log });
    const supervisor = new Supervisor(options, snapshot);
    for (let id = 1; id <= config.workers; id++) supervisor.#slots.push(supervisor.#spawn(id));
    const slots = supervisor.#slots;
    let prepared: FromWorker[];
    try {
      prepared = await supervisor.#bringUp(slots);
    } catch (e) {
      for (const s of slots) s.worker.terminate();
      throw e;
    }
    for (const s of slots) supervisor.#watchdog.add(s.id, s.control);
    supervisor.#watchdog.start();
    supervisor.#rssGuard.start();
    supervisor.#live = true;
    if (config.admin) {
      try {
        supervisor.#admin = await startAdmin({
          admin: config.admin,
          log,
          ready: () => supervisor.#live,
          metrics: () => supervisor.#config.admin?.metrics ? supervisor.#metrics() : null,
        });
      } catch (e) {
        await supervisor.stop();
        throw e;
      }
    }
    // Last, so "serving" means everything is up: the listeners and the admin endpoints.
    const modes = new Set(prepared.map((m) => m.type === "prepared" ? m.python : ""));
    log.info(
      `serving ${supervisor.#addresses(config)} with ${slots.length} workers (python from ` +
        `${[...modes].join("+")}, ready in ${Math.round(performance.now() - t0)} ms)`,
    );
    return supervisor;
  }

  /** Starts a worker thread and tells it who it is; it reports deaths from then on. */
  #spawn(id: number): Slot {
    const slot = spawnWorker({ id, snapshot: this.#snapshot, env: this.#env });
    const { worker, control } = slot;
    const replace = (cause: string) => {
      if (!this.#live || !this.#slots.includes(slot)) return;
      this.#enqueue(() => this.#replace(id, cause));
    };
    worker.addEventListener("message", (e: MessageEvent<FromWorker>) => {
      if (e.data.type === "cache") {
        const { ok, json } = this.#caches.run(e.data.name, e.data.call);
        answer(control.cache, ok, json);
        return;
      }
      if (e.data.type === "died") replace(e.data.cause);
      if (e.data.type === "handshake_failed") this.#handshakeFailed(e.data.failure);
      if (e.data.type === "recycle" && this.#live && this.#slots.includes(slot)) {
        const reason = e.data.reason;
        this.#enqueue(() => this.#recycle(slot, reason));
      }
    });
    worker.addEventListener("error", (e) => {
      e.preventDefault();
      replace(`thread crashed: ${e.message}`);
    });
    return slot;
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
    await this.#retire(this.#slots[index], 250);
    const slot = this.#spawn(id);
    this.#slots[index] = slot;
    try {
      await this.#bringUp([slot]);
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
      await this.#bringUp([slot]);
    } catch (e) {
      await this.#ask(
        [slot],
        "aborted",
        (s) => s.worker.postMessage({ type: "abort" } satisfies ToWorker),
        5000,
      ).catch(() => {});
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

  /**
   * Ends a worker that is being replaced; its request counts go to the retired totals (from the
   * worker itself, or from the last scrape when it cannot answer within `waitMs`).
   */
  async #retire(slot: Slot, waitMs: number): Promise<void> {
    let last = this.#lastSeen.get(slot.id);
    if (this.#config.admin?.metrics) {
      try {
        const [answer] = await this.#ask(
          [slot],
          "metrics",
          (s) => s.worker.postMessage({ type: "metrics" } satisfies ToWorker),
          waitMs,
        );
        if (answer.type === "metrics") last = answer.snapshot;
      } catch { /* a worker stuck in wasm: keep what the last scrape saw */ }
    }
    slot.worker.terminate();
    this.#lastSeen.delete(slot.id);
    if (last) this.#retired = addSnapshot(this.#retired, last);
  }

  /** Puts workers on the current config and generation: prepare on all, then commit on all. */
  async #bringUp(slots: Slot[]): Promise<FromWorker[]> {
    const config = this.#config;
    const prepared = await this.#ask(
      slots,
      "prepared",
      (s) => s.worker.postMessage({ type: "prepare", config } satisfies ToWorker),
    );
    await this.#ask(
      slots,
      "committed",
      (s) => s.worker.postMessage({ type: "commit" } satisfies ToWorker),
    );
    return prepared;
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
    return watchedFilesFor(this.#configFile, this.#config.script);
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
    return this.#enqueue(() => this.#reload(reason));
  }

  async #reload(reason: string): Promise<boolean> {
    if (this.#stopping) return false;
    const t0 = performance.now();
    const fail = (message: string) => {
      this.counters.failed++;
      this.counters.lastError = message;
      this.#log.error(
        `reload failed (${reason}); generation ${this.#generation} keeps serving ` +
          `[reloads ok ${this.counters.ok}, failed ${this.counters.failed}]:\n${message}`,
      );
      return false;
    };
    let config: Config;
    try {
      config = withLogOverrides(await loadConfig(this.#configFile, this.#env), this.#logOverrides);
    } catch (e) {
      if (e instanceof ConfigError) return fail(e.message);
      throw e;
    }
    try {
      assertAddressesFree(config, new Set(this.#config.servers.map((s) => s.listen.text)));
    } catch (e) {
      if (e instanceof AddressInUseError) return fail(e.message);
      throw e;
    }
    if (config.workers !== this.#slots.length) {
      this.#log.warning(
        `workers: ${this.#slots.length} → ${config.workers} takes effect on restart; ` +
          `reloading with ${this.#slots.length}`,
      );
    }
    const generation = this.#generation + 1;
    try {
      await this.#ask(
        this.#slots,
        "prepared",
        (s) => s.worker.postMessage({ type: "prepare", config } satisfies ToWorker),
      );
    } catch (e) {
      await this.#ask(
        this.#slots,
        "aborted",
        (s) => s.worker.postMessage({ type: "abort" } satisfies ToWorker),
      ).catch(() => {});
      return fail((e as Error).message);
    }
    try {
      await this.#ask(
        this.#slots,
        "committed",
        (s) => s.worker.postMessage({ type: "commit" } satisfies ToWorker),
      );
    } catch (e) {
      return fail((e as Error).message);
    }
    this.#generation = generation;
    this.#config = config;
    this.#caches.sync(config);
    this.counters.ok++;
    this.counters.lastError = null;
    this.#log.info(
      `reloaded (${reason}): generation ${generation} serving ${this.#addresses(config)} in ` +
        `${Math.round(performance.now() - t0)} ms [reloads ok ${this.counters.ok}, failed ` +
        `${this.counters.failed}]`,
    );
    return true;
  }

  /**
   * Each worker's memory after a full garbage collection (V8 needs --expose-gc for that part).
   *
   * @returns one entry per worker
   */
  async stats(): Promise<WorkerStats[]> {
    const answers = await this.#ask(
      this.#slots,
      "stats",
      (s) => s.worker.postMessage({ type: "stats" } satisfies ToWorker),
    );
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
      await this.#ask(this.#slots, "stopped", (s) =>
        s.worker.postMessage(
          { type: "stop", graceMs, runShutdownHooks: s === this.#slots[0] } satisfies ToWorker,
        ), graceMs + 5000)
        .catch((e) => this.#log.warning(`not every worker stopped cleanly: ${e.message}`));
      for (const s of this.#slots) s.worker.terminate();
      this.#caches.close();
      await this.#admin?.shutdown();
      this.#log.info("stopped");
    })();
    return this.#stopping;
  }

  /** The Prometheus page: every worker's counters (asked now) plus the supervisor's. */
  async #metrics(): Promise<string> {
    const answers = await this.#ask(
      this.#slots,
      "metrics",
      (s) => s.worker.postMessage({ type: "metrics" } satisfies ToWorker),
      2000,
    );
    const workers = answers.flatMap((m) =>
      m.type === "metrics" ? [{ id: m.id, snapshot: m.snapshot }] : []
    );
    for (const w of workers) this.#lastSeen.set(w.id, w.snapshot);
    return renderMetrics(
      workers,
      {
        workers: this.#slots.length,
        generation: this.#generation,
        restarts: this.#restarts,
        recycles: this.#recycles,
        reloadsOk: this.counters.ok,
        reloadsFailed: this.counters.failed,
      },
      this.#retired,
    );
  }

  /** One warning per peer and minute for each mutual-TLS listener (./handshake_log.ts). */
  #handshakeFailed(failure: HandshakeFailure): void {
    let log = this.#handshakes.get(failure.listen);
    if (!log) {
      log = new HandshakeLog({
        listen: failure.listen,
        clientCa: failure.clientCa,
        warn: (message) => this.#log.warning(message),
      });
      this.#handshakes.set(failure.listen, log);
    }
    log.failed(failure.peer, failure.error);
  }

  #addresses(config: Config): string {
    return config.servers.map((s) => (s.tls ? "https://" : "http://") + s.listen.text).join(", ");
  }

  /** Sends something to each of `slots` and waits until each answers `want` (or one fails). */
  /** Sends each slot a message and waits for its `want` answer (see ./ask.ts). */
  #ask(
    slots: Slot[],
    want: FromWorker["type"],
    send: (s: Slot) => void,
    timeoutMs = this.#timeoutMs,
  ): Promise<FromWorker[]> {
    return askWorkers({ slots, want, send, timeoutMs });
  }
}
