import assert from "node:assert/strict";
import { readBody } from "./body.ts";

function streamOf(chunks: number[], onCancel?: () => void): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i < chunks.length) c.enqueue(new Uint8Array(chunks[i++]).fill(7));
      else c.close();
    },
    cancel: onCancel,
  });
}

Deno.test("readBody() returns the whole body within the cap", async () => {
  const body = await readBody(streamOf([3, 4000, 20000]), { cap: 30000 });
  assert.ok(body instanceof Uint8Array);
  assert.equal(body.byteLength, 24003);
  assert.ok(body.every((b) => b === 7));
});

Deno.test("readBody() stops at the cap and cancels the stream", async () => {
  let cancelled = false;
  let pulled = 0;
  const chunks = Array.from({ length: 100 }, () => 1000);
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      pulled++;
      c.enqueue(new Uint8Array(chunks[0]));
    },
    cancel() {
      cancelled = true;
    },
  });
  assert.equal(await readBody(stream, { cap: 4500 }), "too_large");
  assert.ok(cancelled);
  assert.ok(pulled <= 7, `read ${pulled} chunks for a 4500-byte cap`);
});

Deno.test("readBody() accepts a body of exactly the cap, and an empty one", async () => {
  const exact = await readBody(streamOf([10, 6]), { cap: 16, announced: 16 });
  assert.ok(exact instanceof Uint8Array && exact.byteLength === 16);
  const empty = await readBody(streamOf([]), { cap: 16 });
  assert.ok(empty instanceof Uint8Array && empty.byteLength === 0);
});

Deno.test("readBody() stops when its cancel hook is called", async () => {
  const stalled = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) });
  const result = readBody(stalled, { cap: 10, onCancel: (cancel) => setTimeout(cancel, 20) });
  assert.equal(await result, "timeout");
});
