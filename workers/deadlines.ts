/**
 * Publishes this worker's earliest request deadline and an event-loop heartbeat into shared
 * memory, so the supervisor's watchdog can interrupt Python that blocks the loop past a deadline.
 *
 * Boundary: worker-side bookkeeping only; the decision to interrupt is the watchdog's
 * (src/supervisor/watchdog.ts).
 *
 * @module
 */

/** Deadlines of in-flight requests, mirrored into `clock[0]` as their minimum. */
export class DeadlineClock {
  readonly #clock: Float64Array;
  readonly #open = new Map<number, number>();
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
   * @returns a token for {@link end}
   */
  begin(deadline: number): number {
    const token = this.#next++;
    this.#open.set(token, deadline);
    const earliest = this.#clock[0];
    if (earliest === 0 || deadline < earliest) this.#clock[0] = deadline;
    return token;
  }

  /** @param token from {@link begin} */
  end(token: number): void {
    const deadline = this.#open.get(token);
    if (deadline === undefined) return;
    this.#open.delete(token);
    if (deadline !== this.#clock[0]) return;
    let earliest = 0;
    for (const d of this.#open.values()) if (earliest === 0 || d < earliest) earliest = d;
    this.#clock[0] = earliest;
  }

  /** Starts the heartbeat (`clock[1]` = now, every 20 ms while the event loop turns). */
  start(): void {
    this.#clock[1] = Date.now();
    this.#timer = setInterval(() => this.#clock[1] = Date.now(), 20);
  }

  /** Stops the heartbeat. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
