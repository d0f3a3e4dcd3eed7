import assert from "node:assert/strict";
import { fromRedis, toRedis } from "./pubsub.ts";

Deno.test("pubsub on Redis: text travels as UTF-8, bytes behind a mark, foreign bytes as bytes", () => {
  const wire = (m: string | Uint8Array) => {
    const raw = toRedis(m);
    return typeof raw === "string" ? new TextEncoder().encode(raw) : new Uint8Array(raw);
  };
  assert.equal(fromRedis(wire("héllo")), "héllo");
  assert.deepEqual(fromRedis(wire(new Uint8Array([1, 2, 3]))), new Uint8Array([1, 2, 3]));
  assert.deepEqual(
    fromRedis(wire(new TextEncoder().encode("text as bytes"))),
    new TextEncoder().encode("text as bytes"),
  );
  assert.deepEqual(fromRedis(new Uint8Array([0xff, 0xfe])), new Uint8Array([0xff, 0xfe]));
});
