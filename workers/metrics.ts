/**
 * One worker's request metrics, kept in plain counters on the request path and sent to the
 * supervisor when `/metrics` is scraped (it sums every worker's).
 *
 * @module
 */

/** Upper bounds (seconds) of the request-duration histogram buckets. */
export const BUCKETS_S = [
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** What a worker reports. */
export interface MetricsSnapshot {
  /** `[route template, method, status, count]`; route "" when nothing matched. */
  requests: [string, string, number, number][];
  /** Per-bucket counts (not cumulative), one more than {@link BUCKETS_S} for +Inf. */
  buckets: number[];
  sumSeconds: number;
  count: number;
  /** Seconds spent running Python synchronously (handlers, middleware). */
  busySeconds: number;
  inflight: number;
}

/** Counters for one worker. */
export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #buckets = new Array<number>(BUCKETS_S.length + 1).fill(0);
  #sum = 0;
  #count = 0;
  /** Milliseconds of synchronous Python; the request path adds to it. */
  busyMs = 0;
  /** Requests in flight on every listener of this worker. */
  inflight = 0;

  /**
   * Counts one answered request.
   *
   * @param route the matched route template, or "" when none matched
   * @param method request method
   * @param status response status
   * @param seconds time from arrival to the response
   */
  record(route: string, method: string, status: number, seconds: number): void {
    const key = route + "\0" + method + "\0" + status;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    let i = 0;
    while (i < BUCKETS_S.length && seconds > BUCKETS_S[i]) i++;
    this.#buckets[i]++;
    this.#sum += seconds;
    this.#count++;
  }

  /** @returns the counters as they are now */
  snapshot(): MetricsSnapshot {
    return {
      requests: [...this.#requests].map(([key, n]) => {
        const [route, method, status] = key.split("\0");
        return [route, method, Number(status), n];
      }),
      buckets: [...this.#buckets],
      sumSeconds: this.#sum,
      count: this.#count,
      busySeconds: this.busyMs / 1000,
      inflight: this.inflight,
    };
  }
}
