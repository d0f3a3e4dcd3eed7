/**
 * Runs the Python part of requests back to back. Under load many requests become ready in one
 * turn of the worker's event loop; handing each to Python as it comes interleaves the
 * interpreter with hyper, V8 and the kernel, which evict its code and data from the CPU caches
 * between requests, so every request pays for a cold interpreter (measured: a second, warm
 * dispatch of the same request costs about a third of the first). So while requests come
 * several to a turn, each waits for the end of the turn (one MessageChannel task, never
 * clamped) and then runs with the others, one after another. Under light load — the turn
 * before brought at most one request — the first request of a turn runs at once, so it pays no
 * extra hop. (`setImmediate` runs after the I/O that is ready, so a turn ends once the requests
 * that arrived together have been routed; it costs about a microsecond, a MessageChannel
 * message more and a zero-delay timer is clamped to milliseconds.)
 *
 * Boundary: worker-side, between the request path (./serve.ts) and the bridge; each request
 * still has its own deadline, interrupt reset and error handling (`run`).
 *
 * @module
 */
/** Node's `setImmediate` (Deno has it as a global): runs after the I/O that is ready now. */
const setImmediate = (globalThis as unknown as { setImmediate(fn: () => void): unknown })
  .setImmediate;

/** Hands work to Python, alone or with the others ready in the same turn. */
export class Batcher {
  readonly #queue: (() => void)[] = [];
  readonly #batch: boolean;
  /** Requests submitted since the current turn began, and in the turn before. */
  #arrivals = 0;
  #previous = 0;
  readonly #endTurn = () => {
    this.#previous = this.#arrivals;
    this.#arrivals = 0;
    for (const job of this.#queue.splice(0)) job();
  };

  /**
   * @param options `batch: false` runs every request at once — for callers that send one
   *   request at a time and await it (in-process benches, the script test harness), where a
   *   "turn" never ends between requests @default true
   */
  constructor(options: { batch?: boolean } = {}) {
    this.#batch = options.batch ?? true;
  }

  /**
   * Runs `work` now when it is the turn's first request and the turn before was quiet (light
   * load), else with the turn's batch, right after the requests ready in this turn arrived.
   *
   * @param work the request's Python part (routing, limits and body are done)
   * @returns `work`'s result, or a promise of it
   */
  submit<T>(work: () => T | Promise<T>): T | Promise<T> {
    if (!this.#batch) return work();
    if (this.#arrivals++ === 0) setImmediate(this.#endTurn);
    if (this.#arrivals === 1 && this.#previous <= 1) return work();
    return new Promise<T>((resolve, reject) => {
      this.#queue.push(() => {
        try {
          resolve(work());
        } catch (e) {
          reject(e);
        }
      });
    });
  }

  /**
   * Whether `submit` would run work now (for callers that count time differently then).
   *
   * @returns true when the next submitted work runs at once
   */
  get immediate(): boolean {
    return !this.#batch || (this.#arrivals === 0 && this.#previous <= 1);
  }
}
