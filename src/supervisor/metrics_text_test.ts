import assert from "node:assert/strict";
import { renderMetrics } from "./metrics_text.ts";

Deno.test("renderMetrics() sums every worker and keeps histograms cumulative", () => {
  const snap = (n: number, bucket: number) => ({
    requests: [["/u/{id:int}", "GET", 200, n], ["", "GET", 404, 1]] as [
      string,
      string,
      number,
      number,
    ][],
    buckets: Array.from({ length: 15 }, (_, i) => (i === bucket ? n + 1 : 0)),
    sumSeconds: 0.5,
    count: n + 1,
    busySeconds: 0.25,
    inflight: 1,
    sockets: { open: n, accepted: n + 1, messagesIn: 10 * n, messagesOut: 20 * n },
    pubsub: { published: n, delivered: 2 * n, dropped: bucket },
    limits: { ws_max_message_bytes: n },
    listenerFailures: 1,
  });
  const text = renderMetrics([{ id: 1, snapshot: snap(3, 1) }, { id: 2, snapshot: snap(5, 3) }], {
    workers: 2,
    generation: 4,
    restarts: 1,
    recycles: 0,
    reloadsOk: 3,
    reloadsFailed: 2,
  });
  const has = (line: string) =>
    assert.ok(text.split("\n").includes(line), `missing: ${line}\n${text}`);
  has('siphon_requests_total{route="/u/{id:int}",method="GET",status="200"} 8');
  has('siphon_limit_hits_total{limit="ws_max_message_bytes"} 8');
  has('siphon_limit_hits_total{limit="max_inflight"} 0');
  has("siphon_listener_failures_total 2");
  has('siphon_requests_total{route="(none)",method="GET",status="404"} 2');
  has('siphon_request_duration_seconds_bucket{le="0.0005"} 0');
  has('siphon_request_duration_seconds_bucket{le="0.001"} 4');
  has('siphon_request_duration_seconds_bucket{le="0.005"} 10');
  has('siphon_request_duration_seconds_bucket{le="+Inf"} 10');
  has("siphon_request_duration_seconds_count 10");
  has("siphon_request_duration_seconds_sum 1");
  has("siphon_requests_in_flight 2");
  has('siphon_worker_busy_seconds_total{worker="2"} 0.25');
  has('siphon_reloads_total{result="failed"} 2');
  has("siphon_generation 4");
  has("siphon_websockets_open 8");
  has("siphon_websockets_accepted_total 10");
  has('siphon_websocket_messages_total{direction="in"} 80');
  has('siphon_websocket_messages_total{direction="out"} 160');
  has('siphon_pubsub_messages_total{result="delivered"} 16');
  has('siphon_pubsub_messages_total{result="dropped"} 4');
  assert.match(text, /^# HELP siphon_requests_total /m);
  assert.match(text, /^# TYPE siphon_request_duration_seconds histogram$/m);
});

Deno.test("renderMetrics() adds retired workers' counts to the totals, not to per-worker series", () => {
  const live = {
    requests: [["/a", "GET", 200, 2]] as [string, string, number, number][],
    buckets: Array.from({ length: 15 }, (_, i): number => (i === 0 ? 2 : 0)),
    sumSeconds: 0.001,
    count: 2,
    busySeconds: 0.5,
    inflight: 1,
    sockets: { open: 1, accepted: 1, messagesIn: 3, messagesOut: 3 },
    pubsub: { published: 0, delivered: 0, dropped: 1 },
    limits: {},
    listenerFailures: 0,
  };
  const retired = {
    ...live,
    requests: [["/a", "GET", 200, 5]] as typeof live.requests,
    buckets: Array.from({ length: 15 }, (_, i) => (i === 0 ? 5 : 0)),
    count: 5,
    sockets: { open: 4, accepted: 6, messagesIn: 4, messagesOut: 4 },
  };
  const own = {
    workers: 1,
    generation: 1,
    restarts: 1,
    recycles: 0,
    reloadsOk: 0,
    reloadsFailed: 0,
  };
  const lines = renderMetrics([{ id: 3, snapshot: live }], own, retired).split("\n");
  assert.ok(lines.includes('siphon_requests_total{route="/a",method="GET",status="200"} 7'));
  assert.ok(lines.includes("siphon_request_duration_seconds_count 7"));
  assert.ok(lines.includes("siphon_websockets_open 1"), "a retired worker's sockets are closed");
  assert.ok(lines.includes("siphon_websockets_accepted_total 7"));
  assert.ok(lines.includes('siphon_pubsub_messages_total{result="dropped"} 2'));
  assert.ok(lines.includes('siphon_request_duration_seconds_bucket{le="0.0005"} 7'));
  assert.ok(lines.includes("siphon_requests_in_flight 1"));
  assert.deepEqual(lines.filter((l) => l.startsWith("siphon_worker_busy_seconds_total{")), [
    'siphon_worker_busy_seconds_total{worker="3"} 0.5',
  ]);
});
