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
import { type Config, listenUrls } from "../config/load.ts";
import { type Logger, plural } from "../log.ts";
import type { FromWorker, WorkerStats } from "../protocol.ts";
import { Caches } from "../cache/caches.ts";
import { startAdmin } from "./admin.ts";
import type { KeptServer } from "../keep_serving.ts";
import { askWorkers, type Slot } from "./ask.ts";
import { advance, boot, RefusedGeneration, refuseNoRoutes, routesOf } from "./generations.ts";
import { nextGeneration, type NextOptions } from "./next_generation.ts";
import { rememberStart } from "../start/start_hint.ts";
import { configPermissions, pythonSees, type WorkerPermissions } from "./permissions.ts";
import { HandshakeLogs } from "./handshake_log.ts";
import { Readiness } from "./readiness.ts";
import { Replacer } from "./replacer.ts";
import { followWorker } from "./worker_events.ts";
import { drain } from "./drain.ts";
import { MetricsBook } from "./metrics_book.ts";
import { assertAddressesFree } from "./ports.ts";
import { RssGuard } from "./rss_guard.ts";
import { preparePython, type PythonStart } from "../snapshot/build.ts";
import type { HeadStart } from "../start/head_start.ts";
import { type Spawned, spawnWorker } from "./spawn.ts";
import { watchedFilesFor } from "./watch.ts";
import { Watchdog } from "./watchdog.ts";
import { logMarks, mark } from "../start/marks.ts";

/** Options for {@link Supervisor.start}; the command-line overrides hold on every reload. */
export interface SupervisorOptions extends Pick<NextOptions, "logOverrides" | "configOverrides"> {
  config: Config;
  log: Logger;
  /** The config file, re-read on reload. @default config.file */
  configFile?: string;
  /** Environment handed to Python's `os.environ` and used for `${VAR}`. @default Deno.env */
  env?: Record<string, string>;
  /** Give up when the workers are not ready in this long. @default 180000 */
  bootTimeoutMs?: number;
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
  #admin: KeptServer | null = null;
  /** What /readyz says. */
  readonly #readiness: Readiness;
  readonly #replacer: Replacer;
  /** Routes the serving generation has. */
  #routes = 0;
  /** What the serving generation's workers may reach (fixed per thread: ./permissions.ts). */
  #permissions: WorkerPermissions;
  #stopping: Promise<void> | null = null;
  readonly counters: ReloadCounters = { ok: 0, failed: 0, lastError: null };

