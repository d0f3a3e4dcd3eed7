/**
 * `/metrics` in the Prometheus text format: every worker's counters summed, plus the
 * supervisor's own (workers, restarts, reloads).
 *
 * @module
 */
import { BUCKETS_S, type MetricsSnapshot } from "../metrics_snapshot.ts";

/** What the supervisor itself counts. */
export interface SupervisorCounters {
  workers: number;
  generation: number;
  restarts: number;
  recycles: number;
  reloadsOk: number;
  reloadsFailed: number;
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
  const metric = (name: string, type: string, help: string) =>
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

  metric(
    "siphon_requests_total",
    "counter",
    "Requests answered, by route template, method and status.",
  );
  const totals = new Map<string, number>();
  for (const snapshot of counted) {
    for (const [route, method, status, n] of snapshot.requests) {
      const key = `route="${esc(route || "(none)")}",method="${esc(method)}",status="${status}"`;
      totals.set(key, (totals.get(key) ?? 0) + n);
    }
  }
  for (const [labels, n] of [...totals].sort()) lines.push(`siphon_requests_total{${labels}} ${n}`);

  metric(
    "siphon_request_duration_seconds",
    "histogram",
    "Time from a request's arrival to its response.",
  );
  let cumulative = 0;
  BUCKETS_S.forEach((le, i) => {
    cumulative += counted.reduce((a, s) => a + s.buckets[i], 0);
    lines.push(`siphon_request_duration_seconds_bucket{le="${le}"} ${cumulative}`);
  });
  const count = counted.reduce((a, s) => a + s.count, 0);
  lines.push(`siphon_request_duration_seconds_bucket{le="+Inf"} ${count}`);
  lines.push(
    `siphon_request_duration_seconds_sum ${counted.reduce((a, s) => a + s.sumSeconds, 0)}`,
  );
  lines.push(`siphon_request_duration_seconds_count ${count}`);

  metric("siphon_requests_in_flight", "gauge", "Requests being answered now.");
  lines.push(`siphon_requests_in_flight ${workers.reduce((a, w) => a + w.snapshot.inflight, 0)}`);
  metric(
    "siphon_worker_busy_seconds_total",
    "counter",
    "Time each worker spent on the request path synchronously (routing, conversion, Python).",
  );
  for (const w of workers) {
    lines.push(`siphon_worker_busy_seconds_total{worker="${w.id}"} ${w.snapshot.busySeconds}`);
  }
  metric("siphon_workers", "gauge", "Workers serving.");
  lines.push(`siphon_workers ${own.workers}`);
  metric(
    "siphon_generation",
    "gauge",
    "The config generation serving (1 at start, +1 per reload).",
  );
  lines.push(`siphon_generation ${own.generation}`);
  metric("siphon_worker_restarts_total", "counter", "Workers replaced after dying or hanging.");
  lines.push(`siphon_worker_restarts_total ${own.restarts}`);
  metric("siphon_worker_recycles_total", "counter", "Workers replaced by recycle limits.");
  lines.push(`siphon_worker_recycles_total ${own.recycles}`);
  metric("siphon_reloads_total", "counter", "Hot reloads, by result.");
  lines.push(`siphon_reloads_total{result="ok"} ${own.reloadsOk}`);
  lines.push(`siphon_reloads_total{result="failed"} ${own.reloadsFailed}`);
  return lines.join("\n") + "\n";
}
