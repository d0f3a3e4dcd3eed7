/**
 * Request deadlines for one worker. Two jobs, one table:
 * - publish the earliest open deadline and an event-loop heartbeat into shared memory, so the
 *   supervisor's watchdog can interrupt Python that blocks the loop past a deadline;
 * - expire deadlines while the loop turns (a body that arrives too slowly, an async handler
 *   that awaits too long), with one sweep on the heartbeat instead of a timer per request.
 *
 * Boundary: worker-side bookkeeping; the watchdog (src/supervisor/watchdog.ts) decides about
 * interrupts, the request path (./serve.ts) decides what an expiry answers.
 *
 * @module
 */

interface Entry {
  deadline: number;
  onExpire: (() => void) | undefined;
}

/** How often the heartbeat writes the clock and sweeps expired deadlines. */
const TICK_MS = 20;

/** Deadlines of in-flight requests, mirrored into `clock[0]` as their minimum. */
export class DeadlineClock {
  readonly #clock: Float64Array;
  readonly #open = new Map<number, Entry>();
  #next = 1;
  #timer: ReturnType<typeof setInterval> | undefined;

  /** @param clock Float64Array over the worker's shared `clock` buffer */
  constructor(clock: Float64Array) {
    this.#clock = clock;
  }

  /**
   * Records a request's deadline.
   *
   * @param deadline epoch ms
   * @param onExpire called (once, from the heartbeat) if the deadline passes before {@link end}
   * @returns a token for {@link end}
   */
  begin(deadline: number, onExpire?: () => void): number {
    const token = this.#next++;
    this.#open.set(token, { deadline, onExpire });
    const earliest = this.#clock[0];
    if (earliest === 0 || deadline < earliest) this.#clock[0] = deadline;
    return token;
  }

  /**
   * A synchronous run under `deadline` begins: the watchdog sees the deadline while it runs,
   * with no entry to make and forget (most handlers answer without waiting). Pair with
   * {@link leave}; nothing may begin or end an entry in between.
   *
   * @param deadline epoch ms
   * @returns what {@link leave} puts back
   */
  enter(deadline: number): number {
    const earliest = this.#clock[0];
    if (earliest === 0 || deadline < earliest) this.#clock[0] = deadline;
    return earliest;
  }

  /** @param earliest what {@link enter} returned */
  leave(earliest: number): void {
    this.#clock[0] = earliest;
  }

  /** @param token from {@link begin}; ending twice is harmless */
  end(token: number): void {
    const entry = this.#open.get(token);
    if (entry === undefined) return;
    this.#open.delete(token);
    if (entry.deadline === this.#clock[0]) this.#recompute();
  }

  /**
   * Calls `onExpire` for every deadline that has passed and forgets those entries.
   *
   * @param now epoch ms
   */
  sweep(now = Date.now()): void {
    const earliest = this.#clock[0];
    if (earliest === 0 || now <= earliest) return;
    for (const [token, entry] of this.#open) {
      if (entry.deadline > now || !entry.onExpire) continue;
      this.#open.delete(token);
      entry.onExpire();
    }
    this.#recompute();
  }

  /** Starts the heartbeat: every 20 ms, `clock[1]` = now and a {@link sweep}. */
  start(): void {
    this.#clock[1] = Date.now();
    this.#timer = setInterval(() => {
      const now = Date.now();
      this.#clock[1] = now;
      this.sweep(now);
    }, TICK_MS);
  }

  /**
   * Says the worker is busy outside any request — building a generation (its loop may stand
   * still for seconds while an interpreter loads), collecting garbage for stats: the
   * supervisor's watchdog does not take such a stillness for an exit.
   *
   * @param on busy now
   */
  busy(on: boolean): void {
    this.#clock[2] = on ? Date.now() : 0;
  }

  /** Stops the heartbeat. */
  stop(): void {
    clearInterval(this.#timer);
  }

  #recompute(): void {
    let earliest = 0;
    for (const e of this.#open.values()) {
      if (earliest === 0 || e.deadline < earliest) earliest = e.deadline;
    }
    this.#clock[0] = earliest;
  }
}
