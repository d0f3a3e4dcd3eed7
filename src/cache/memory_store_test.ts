import assert from "node:assert/strict";
import fc from "fast-check";
import { CacheLimitError, checkValueSize, jsonBytes, MemoryStore } from "./memory_store.ts";

Deno.test("MemoryStore: store/fetch/exists/delete", () => {
  const s = new MemoryStore({ maxEntries: 10 });
  assert.equal(s.exec({ op: "fetch", key: "a" }), null);
  assert.equal(s.exec({ op: "store", key: "a", value: "1" }), null);
  assert.equal(s.exec({ op: "fetch", key: "a" }), "1");
  assert.equal(s.exec({ op: "exists", key: "a" }), true);
  assert.equal(s.exec({ op: "delete", key: "a" }), true);
  assert.equal(s.exec({ op: "delete", key: "a" }), false);
  assert.equal(s.exec({ op: "exists", key: "a" }), false);
});

Deno.test("MemoryStore: add succeeds only when absent (or expired)", () => {
  const s = new MemoryStore({ maxEntries: 10 });
  assert.equal(s.exec({ op: "add", key: "k", value: "x", ttlMs: 100 }, 0), true);
  assert.equal(s.exec({ op: "add", key: "k", value: "y" }, 50), false);
  assert.equal(s.exec({ op: "fetch", key: "k" }, 50), "x");
  assert.equal(s.exec({ op: "add", key: "k", value: "z" }, 100), true, "expired counts as absent");
});

Deno.test("MemoryStore: ttl expires entries", () => {
  const s = new MemoryStore({ maxEntries: 10 });
  s.exec({ op: "store", key: "t", value: "v", ttlMs: 1000 }, 0);
  assert.equal(s.exec({ op: "fetch", key: "t" }, 999), "v");
  assert.equal(s.exec({ op: "fetch", key: "t" }, 1000), null);
  s.exec({ op: "store", key: "u", value: "v", ttlMs: 10 }, 0);
  s.sweep(20);
  assert.equal(s.size, 0);
});

Deno.test("MemoryStore: incr counts from 0, keeps the ttl, refuses text", () => {
  const s = new MemoryStore({ maxEntries: 10 });
  assert.equal(s.exec({ op: "incr", key: "n" }), 1);
  assert.equal(s.exec({ op: "incr", key: "n", by: 5 }), 6);
  assert.equal(s.exec({ op: "fetch", key: "n" }), "6");
  s.exec({ op: "store", key: "w", value: "word" });
  assert.throws(() => s.exec({ op: "incr", key: "w" }), /cannot incr "w": it holds text/);
});

Deno.test("MemoryStore: lists push, count and pop all", () => {
  const s = new MemoryStore({ maxEntries: 10 });
  s.exec({ op: "list_push", key: "l", value: "a" });
  s.exec({ op: "list_push", key: "l", value: "b" });
  assert.equal(s.exec({ op: "list_len", key: "l" }), 2);
  assert.deepEqual(s.exec({ op: "list_pop_all", key: "l" }), ["a", "b"]);
  assert.deepEqual(s.exec({ op: "list_pop_all", key: "l" }), []);
  assert.equal(s.exec({ op: "list_len", key: "l" }), 0);
  s.exec({ op: "store", key: "v", value: "x" });
  assert.throws(
    () => s.exec({ op: "list_push", key: "v", value: "y" }),
    /holds a value, not a list/,
  );
});

Deno.test("MemoryStore: the least recently used entry goes first", () => {
  const s = new MemoryStore({ maxEntries: 3 });
  for (const k of ["a", "b", "c"]) s.exec({ op: "store", key: k, value: k });
  s.exec({ op: "fetch", key: "a" }); // a is now the most recent
  s.exec({ op: "store", key: "d", value: "d" });
  assert.equal(s.exec({ op: "exists", key: "b" }), false);
  assert.equal(s.exec({ op: "exists", key: "a" }), true);
  assert.equal(s.size, 3);
  s.resize({ maxEntries: 1 }); // every access counts as a use: the exists("a") above made it the most recent
  assert.equal(s.size, 1);
  assert.equal(s.exec({ op: "exists", key: "a" }), true);
});

Deno.test("MemoryStore never holds more than its bound (property)", () => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 20 }),
    fc.array(
      fc.tuple(fc.constantFrom("store", "add", "list_push", "incr"), fc.string({ maxLength: 3 })),
    ),
    (max, ops) => {
      const s = new MemoryStore({ maxEntries: max });
      for (const [op, key] of ops) {
        try {
          s.exec({ op: op as "store", key, value: "1" });
        } catch { /* kind mismatches are fine here */ }
        assert.ok(s.size <= max);
      }
    },
  ));
});

Deno.test("MemoryStore: expire, list lengths, lists summed by key prefix", () => {
  const s = new MemoryStore({ maxEntries: 10 });
  assert.equal(s.exec({ op: "expire", key: "none", ttlMs: 10 }, 0), false);
  s.exec({ op: "store", key: "e", value: "v" }, 0);
  assert.equal(s.exec({ op: "expire", key: "e", ttlMs: 10 }, 0), true);
  assert.equal(s.exec({ op: "fetch", key: "e" }, 10), null);
  assert.equal(s.exec({ op: "list_push", key: "q_1", value: "a" }), 1);
  assert.equal(s.exec({ op: "list_push", key: "q_1", value: "b" }), 2);
  assert.equal(s.exec({ op: "list_push", key: "q_2", value: "c" }), 1);
  s.exec({ op: "list_push", key: "other", value: "d" });
  s.exec({ op: "store", key: "q_text", value: "not a list" });
  assert.equal(s.exec({ op: "list_len_sum", key: "q_" }), 3);
  assert.equal(s.exec({ op: "list_len_sum", key: "nothing" }), 0);
});

