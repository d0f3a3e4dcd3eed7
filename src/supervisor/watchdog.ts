/**
 * The watchdog: interrupts a worker's Python when it blocks the worker's event loop past a
 * request deadline (a sync handler in `while True: pass`, say). A handler that awaits is
 * cancelled by the worker itself; only a blocked loop needs a second thread.
 *
 * Boundary: supervisor-side; reads the shared clock each worker publishes
 * (workers/deadlines.ts) and writes Pyodide's interrupt flag.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { WorkerControl } from "../protocol.ts";

/** How long the loop must have been still before a passed deadline counts as blocked. */
const BLOCKED_MS = 50;

interface Watched {
  interrupt: Int32Array;
  clock: Float64Array;
}

/** Watches every worker's clock and interrupts Python that overruns. */
export class Watchdog {
  readonly #workers = new Map<number, Watched>();
  readonly #log: Logger;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** @param log where interrupts are reported */
  constructor(log: Logger) {
    this.#log = log;
  }

  /** Starts watching a worker. */
  add(id: number, control: WorkerControl): void {
    this.#workers.set(id, {
      interrupt: new Int32Array(control.interrupt),
      clock: new Float64Array(control.clock),
    });
  }

  /** Stops watching a worker. */
  remove(id: number): void {
    this.#workers.delete(id);
  }

  /**
   * Checks every worker once.
   *
   * @param now epoch ms
   * @returns ids of the workers interrupted
   */
  check(now = Date.now()): number[] {
    const hit: number[] = [];
    for (const [id, w] of this.#workers) {
      const deadline = w.clock[0];
      if (deadline === 0 || now <= deadline || now - w.clock[1] < BLOCKED_MS) continue;
      if (Atomics.load(w.interrupt, 0) === 2) continue;
      Atomics.store(w.interrupt, 0, 2);
      Atomics.notify(w.interrupt, 0);
      hit.push(id);
      this.#log.warning(
        `worker ${id}: Python blocked its event loop past a request deadline; interrupting it`,
      );
    }
    return hit;
  }

  /** Checks every 25 ms until {@link stop}. */
  start(): void {
    this.#timer ??= setInterval(() => this.check(), 25);
  }

  /** Stops checking. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
