/**
 * `/metrics` in the Prometheus text format: every worker's counters summed, plus the
 * supervisor's own (workers, restarts, reloads).
 *
 * @module
 */
import { BUCKETS_S, type Limit, LIMITS, type MetricsSnapshot } from "../metrics_snapshot.ts";

/** What the supervisor itself counts. */
export interface SupervisorCounters {
  workers: number;
  generation: number;
  restarts: number;
  recycles: number;
  reloadsOk: number;
  reloadsFailed: number;
  /** 1 while `/readyz` says ready. @default 1 */
  ready?: number;
  /** Listeners (over every worker) not accepting now. @default 0 */
  listenersDown?: number;
  /** Interrupts the watchdog sent to Python that blocked past a deadline. @default 0 */
  interrupts?: number;
  /** Bounds the supervisor enforces itself (the memory caches'). @default {} */
  limits?: Partial<Record<Limit, number>>;
  /** Each memory cache's bytes held now. @default {} */
  cacheBytes?: Record<string, number>;
}

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/**
 * Renders the metrics page.
 *
 * @param workers one snapshot per serving worker
 * @param own the supervisor's counters
 * @param retired the summed counts of workers that were replaced or recycled (added to the
 *   request totals and the histogram, so they never go down)
 * @returns Prometheus text exposition format
 */
export function renderMetrics(
  workers: { id: number; snapshot: MetricsSnapshot }[],
  own: SupervisorCounters,
  retired?: MetricsSnapshot,
): string {
  const lines: string[] = [];
  const counted = workers.map((w) => w.snapshot);
  if (retired) counted.push(retired);
  const metric = (name: string, type: string, help: string, ...values: string[]) =>
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...values);
  metric(
    "siphon_requests_total",
    "counter",
    "Requests answered, by route template, method and status.",
    ...requestLines(counted),
  );
  metric(
    "siphon_request_duration_seconds",
    "histogram",
    "Time from a request's arrival to its response.",
    ...histogramLines(counted),
  );
  const inflight = workers.reduce((a, w) => a + w.snapshot.inflight, 0);
  metric(
    "siphon_requests_in_flight",
    "gauge",
    "Requests being answered now.",
    `siphon_requests_in_flight ${inflight}`,
  );
  metric(
    "siphon_worker_busy_seconds_total",
    "counter",
    "Time each worker spent on the request path synchronously (routing, conversion, Python).",
    ...workers.map((w) =>
      `siphon_worker_busy_seconds_total{worker="${w.id}"} ${w.snapshot.busySeconds}`
    ),
  );
  socketLines(workers.map((w) => w.snapshot), counted, metric);
  limitLines(counted, own, metric);
  supervisorLines(own, metric);
  return lines.join("\n") + "\n";
}

function requestLines(counted: MetricsSnapshot[]): string[] {
  const totals = new Map<string, number>();
  for (const snapshot of counted) {
    for (const [route, method, status, n] of snapshot.requests) {
      const key = `route="${esc(route || "(none)")}",method="${esc(method)}",status="${status}"`;
      totals.set(key, (totals.get(key) ?? 0) + n);
    }
  }
  return [...totals].sort().map(([labels, n]) => `siphon_requests_total{${labels}} ${n}`);
}

function histogramLines(counted: MetricsSnapshot[]): string[] {
  const name = "siphon_request_duration_seconds";
  let cumulative = 0;
  const lines = BUCKETS_S.map((le, i) => {
    cumulative += counted.reduce((a, s) => a + s.buckets[i], 0);
    return `${name}_bucket{le="${le}"} ${cumulative}`;
  });
  const count = counted.reduce((a, s) => a + s.count, 0);
  const sum = counted.reduce((a, s) => a + s.sumSeconds, 0);
  return [
    ...lines,
    `${name}_bucket{le="+Inf"} ${count}`,
    `${name}_sum ${sum}`,
    `${name}_count ${count}`,
  ];
}

type Metric = (name: string, type: string, help: string, ...values: string[]) => void;

