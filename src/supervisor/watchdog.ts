/**
 * The watchdog: interrupts a worker's Python when it blocks the worker's event loop past a
 * request deadline (a sync handler in `while True: pass`, say). A handler that awaits is
 * cancelled by the worker itself; only a blocked loop needs a second thread. Escalation, one
 * grace period apart while the loop stays blocked:
 * 1. interrupt: Python raises KeyboardInterrupt in the handler (504); while the loop stays
 *    blocked after Python took it, it is sent again every {@link RESEND_MS};
 * 2. kill: set the kill flag and interrupt again; siphon's SIGINT handler then exits the
 *    interpreter, which unwinds even a handler that swallows KeyboardInterrupt, and the worker
 *    reports itself dead;
 * 3. hung: report the worker for termination. Last resort only: terminating a worker does not
 *    stop wasm that never yields, and its listening socket stays open.
 *
 * A worker whose event loop stands still for {@link GONE_MS} with nothing in flight and no
 * generation being built has ended (a thread that exits gives its parent no event): it is
 * reported gone at once, to be replaced.
 *
 * A worker interrupted again and again (`runaway.count` times within `runaway.windowMs`: a
 * handler that keeps scheduling work, say) goes straight to step 2 at its next interrupt: it is
 * replaced, not interrupted forever.
 *
 * Boundary: supervisor-side; reads the shared clock each worker publishes
 * (workers/base/deadlines.ts) and writes Pyodide's interrupt flag.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { WorkerControl } from "../protocol.ts";

/** How long the loop must have been still before a passed deadline counts as blocked. */
const BLOCKED_MS = 50;
/**
 * An interrupt Python took while its loop stays blocked landed outside the code that blocks
 * (in the request path before the handler, say, which finished that request) or was swallowed:
 * it is sent again this often until the grace runs out.
 */
const RESEND_MS = 250;
/** How long an idle worker's loop may stand still before the worker counts as gone. */
export const GONE_MS = 1000;

interface Watched {
  interrupt: Int32Array;
  kill: Int32Array;
  clock: Float64Array;
}

/** Options for {@link Watchdog}. */
export interface WatchdogOptions {
  log: Logger;
  /** Called once when a worker is still blocked `graceMs` after its interrupt. */
  onHung?: (id: number) => void;
  /** Called once when an idle worker's loop stood still {@link GONE_MS}: its thread ended. */
  onGone?: (id: number) => void;
  /** @default 2000 */
  graceMs?: number;
  /** This many interrupts within `windowMs` make the next one a kill. @default {count: 3,
   * windowMs: 60000} */
  runaway?: { count: number; windowMs: number };
}

/** Watches every worker's clock and interrupts Python that overruns. */
export class Watchdog {
  readonly #workers = new Map<number, Watched>();
  /** When each blocked worker was interrupted, and whether it was then told to exit. */
  readonly #escalation = new Map<number, { at: number; killed: boolean; sent: number }>();
  readonly #options: WatchdogOptions;
  /** Per worker, when it was interrupted lately (within the runaway window). */
  readonly #history = new Map<number, number[]>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Interrupts sent, ever (for /metrics). */
  interrupts = 0;

  /** @param options logger, hang callback and grace */
  constructor(options: WatchdogOptions) {
    this.#options = options;
  }

  /** Starts watching a worker. */
  add(id: number, control: WorkerControl): void {
    this.#workers.set(id, {
      interrupt: new Int32Array(control.interrupt, 0, 1),
      kill: new Int32Array(control.interrupt, 4, 1),
      clock: new Float64Array(control.clock),
    });
  }

  /** Stops watching a worker. */
  remove(id: number): void {
    this.#workers.delete(id);
    this.#escalation.delete(id);
    this.#history.delete(id);
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
      const gone = this.#options.onGone && deadline === 0 && w.clock[2] === 0 &&
        now - w.clock[1] >= GONE_MS;
      if (gone) {
        this.remove(id);
        this.#options.log.error(
          `worker ${id}: its event loop stood still ${now - w.clock[1]} ms with nothing in ` +
            "flight: the thread ended (exited or closed itself); replacing it",
        );
        this.#options.onGone?.(id);
        continue;
      }
      const blocked = deadline !== 0 && now > deadline && now - w.clock[1] >= BLOCKED_MS;
      if (!blocked) {
        this.#escalation.delete(id);
        continue;
      }
      if (this.#escalate(id, w, now)) hit.push(id);
    }
    return hit;
  }

  /**
   * One step for a blocked worker: interrupt it (and say so), send the interrupt again, tell it
   * to exit, or report it hung.
   *
   * @returns whether this step began its escalation (a first interrupt)
   */
  #escalate(id: number, w: Watched, now: number): boolean {
    const grace = this.#options.graceMs ?? 2000;
    const step = this.#escalation.get(id);
    if (step === undefined) {
      const { count, windowMs } = this.#options.runaway ?? { count: 3, windowMs: 60_000 };
      const recent = (this.#history.get(id) ?? []).filter((t) => now - t < windowMs);
      recent.push(now);
      this.#history.set(id, recent);
      const runaway = recent.length > count;
      this.#escalation.set(id, { at: now, killed: runaway, sent: now });
      if (runaway) Atomics.store(w.kill, 0, 1);
      this.#interrupt(w);
      if (runaway) {
        this.#options.log.error(
          `worker ${id}: interrupted ${recent.length} times in ${windowMs / 1000} s (a ` +
            "runaway handler); making its interpreter exit so the worker is replaced",
        );
      } else {
        this.#options.log.warning(
          `worker ${id}: Python blocked its event loop past a request deadline; interrupting it`,
        );
      }
      return true;
    } else if (!step.killed && now - step.at >= grace) {
      this.#escalation.set(id, { at: now, killed: true, sent: now });
      Atomics.store(w.kill, 0, 1);
      this.#interrupt(w);
      this.#options.log.error(
        `worker ${id}: still blocked ${now - step.at} ms after the interrupt; making its ` +
          "interpreter exit so the worker can be replaced",
      );
    } else if (
      !step.killed && Atomics.load(w.interrupt, 0) === 0 && now - step.sent >= RESEND_MS
    ) {
      step.sent = now;
      this.#interrupt(w);
    } else if (step.killed && now - step.at >= grace) {
      this.remove(id);
      this.#options.log.error(
        `worker ${id}: did not exit ${now - step.at} ms after being told to; terminating it`,
      );
      this.#options.onHung?.(id);
    }
    return false;
  }

  #interrupt(w: Watched): void {
    this.interrupts++;
    Atomics.store(w.interrupt, 0, 2);
    Atomics.notify(w.interrupt, 0);
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
