import assert from "node:assert/strict";
import { Batcher } from "./batcher.ts";

const turn = () => new Promise<void>((r) => setTimeout(r, 0));

Deno.test("Batcher.submit() runs a lone request at once", () => {
  const b = new Batcher();
  assert.equal(b.immediate, true);
  assert.equal(b.submit(() => 1), 1);
});

Deno.test("Batcher.submit() runs the rest of a busy turn back to back after it, in order", async () => {
  const b = new Batcher();
  const ran: number[] = [];
  assert.equal(b.submit(() => ran.push(1)), 1, "the turn's first runs at once");
  const later = [2, 3, 4].map((n) => b.submit(() => ran.push(n)));
  assert.ok(later.every((p) => p instanceof Promise));
  assert.deepEqual(ran, [1], "nothing else ran during the turn");
  await Promise.all(later);
  assert.deepEqual(ran, [1, 2, 3, 4]);
});

Deno.test("Batcher.submit() defers even the first request after a busy turn, then relaxes", async () => {
  const b = new Batcher();
  b.submit(() => 0);
  await b.submit(() => 0); // two in one turn: busy
  await turn();
  assert.equal(b.immediate, false);
  const next = b.submit(() => "deferred");
  assert.ok(next instanceof Promise);
  assert.equal(await next, "deferred");
  await turn(); // a turn with one request: light load again
  assert.equal(b.submit(() => "now"), "now");
});

Deno.test("Batcher.submit() rejects when deferred work throws; the others still run", async () => {
  const b = new Batcher();
  b.submit(() => 0);
  const failing = b.submit(() => {
    throw new Error("boom");
  });
  const fine = b.submit(() => "ok");
  await assert.rejects(failing as Promise<unknown>, /boom/);
  assert.equal(await fine, "ok");
});

Deno.test("Batcher({ batch: false }) runs everything at once", () => {
  const b = new Batcher({ batch: false });
  assert.equal(b.submit(() => 1), 1);
  assert.equal(b.submit(() => 2), 2, "a second request in the same turn runs at once too");
  assert.equal(b.immediate, true);
});
