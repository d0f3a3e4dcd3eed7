import * as assert from "node:assert/strict";
import { requestId } from "./request_id.ts";

Deno.test("requestId() keeps a well-formed incoming id", () => {
  assert.equal(requestId("edge-42"), "edge-42");
  assert.equal(requestId("0af7651916cd43dd8448eb211c80319c"), "0af7651916cd43dd8448eb211c80319c");
});

Deno.test("requestId() replaces a missing, empty, overlong or unprintable id with a fresh one", () => {
  const fresh = /^[0-9a-f]{8}-[0-9a-z]+$/;
  for (const bad of [null, "", "x".repeat(129), "a b", 'a"b', "a\u00e9", "a\tb"]) {
    assert.match(requestId(bad), fresh, String(bad));
  }
});

Deno.test("requestId() never repeats a fresh id", () => {
  const seen = new Set(Array.from({ length: 10000 }, () => requestId(null)));
  assert.equal(seen.size, 10000);
});
