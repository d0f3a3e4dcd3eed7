/**
 * One worker's request metrics, kept in plain counters on the request path and sent to the
 * supervisor when `/metrics` is scraped (it sums every worker's; src/metrics_snapshot.ts).
 *
 * @module
 */

import { BUCKETS_S, type MetricsSnapshot } from "../../src/metrics_snapshot.ts";

/** Methods with a fixed code; any other method gets the next free code when first seen. */
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];

/**
 * Counters for one worker. `record` runs once per request, so it builds no strings: counts are
 * kept per route template (the router's own string, whose hash V8 caches) under a numeric key
 * `method code × 1000 + status`.
 */
export class Metrics {
  readonly #requests = new Map<string, Map<number, number>>();
  readonly #methods = [...METHODS];
  readonly #buckets = new Array<number>(BUCKETS_S.length + 1).fill(0);
  #sum = 0;
  #count = 0;
  /** Milliseconds the request path ran synchronously (routing, Python); it adds to this. */
  busyMs = 0;
  /** Requests in flight on every listener of this worker. */
  inflight = 0;
  /** WebSockets open now. */
  wsOpen = 0;
  /** WebSocket handshakes completed. */
  wsAccepted = 0;
  /** WebSocket messages received and sent. */
  wsIn = 0;
  wsOut = 0;
  /** `siphon.pubsub`: messages published here, delivered to subscribers here, dropped here. */
  published = 0;
  delivered = 0;
  dropped = 0;

  /**
   * Counts one answered request.
   *
   * @param route the matched route template, or "" when none matched
   * @param method request method
   * @param status response status
   * @param seconds time from arrival to the response
   */
  record(route: string, method: string, status: number, seconds: number): void {
    let byKey = this.#requests.get(route);
    if (byKey === undefined) this.#requests.set(route, byKey = new Map());
    const key = this.#methodCode(method) * 1000 + status;
    byKey.set(key, (byKey.get(key) ?? 0) + 1);
    let i = 0;
    while (i < BUCKETS_S.length && seconds > BUCKETS_S[i]) i++;
    this.#buckets[i]++;
    this.#sum += seconds;
    this.#count++;
  }

  #methodCode(method: string): number {
    if (method === "GET") return 0;
    if (method === "POST") return 1;
    const code = this.#methods.indexOf(method);
    return code !== -1 ? code : this.#methods.push(method) - 1;
  }

  /** @returns the counters as they are now */
  snapshot(): MetricsSnapshot {
    const requests: MetricsSnapshot["requests"] = [];
    for (const [route, byKey] of this.#requests) {
      for (const [key, n] of byKey) {
        requests.push([route, this.#methods[Math.floor(key / 1000)], key % 1000, n]);
      }
    }
    return {
      requests,
      buckets: [...this.#buckets],
      sumSeconds: this.#sum,
      count: this.#count,
      busySeconds: this.busyMs / 1000,
      inflight: this.inflight,
      sockets: {
        open: this.wsOpen,
        accepted: this.wsAccepted,
        messagesIn: this.wsIn,
        messagesOut: this.wsOut,
      },
      pubsub: { published: this.published, delivered: this.delivered, dropped: this.dropped },
    };
  }
}
