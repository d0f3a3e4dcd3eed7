import * as assert from "node:assert/strict";
import { fastScheduler } from "./scheduler.ts";

Deno.test("fastScheduler() runs a chain of zero-delay callbacks to the end, in order", async () => {
  const schedule = fastScheduler();
  const seen: number[] = [];
  await new Promise<void>((done) => {
    const step = () => {
      seen.push(seen.length);
      if (seen.length === 50) done();
      else schedule(step, 0);
    };
    schedule(step, 0);
  });
  assert.deepEqual(seen, Array.from({ length: 50 }, (_, i) => i));
});

Deno.test("fastScheduler() keeps order and honours longer delays", async () => {
  const schedule = fastScheduler();
  const seen: string[] = [];
  await new Promise<void>((done) => {
    schedule(() => {
      seen.push("later");
      done();
    }, 30);
    schedule(() => seen.push("a"), 0);
    schedule(() => seen.push("b"), 1);
  });
  assert.deepEqual(seen, ["a", "b", "later"]);
});
