import assert from "node:assert/strict";
import { bucketOf, LATENCY_BUCKETS, MAX_SECONDS, mergeSeries, SeriesRecorder } from "./series.ts";

Deno.test("series: responses and errors land in their second; threads merge by second", () => {
  const start = 1_000_000;
  const a = new SeriesRecorder(start);
  const b = new SeriesRecorder(start);
  for (let i = 0; i < 100; i++) a.response(start + 100, "2xx", 1000); // 1 ms, second 0
  a.response(start + 1500, "5xx", 8000);
  b.response(start + 1999, "2xx", 2000);
  b.error(start + 2500);
  const points = mergeSeries([a.toCounts(), b.toCounts()], 2.5);
  assert.equal(points.length, 3);
  assert.deepEqual(points.map((p) => [p.t, p.requests, p.ok, p.errors, p.transport]), [
    [0, 100, 100, 0, 0],
    [1, 2, 1, 1, 0],
    [2, 1, 0, 1, 1],
  ]);
  assert.deepEqual(points[1].status, { "2xx": 1, "3xx": 0, "4xx": 0, "5xx": 1 });
  assert.deepEqual(points.map((p) => p.span_s), [1, 1, 0.5], "the last second lasted half");
  assert.equal(points[2].p50_ms, null, "no response: no percentile");
});

Deno.test("series: a second's percentiles are within the buckets' 12.5 %", () => {
  const r = new SeriesRecorder(0);
  for (let us = 1; us <= 10_000; us++) r.response(10, "2xx", us * 10); // 10 µs … 100 ms, even
  const [p] = mergeSeries([r.toCounts()], 1);
  assert.ok(Math.abs(p.p50_ms! - 50) / 50 <= 0.125, `p50 ${p.p50_ms}`);
  assert.ok(Math.abs(p.p99_ms! - 99) / 99 <= 0.125, `p99 ${p.p99_ms}`);
});

Deno.test("series: bounded — a run past MAX_SECONDS adds to its last second; latencies clamp", () => {
  const r = new SeriesRecorder(0);
  r.response(10, "2xx", 5);
  r.response((MAX_SECONDS + 50) * 1000, "2xx", 5);
  r.response((MAX_SECONDS + 90) * 1000, "3xx", 1e12); // beyond an hour: the last bucket
  const counts = r.toCounts();
  assert.equal(counts.length, MAX_SECONDS);
  assert.deepEqual(counts.at(-1)!.status, [1, 1, 0, 0]);
  assert.equal(bucketOf(1e12), LATENCY_BUCKETS - 1);
  assert.equal(bucketOf(0), 0);
  const points = mergeSeries([counts], MAX_SECONDS + 90);
  assert.equal(points.length, MAX_SECONDS);
  assert.equal(points.at(-1)!.span_s, 91, "the folded last point spans what it holds");
});
