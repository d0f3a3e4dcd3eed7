import assert from "node:assert/strict";
import { DeadlineClock } from "./deadlines.ts";

Deno.test("DeadlineClock publishes the earliest open deadline", () => {
  const clock = new Float64Array(2);
  const d = new DeadlineClock(clock);
  const a = d.begin(300);
  const b = d.begin(100);
  const c = d.begin(200);
  assert.equal(clock[0], 100);
  d.end(b);
  assert.equal(clock[0], 200);
  d.end(a);
  assert.equal(clock[0], 200);
  d.end(c);
  assert.equal(clock[0], 0);
  d.end(c);
  assert.equal(clock[0], 0);
});

Deno.test("DeadlineClock.sweep() expires only passed deadlines, once", () => {
  const clock = new Float64Array(2);
  const d = new DeadlineClock(clock);
  const expired: string[] = [];
  d.begin(100, () => expired.push("a"));
  const b = d.begin(150, () => expired.push("b"));
  d.begin(500, () => expired.push("c"));
  d.begin(120); // no callback: stays until ended (the watchdog still sees it)
  d.end(b);
  d.sweep(200);
  assert.deepEqual(expired, ["a"]);
  assert.equal(clock[0], 120);
  d.sweep(200);
  assert.deepEqual(expired, ["a"]);
  d.sweep(600);
  assert.deepEqual(expired, ["a", "c"]);
});