Deno.test("MemoryStore: a lifetime caps every entry; a shorter ttl still wins", () => {
  const s = new MemoryStore({ maxEntries: 10, lifetimeMs: 1000 });
  s.exec({ op: "store", key: "plain", value: "v" }, 0);
  s.exec({ op: "store", key: "long", value: "v", ttlMs: 60_000 }, 0);
  s.exec({ op: "store", key: "short", value: "v", ttlMs: 100 }, 0);
  assert.deepEqual(
    ["plain", "long", "short"].map((key) => s.exec({ op: "fetch", key }, 500)),
    ["v", "v", null],
  );
  assert.deepEqual(
    ["plain", "long"].map((key) => s.exec({ op: "exists", key }, 1000)),
    [false, false],
  );
});

Deno.test("jsonBytes() is the UTF-8 length of JSON.stringify, for any text", () => {
  const utf8 = (v: string | string[]) => new TextEncoder().encode(JSON.stringify(v)).byteLength;
  for (
    const v of ["", "plain", 'q"b\\', "\0\x01\x1f\x7f\n\t", "héllo €", "🙂", "\ud800x", "x\udc00"]
  ) {
    assert.equal(jsonBytes(v), utf8(v), JSON.stringify(v));
  }
  assert.equal(jsonBytes(["a", "é", ""]), utf8(["a", "é", ""]));
  assert.equal(jsonBytes([]), 2);
  fc.assert(fc.property(fc.string({ unit: "binary" }), (v) => jsonBytes(v) === utf8(v)));
  fc.assert(fc.property(fc.array(fc.string()), (v) => jsonBytes(v) === utf8(v)));
});

Deno.test("MemoryStore refuses a value over max_value_bytes and keeps what it had", () => {
  const s = new MemoryStore({ maxEntries: 10, maxValueBytes: 100 });
  s.exec({ op: "store", key: "k", value: "small" });
  assert.throws(
    () => s.exec({ op: "store", key: "k", value: "x".repeat(99) }),
    (e) => e instanceof CacheLimitError && /101 bytes, over max_value_bytes 100/.test(e.message),
  );
  assert.equal(s.exec({ op: "fetch", key: "k" }), "small");
  assert.throws(() => s.exec({ op: "add", key: "new", value: "\0".repeat(20) }), CacheLimitError);
  assert.throws(() => checkValueSize({ op: "store", key: "k", value: "y".repeat(99) }, 100));
  checkValueSize({ op: "store", key: "k", value: "y".repeat(98) }, 100);
});

Deno.test("MemoryStore counts a list whole: a push that would take it over is refused", () => {
  const s = new MemoryStore({ maxEntries: 10, maxValueBytes: 24 });
  for (let i = 0; i < 4; i++) s.exec({ op: "list_push", key: "l", value: "ab" }); // ["ab",…]: 21 bytes
  assert.throws(() => s.exec({ op: "list_push", key: "l", value: "ab" }), /the list under "l"/);
  assert.deepEqual(s.exec({ op: "list_pop_all", key: "l" }), ["ab", "ab", "ab", "ab"]);
  assert.equal(s.bytes, 0);
});

Deno.test("MemoryStore evicts the least recently used past max_bytes; bytes never drift", () => {
  const s = new MemoryStore({ maxEntries: 1000, maxBytes: 1000, maxValueBytes: 500 });
  for (let i = 0; i < 50; i++) s.exec({ op: "store", key: `k${i}`, value: "v".repeat(100) });
  assert.ok(s.bytes <= 1000, `${s.bytes}`);
  assert.equal(s.exec({ op: "fetch", key: "k0" }), null);
  assert.equal(s.exec({ op: "fetch", key: "k49" }), "v".repeat(100));
  fc.assert(fc.property(
    fc.array(fc.record({
      op: fc.constantFrom("store", "delete", "list_push", "list_pop_all", "incr"),
      key: fc.constantFrom("a", "b", "c", "d"),
      value: fc.string({ maxLength: 120 }),
    })),
    (calls) => {
      const t = new MemoryStore({ maxEntries: 3, maxBytes: 300, maxValueBytes: 200 });
      for (const c of calls) {
        try {
          t.exec(c as never);
        } catch { /* wrong kind, over a bound */ }
      }
      let sum = 0;
      for (const k of ["a", "b", "c", "d"]) {
        for (const op of ["fetch", "list_len"] as const) {
          try {
            const v = t.exec({ op, key: k });
            if (op === "fetch" && v !== null) sum += jsonBytes(k) + jsonBytes(v as string);
          } catch { /* a list */ }
        }
      }
      return t.bytes >= sum && t.bytes <= 300 && t.size <= 3;
    },
  ));
});

Deno.test("MemoryStore as a redis cache's copy drops a value too large instead of refusing it", () => {
  const s = new MemoryStore({ maxEntries: 10, maxValueBytes: 50, copy: true });
  s.exec({ op: "store", key: "k", value: "old" });
  assert.equal(s.exec({ op: "store", key: "k", value: "x".repeat(60) }), null);
  assert.equal(s.exec({ op: "fetch", key: "k" }), null);
});
