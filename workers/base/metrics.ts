/**
 * One worker's request metrics, kept in plain counters on the request path and sent to the
 * supervisor when `/metrics` is scraped (it sums every worker's; src/metrics_snapshot.ts).
 *
 * @module
 */

import { BUCKETS_S, type Limit, type MetricsSnapshot } from "../../src/metrics_snapshot.ts";

/**
 * The methods counted by name from the start: RFC 9110's and PATCH. Others are counted by name
 * only once {@link Metrics.countMethods} names them (the route table's, `admin.metrics_methods`);
 * any other method a client sends is counted as `other`, so no client can add a label value.
 */
export const STANDARD_METHODS: readonly string[] = [
  "GET",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "HEAD",
  "OPTIONS",
  "CONNECT",
  "TRACE",
];
/** The label of every method not counted by name. */
export const OTHER_METHOD = "other";

/**
 * Counters for one worker. `record` runs once per request, so it builds no strings: counts are
 * kept per route template (the router's own string, whose hash V8 caches) under a numeric key
 * `method code × 1000 + status`.
 */
export class Metrics {
  readonly #requests = new Map<string, Map<number, number>>();
  /** Code → label; code 0 is `other`. Grows only by {@link countMethods}. */
  readonly #methods = [OTHER_METHOD, ...STANDARD_METHODS];
  readonly #codes = new Map(this.#methods.map((m, i) => [m, i]));
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
  /** This worker's listeners that stopped accepting. */
  listenerFailures = 0;
  readonly #limits: Partial<Record<Limit, number>> = {};
  /** Lines the log cut or dropped, read at each snapshot (the worker's LogBudget). */
  logCounts: () => { cut: number; dropped: number } = () => ({ cut: 0, dropped: 0 });

  /**
   * Counts one hit of a bound: something refused, cut or dropped by it.
   *
   * @param limit the bound's config key
   */
  hit(limit: Limit): void {
    this.#limits[limit] = (this.#limits[limit] ?? 0) + 1;
  }

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
    if (method === "GET") return 1;
    if (method === "POST") return 2;
    return this.#codes.get(method) ?? 0;
  }

  /**
   * Counts these methods by name from now on (a generation's route table and
   * `admin.metrics_methods`: the config's and the script's choice, never a client's).
   *
   * @param methods upper-case method names
   */
  countMethods(methods: Iterable<string>): void {
    for (const m of methods) {
      if (!this.#codes.has(m)) this.#codes.set(m, this.#methods.push(m) - 1);
    }
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
      limits: this.#limitsNow(),
      listenerFailures: this.listenerFailures,
    };
  }

  #limitsNow(): Partial<Record<Limit, number>> {
    const { cut, dropped } = this.logCounts();
    const limits = { ...this.#limits };
    if (cut) limits["log.max_line_bytes"] = cut;
    if (dropped) limits["log.max_bytes_per_sec"] = dropped;
    return limits;
  }
}
