import * as assert from "node:assert/strict";
import { BUCKETS_S, Metrics } from "./metrics.ts";

Deno.test("Metrics.record() counts by route, method and status", () => {
  const m = new Metrics();
  m.record("/users/{id}", "GET", 200, 0.0001);
  m.record("/users/{id}", "GET", 200, 0.002);
  m.record("/users/{id}", "DELETE", 204, 0.002);
  m.record("", "PROPFIND", 405, 3);
  m.record("", "PROPFIND", 405, 30);
  m.record("/users/{id}", "BREW", 404, 0.0001);
  const s = m.snapshot();
  assert.deepEqual(s.requests.sort(), [
    ["", "PROPFIND", 405, 2],
    ["/users/{id}", "BREW", 404, 1],
    ["/users/{id}", "DELETE", 204, 1],
    ["/users/{id}", "GET", 200, 2],
  ]);
  assert.equal(s.count, 6);
  assert.equal(s.buckets.length, BUCKETS_S.length + 1);
  assert.deepEqual([s.buckets[0], s.buckets[2], s.buckets[12], s.buckets[14]], [2, 2, 1, 1]);
  assert.equal(s.buckets.reduce((a, b) => a + b), 6);
  assert.ok(Math.abs(s.sumSeconds - 33.0042) < 1e-9);
});