/** WebSockets and pubsub: the open gauge from serving workers, counters including retired. */
function socketLines(serving: MetricsSnapshot[], counted: MetricsSnapshot[], metric: Metric): void {
  const sum = (pick: (s: MetricsSnapshot) => number, from = counted) =>
    from.reduce((a, s) => a + pick(s), 0);
  metric(
    "siphon_websockets_open",
    "gauge",
    "WebSockets open now.",
    `siphon_websockets_open ${sum((s) => s.sockets.open, serving)}`,
  );
  metric(
    "siphon_websockets_accepted_total",
    "counter",
    "WebSocket handshakes completed.",
    `siphon_websockets_accepted_total ${sum((s) => s.sockets.accepted)}`,
  );
  metric(
    "siphon_websocket_messages_total",
    "counter",
    "WebSocket messages, by direction (in: from clients, out: to clients).",
    `siphon_websocket_messages_total{direction="in"} ${sum((s) => s.sockets.messagesIn)}`,
    `siphon_websocket_messages_total{direction="out"} ${sum((s) => s.sockets.messagesOut)}`,
  );
  metric(
    "siphon_pubsub_messages_total",
    "counter",
    "siphon.pubsub messages: published here, delivered to a subscriber here, dropped because " +
      "a subscriber's queue was full.",
    `siphon_pubsub_messages_total{result="published"} ${sum((s) => s.pubsub.published)}`,
    `siphon_pubsub_messages_total{result="delivered"} ${sum((s) => s.pubsub.delivered)}`,
    `siphon_pubsub_messages_total{result="dropped"} ${sum((s) => s.pubsub.dropped)}`,
  );
}

/** Bounds hit, by config key; listeners that stopped accepting. */
function limitLines(counted: MetricsSnapshot[], own: SupervisorCounters, metric: Metric): void {
  const total = (l: Limit) =>
    counted.reduce((a, s) => a + (s.limits?.[l] ?? 0), own.limits?.[l] ?? 0);
  metric(
    "siphon_limit_hits_total",
    "counter",
    "Requests, messages, writes or log lines a bound refused, cut or dropped, by the bound's " +
      "config key (docs/deployment.md, Limits and hostile clients).",
    ...LIMITS.map((l) => `siphon_limit_hits_total{limit="${l}"} ${total(l)}`),
  );
  metric(
    "siphon_listener_failures_total",
    "counter",
    "Times a worker's listener stopped accepting (descriptor exhaustion, say) and was re-opened.",
    `siphon_listener_failures_total ${counted.reduce((a, s) => a + (s.listenerFailures ?? 0), 0)}`,
  );
  metric(
    "siphon_listeners_down",
    "gauge",
    "Listeners (summed over workers) not accepting now; /readyz is 503 while any is.",
    `siphon_listeners_down ${own.listenersDown ?? 0}`,
  );
  metric(
    "siphon_cache_bytes",
    "gauge",
    "Bytes a memory cache holds (keys and values as JSON text), by cache.",
    ...Object.entries(own.cacheBytes ?? {}).sort().map(([name, n]) =>
      `siphon_cache_bytes{cache="${esc(name)}"} ${n}`
    ),
  );
}

function supervisorLines(
  own: SupervisorCounters,
  metric: Metric,
): void {
  metric("siphon_workers", "gauge", "Workers serving.", `siphon_workers ${own.workers}`);
  metric("siphon_ready", "gauge", "1 while /readyz answers 200.", `siphon_ready ${own.ready ?? 1}`);
  metric(
    "siphon_worker_interrupts_total",
    "counter",
    "Interrupts sent to Python that blocked its worker past a request deadline.",
    `siphon_worker_interrupts_total ${own.interrupts ?? 0}`,
  );
  metric(
    "siphon_generation",
    "gauge",
    "The config generation serving (1 at start, +1 per reload).",
    `siphon_generation ${own.generation}`,
  );
  metric(
    "siphon_worker_restarts_total",
    "counter",
    "Workers replaced after dying or hanging.",
    `siphon_worker_restarts_total ${own.restarts}`,
  );
  metric(
    "siphon_worker_recycles_total",
    "counter",
    "Workers replaced by recycle limits.",
    `siphon_worker_recycles_total ${own.recycles}`,
  );
  metric(
    "siphon_reloads_total",
    "counter",
    "Hot reloads, by result.",
    `siphon_reloads_total{result="ok"} ${own.reloadsOk}`,
    `siphon_reloads_total{result="failed"} ${own.reloadsFailed}`,
  );
}