  private constructor(options: SupervisorOptions, python: Promise<PythonStart>) {
    this.#log = options.log;
    this.#python = python;
    this.#config = options.config;
    this.#readiness = new Readiness(options.config.workers);
    this.#options = {
      ...options,
      env: options.env ?? Deno.env.toObject(),
      configFile: options.configFile ?? options.config.file,
    };
    this.#permissions = configPermissions(options.config, this.#options.env, "serve");
    this.#watchdog = new Watchdog({
      log: options.log,
      onHung: (id) => this.#replaceLater(id, "hung past its deadline"),
      onGone: (id) => this.#replaceLater(id, "its thread ended"),
    });
    this.#replacer = new Replacer({
      slots: this.#slots,
      log: options.log,
      readiness: this.#readiness,
      watchdog: this.#watchdog,
      metrics: this.#metrics,
      counting: () => this.#config.admin?.metrics ?? false,
      spawn: (id) => this.#spawn(id),
      advance: (slot) => this.#advance([slot]),
      enqueue: (job) => void this.#enqueue(job),
      stopping: () => this.#stopping !== null,
    });
    this.#rssGuard = new RssGuard({
      limitMb: () => this.#config.recycle.max_rss_mb,
      stats: () => this.stats(),
      recycle: (id, reason) => {
        const slot = this.#slots.find((s) => s.id === id);
        return slot ? this.#enqueue(() => this.#replacer.recycle(slot, reason)) : Promise.resolve();
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
    // Worker 1 of the head start is taken only if it has the permissions this config grants.
    const adopt = head?.worker &&
      JSON.stringify(head.permissions) === JSON.stringify(supervisor.#permissions);
    if (head?.worker && !adopt) {
      head.worker.worker.terminate();
      mark("head start dropped: the config grants other permissions");
    }
    for (let id = 1; id <= config.workers; id++) {
      slots.push(id === 1 && adopt ? supervisor.#spawn(id, head.worker!) : supervisor.#spawn(id));
    }
    mark("workers spawned");
    let prepared: FromWorker[];
    try {
      // /healthz answers from now on; /readyz once every worker accepts.
      supervisor.#admin = await startAdmin({
        admin: config.admin,
        log,
        ready: () => supervisor.#readiness.ready(supervisor.#slots),
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
        ...pythonSees(config, supervisor.#options.env),
      });
    } catch (e) {
      for (const s of slots) s.worker.terminate();
      await supervisor.#admin?.stop();
      throw e;
    }
    supervisor.#routes = routesOf(prepared);
    supervisor.#watchdog.start();
    supervisor.#rssGuard.start();
    supervisor.#readiness.live = true;
    supervisor.#remember(config);
    logMarks(log, { last: true });
    const modes = new Set(prepared.map((m) => m.type === "prepared" ? m.python : ""));
    log.info(
      `serving ${listenUrls(config)} with ${plural(slots.length, "worker")} (python from ` +
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
    slot: Spawned = spawnWorker({ id, python: this.#python, permissions: this.#permissions }),
  ): Slot {
    followWorker(slot, {
      caches: this.#caches,
      handshakes: this.#handshakes,
      readiness: this.#readiness,
      log: this.#log,
      slots: () => this.#slots,
      serving: (s) => this.#readiness.live && this.#slots.includes(s),
      replace: (id, cause) => this.#replaceLater(id, cause),
      recycle: (s, reason) => void this.#enqueue(() => this.#replacer.recycle(s, reason)),
    });
    return slot;
  }

  /**
   * Prepares `config` on `slots` from `python`'s snapshot, then commits it (./generations.ts);
   * `check` may refuse what was prepared.
   */
  async #advance(
    slots: Slot[],
    config = this.#config,
    python = this.#python,
    check?: (prepared: FromWorker[]) => void,
  ): Promise<FromWorker[]> {
    const { snapshot } = await python;
    const timeoutMs = this.#options.bootTimeoutMs ?? 180000;
    return await advance({
      slots,
      config,
      snapshot,
      timeoutMs,
      check,
      ...pythonSees(config, this.#options.env),
    });
  }

  /** What the next start's head start needs to know (./start_hint.ts). */
  #remember(config: Config): void {
    const hint = { site: config.python.site, permissions: this.#permissions };
    rememberStart(this.#options.configFile, hint, this.#options.env);
  }

  #replaceLater(id: number, cause: string): void {
    this.#enqueue(() => this.#replacer.replace(id, cause));
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
        const check = refuseNoRoutes({
          config,
          generation: this.#generation,
          routes: this.#routes,
        });
        const permissions = configPermissions(config, this.#options.env, "serve");
        // Within the workers' permissions: in place. Beyond them: new workers (./replacer.ts).
        const prepared = JSON.stringify(permissions) === JSON.stringify(this.#permissions)
          ? await this.#advance(this.#slots, config, python, check)
          : await this.#replacer.renew({
            spawn: (id) => this.#spawn(id, spawnWorker({ id, python, permissions })),
            advance: (slots) => this.#advance(slots, config, python, check),
            graceMs: config.shutdown_grace_ms,
          });
        this.#permissions = permissions;
        this.#routes = routesOf(prepared);
      } catch (e) {
        this.counters.failed++;
        this.counters.lastError = (e as Error).message;
        this.#log[e instanceof RefusedGeneration ? "warning" : "error"](
          `reload failed (${reason}); generation ${this.#generation} keeps serving ` +
            `[${this.#reloads()}]:\n${(e as Error).message}`,
        );
        return false;
      }
      this.#generation++;
      this.#config = config;
      this.#python = python;
      this.#remember(config);
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
      send: (s) => s.send({ type: "stats" }),
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
      this.#readiness.live = false;
      this.#replacer.stop();
      await this.#queue;
      this.#watchdog.stop();
      this.#rssGuard.stop();
      const graceMs = this.#config.shutdown_grace_ms;
      this.#log.info(`stopping: draining in-flight requests (up to ${graceMs} ms)`);
      await drain(this.#slots, {
        graceMs,
        hooks: this.#slots[0] ?? null,
        onLate: (e) => this.#log.warning(`not every worker stopped cleanly: ${e.message}`),
      });
      this.#caches.close();
      await this.#admin?.stop();
      this.#log.info("stopped");
    })();
    return this.#stopping;
  }

  /** The Prometheus page (./metrics_book.ts). */
  #renderMetrics(): Promise<string> {
    const { bytes, refused, evicted } = this.#caches.usage();
    return this.#metrics.render(this.#slots, {
      workers: this.#slots.length,
      generation: this.#generation,
      restarts: this.#replacer.restarts,
      recycles: this.#replacer.recycles,
      reloadsOk: this.counters.ok,
      reloadsFailed: this.counters.failed,
      ready: this.#readiness.ready(this.#slots) ? 1 : 0,
      listenersDown: this.#readiness.listenersDown(this.#slots),
      interrupts: this.#watchdog.interrupts,
      limits: { "cache.max_value_bytes": refused, "cache.max_bytes": evicted },
      cacheBytes: bytes,
    });
  }
}
