/**
 * The supervisor (main thread): spawns N request workers, boots them in two phases so none
 * accepts before all are ready, runs the watchdog, and drains on SIGINT/SIGTERM.
 *
 * Boundary: never on the request path. It sends and receives only src/protocol.ts messages.
 *
 * @module
 */
import type { Config } from "../config/load.ts";
import type { Logger } from "../log.ts";
import type { FromWorker, ToWorker, WorkerControl, WorkerStats } from "../protocol.ts";
import { obtainSnapshot } from "./snapshot.ts";
import { Watchdog } from "./watchdog.ts";

/** Options for {@link Supervisor.start}. */
export interface SupervisorOptions {
  config: Config;
  log: Logger;
  /** Environment handed to Python's `os.environ`. @default Deno.env.toObject() */
  env?: Record<string, string>;
  /** Give up when the workers are not ready in this long. @default 180000 */
  bootTimeoutMs?: number;
}

interface Slot {
  id: number;
  worker: Worker;
  control: WorkerControl;
}

/** A running set of workers. */
export class Supervisor {
  readonly #slots: Slot[];
  readonly #log: Logger;
  readonly #watchdog: Watchdog;
  readonly #graceMs: number;
  #stopping: Promise<void> | null = null;

  private constructor(slots: Slot[], log: Logger, watchdog: Watchdog, graceMs: number) {
    this.#slots = slots;
    this.#log = log;
    this.#watchdog = watchdog;
    this.#graceMs = graceMs;
  }

  /**
   * Boots every worker and starts listening.
   *
   * @param options config, logger, environment
   * @returns the running supervisor
   * @throws {Error} when a worker cannot boot (script import error, route conflict, port in use);
   *   every worker is stopped first and nothing keeps listening
   */
  static async start(options: SupervisorOptions): Promise<Supervisor> {
    const { config, log } = options;
    const t0 = performance.now();
    const snapshot = await obtainSnapshot({ log });
    const env = options.env ?? Deno.env.toObject();
    const slots: Slot[] = [];
    for (let id = 1; id <= config.workers; id++) {
      const worker = new Worker(new URL("../../workers/worker.ts", import.meta.url), {
        type: "module",
        name: `w${id}`,
      });
      const control = {
        interrupt: new SharedArrayBuffer(4),
        clock: new SharedArrayBuffer(16),
      };
      slots.push({ id, worker, control });
    }
    const timeout = options.bootTimeoutMs ?? 180000;
    try {
      const prepared = await everyWorker(slots, "prepared", timeout, (s) =>
        s.worker.postMessage(
          {
            type: "boot",
            id: s.id,
            config,
            snapshot: snapshot?.bytes ?? null,
            control: s.control,
            env,
          } satisfies ToWorker,
        ));
      await everyWorker(
        slots,
        "listening",
        timeout,
        (s) => s.worker.postMessage({ type: "listen" } satisfies ToWorker),
      );
      const modes = new Set(prepared.map((m) => m.type === "prepared" ? m.python : ""));
      log.info(
        `serving ${
          config.servers.map((s) => (s.tls ? "https://" : "http://") + s.listen.text).join(", ")
        } ` +
          `with ${slots.length} workers (python from ${[...modes].join("+")}, ready in ` +
          `${Math.round(performance.now() - t0)} ms)`,
      );
    } catch (e) {
      for (const s of slots) s.worker.terminate();
      throw e;
    }
    const watchdog = new Watchdog(log);
    for (const s of slots) {
      watchdog.add(s.id, s.control);
      s.worker.onerror = (e) => {
        e.preventDefault();
        log.error(`worker ${s.id} failed: ${e.message}`);
      };
    }
    watchdog.start();
    return new Supervisor(slots, log, watchdog, config.shutdown_grace_ms);
  }

  /**
   * Each worker's memory after a full garbage collection (V8 needs --expose-gc for that part).
   *
   * @returns one entry per worker
   */
  async stats(): Promise<WorkerStats[]> {
    const answers = await everyWorker(
      this.#slots,
      "stats",
      30000,
      (s) => s.worker.postMessage({ type: "stats" } satisfies ToWorker),
    );
    return answers.flatMap((m) => m.type === "stats" ? [m.stats] : []);
  }

  /** The number of workers. */
  get size(): number {
    return this.#slots.length;
  }

  /**
   * Stops accepting, lets in-flight requests finish within the grace period, runs the
   * `on_shutdown` hooks and ends the workers. Calling it again returns the same promise.
   *
   * @returns resolves when every worker has stopped
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#watchdog.stop();
      this.#log.info(`stopping: draining in-flight requests (up to ${this.#graceMs} ms)`);
      await everyWorker(
        this.#slots,
        "stopped",
        this.#graceMs + 5000,
        (s) => s.worker.postMessage({ type: "stop", graceMs: this.#graceMs } satisfies ToWorker),
      )
        .catch((e) => this.#log.warning(`not every worker stopped cleanly: ${e.message}`));
      for (const s of this.#slots) s.worker.terminate();
      this.#log.info("stopped");
    })();
    return this.#stopping;
  }
}

/** Sends something to every worker and waits until each answers `want` (or one fails). */
function everyWorker(
  slots: Slot[],
  want: FromWorker["type"],
  timeoutMs: number,
  send: (s: Slot) => void,
): Promise<FromWorker[]> {
  return Promise.all(slots.map((s) =>
    new Promise<FromWorker>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`worker ${s.id} did not report "${want}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      s.worker.onmessage = (e: MessageEvent<FromWorker>) => {
        if (e.data.type === want) {
          clearTimeout(timer);
          resolve(e.data);
        } else if (e.data.type === "fatal") {
          clearTimeout(timer);
          reject(new Error(e.data.message));
        }
      };
      s.worker.onerror = (e) => {
        e.preventDefault();
        clearTimeout(timer);
        reject(new Error(`worker ${s.id} crashed: ${e.message}`));
      };
      send(s);
    })
  ));
}
