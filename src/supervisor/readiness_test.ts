import assert from "node:assert/strict";
import type { Slot } from "./ask.ts";
import { Readiness } from "./readiness.ts";

const slot = (id: number) => ({ id }) as unknown as Slot;

Deno.test("Readiness: a listener down keeps /readyz at 503 until it accepts again", () => {
  const r = new Readiness(2);
  const [a, b] = [slot(1), slot(2)];
  assert.equal(r.ready([a, b]), false, "not live yet");
  r.live = true;
  assert.equal(r.ready([a, b]), true);
  assert.equal(r.ready([a]), false, "a worker short");
  r.listener(a, "127.0.0.1:8080", false);
  r.listener(a, "127.0.0.1:8443", false);
  assert.equal(r.listenersDown([a, b]), 2);
  assert.equal(r.ready([a, b]), false);
  r.listener(a, "127.0.0.1:8080", true);
  assert.equal(r.ready([a, b]), false, "one still down");
  r.listener(a, "127.0.0.1:8443", true);
  assert.equal(r.listenersDown([a, b]), 0);
  assert.equal(r.ready([a, b]), true);
});

Deno.test("Readiness: a worker that no longer serves does not hold /readyz down", () => {
  const r = new Readiness(2);
  r.live = true;
  const [a, b, c, d] = [slot(1), slot(2), slot(1), slot(2)];
  // A renewal: a and b drain while one of their listeners is down; c and d serve.
  r.listener(a, "127.0.0.1:8080", false);
  assert.equal(r.ready([a, b]), false);
  assert.equal(r.ready([c, d]), true);
  assert.equal(r.listenersDown([c, d]), 0);
  r.forget(a);
  assert.equal(r.listenersDown([a, b]), 0, "forgotten");
  // A replaced worker reporting after it was taken out counts for nothing once it is replaced.
  r.replacing(c);
  r.listener(c, "127.0.0.1:8080", false);
  assert.equal(r.ready([d]), false, "being replaced, a worker short");
  r.replaced(1);
  const e = slot(1);
  assert.equal(r.ready([d, e]), true);
  // A listener of a serving worker still counts.
  r.listener(e, "127.0.0.1:8080", false);
  assert.equal(r.ready([d, e]), false);
});
