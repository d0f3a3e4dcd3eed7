import assert from "node:assert/strict";
import { createLogger } from "../log.ts";
import { Watchdog } from "./watchdog.ts";

function control() {
  return { interrupt: new SharedArrayBuffer(4), clock: new SharedArrayBuffer(16) };
}

Deno.test("Watchdog.check() interrupts only a blocked worker past its deadline", () => {
  const lines: string[] = [];
  const dog = new Watchdog(createLogger({ write: (l) => lines.push(l) }));
  const [blocked, turning, idle, early] = [control(), control(), control(), control()];
  const now = 1_000_000;
  const set = (c: ReturnType<typeof control>, deadline: number, beat: number) => {
    const clock = new Float64Array(c.clock);
    clock[0] = deadline;
    clock[1] = beat;
  };
  set(blocked, now - 10, now - 500); // deadline passed, loop still for 500 ms
  set(turning, now - 10, now - 5); // deadline passed, but the loop turns: the worker copes
  set(idle, 0, now - 5000); // nothing in flight
  set(early, now + 1000, now - 5000); // blocked, but before its deadline
  [blocked, turning, idle, early].forEach((c, i) => dog.add(i + 1, c));
  assert.deepEqual(dog.check(now), [1]);
  assert.equal(new Int32Array(blocked.interrupt)[0], 2);
  assert.equal(new Int32Array(turning.interrupt)[0], 0);
  assert.match(lines[0], /worker 1: Python blocked its event loop/);
  assert.deepEqual(dog.check(now), [], "an interrupt still pending is not repeated");
});
