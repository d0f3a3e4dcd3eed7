/**
 * Request metrics as they cross threads: the snapshot a worker reports when `/metrics` is
 * scraped, the histogram's buckets, and the sum the supervisor keeps for workers that were
 * replaced or recycled.
 *
 * Boundary: shared by the supervisor (summing, rendering) and the workers (counting).
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
  /** Seconds the request path ran synchronously (routing, limits, Python). */
  busySeconds: number;
  inflight: number;
  /** WebSockets: open now (a gauge), handshakes completed, messages received and sent. */
  sockets: { open: number; accepted: number; messagesIn: number; messagesOut: number };
  /** `siphon.pubsub`: published in this worker, delivered to its subscribers, dropped there. */
  pubsub: { published: number; delivered: number; dropped: number };
  /** Times each bound refused or cut something, by its config key (a fixed set: {@link LIMITS}). */
  limits: Partial<Record<Limit, number>>;
  /** This worker's listeners that stopped accepting (each was re-opened or is being). */
  listenerFailures: number;
}

/**
 * The bounds `/metrics` counts hits of (`siphon_limit_hits_total{limit}`): config keys, so the
 * label set is fixed and docs/deployment.md can name what each one does.
 */
export const LIMITS = [
  "max_inflight",
  "max_body_bytes",
  "response_headers",
  "ws_max_connections",
  "ws_max_message_bytes",
  "ws_max_unread_bytes",
  "ws_close_timeout_ms",
  "log.max_line_bytes",
  "log.max_bytes_per_sec",
  "cache.max_value_bytes",
  "cache.max_bytes",
] as const;

/** One of {@link LIMITS}. */
export type Limit = typeof LIMITS[number];

/** @returns a snapshot with nothing counted */
export function emptySnapshot(): MetricsSnapshot {
  return {
    requests: [],
    buckets: new Array<number>(BUCKETS_S.length + 1).fill(0),
    sumSeconds: 0,
    count: 0,
    busySeconds: 0,
    inflight: 0,
    sockets: { open: 0, accepted: 0, messagesIn: 0, messagesOut: 0 },
    pubsub: { published: 0, delivered: 0, dropped: 0 },
    limits: {},
    listenerFailures: 0,
  };
}

/**
 * Adds one snapshot's counts to another's — how the supervisor keeps the counts of workers that
 * were replaced or recycled, so the totals it reports never go down.
 *
 * @param into the running total (not changed)
 * @param from a retired worker's last snapshot
 * @returns the sum; in-flight requests and open sockets are not carried over
 */
export function addSnapshot(into: MetricsSnapshot, from: MetricsSnapshot): MetricsSnapshot {
  const requests = new Map<string, [string, string, number, number]>();
  for (const [route, method, status, n] of [...into.requests, ...from.requests]) {
    const key = `${route}\0${method}\0${status}`;
    const seen = requests.get(key);
    if (seen) seen[3] += n;
    else requests.set(key, [route, method, status, n]);
  }
  return {
    requests: [...requests.values()],
    buckets: into.buckets.map((n, i) => n + from.buckets[i]),
    sumSeconds: into.sumSeconds + from.sumSeconds,
    count: into.count + from.count,
    busySeconds: into.busySeconds + from.busySeconds,
    inflight: 0,
    sockets: {
      open: 0,
      accepted: into.sockets.accepted + from.sockets.accepted,
      messagesIn: into.sockets.messagesIn + from.sockets.messagesIn,
      messagesOut: into.sockets.messagesOut + from.sockets.messagesOut,
    },
    pubsub: {
      published: into.pubsub.published + from.pubsub.published,
      delivered: into.pubsub.delivered + from.pubsub.delivered,
      dropped: into.pubsub.dropped + from.pubsub.dropped,
    },
    limits: Object.fromEntries(
      LIMITS.map((l) => [l, (into.limits[l] ?? 0) + (from.limits[l] ?? 0)]).filter(([, n]) => n),
    ),
    listenerFailures: into.listenerFailures + from.listenerFailures,
  };
}
