import * as assert from "node:assert/strict";
import { addSnapshot, BUCKETS_S, emptySnapshot } from "../../src/metrics_snapshot.ts";
import { Metrics } from "./metrics.ts";

Deno.test("Metrics.record() counts by route, method and status", () => {
  const m = new Metrics();
  m.countMethods(["PROPFIND"]);
  m.record("/users/{id}", "GET", 200, 0.0001);
  m.record("/users/{id}", "GET", 200, 0.002);
  m.record("/users/{id}", "DELETE", 204, 0.002);
  m.record("", "PROPFIND", 405, 3);
  m.record("", "PROPFIND", 405, 30);
  m.record("/users/{id}", "BREW", 404, 0.0001);
  const s = m.snapshot();
  assert.deepEqual(s.requests.sort(), [
    ["", "PROPFIND", 405, 2],
    ["/users/{id}", "DELETE", 204, 1],
    ["/users/{id}", "GET", 200, 2],
    ["/users/{id}", "other", 404, 1],
  ]);
  assert.equal(s.count, 6);
  assert.equal(s.buckets.length, BUCKETS_S.length + 1);
  assert.deepEqual([s.buckets[0], s.buckets[2], s.buckets[12], s.buckets[14]], [2, 2, 1, 1]);
  assert.equal(s.buckets.reduce((a, b) => a + b), 6);
  assert.ok(Math.abs(s.sumSeconds - 33.0042) < 1e-9);
});

Deno.test("Metrics.record() counts a method nobody named as `other`, whatever the client sends", () => {
  const m = new Metrics();
  for (let i = 0; i < 5000; i++) m.record("", `X${i.toString(36).toUpperCase()}`, 404, 0.001);
  m.record("", "TRACE", 405, 0.001);
  assert.deepEqual(m.snapshot().requests.sort(), [["", "TRACE", 405, 1], ["", "other", 404, 5000]]);
  m.countMethods(["PURGE", "PURGE"]);
  m.record("", "PURGE", 404, 0.001);
  assert.equal(m.snapshot().requests.length, 3);
});

Deno.test("addSnapshot() sums counts and histograms and drops in-flight", () => {
  const a = new Metrics();
  a.record("/a", "GET", 200, 0.0001);
  a.record("/b", "POST", 201, 0.003);
  a.inflight = 3;
  const b = new Metrics();
  b.record("/a", "GET", 200, 0.0001);
  b.record("/a", "GET", 500, 0.0001);
  const sum = addSnapshot(addSnapshot(emptySnapshot(), a.snapshot()), b.snapshot());
  assert.deepEqual(sum.requests.sort(), [
    ["/a", "GET", 200, 2],
    ["/a", "GET", 500, 1],
    ["/b", "POST", 201, 1],
  ]);
  assert.equal(sum.count, 4);
  assert.equal(sum.buckets[0], 3);
  assert.equal(sum.buckets[3], 1);
  assert.equal(sum.inflight, 0);
});
