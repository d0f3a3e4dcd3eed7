import assert from "node:assert/strict";
import fc from "fast-check";
import { parseQuery, parseQueryPairs } from "./query.ts";

Deno.test("parseQuery() keeps the last of repeated keys", () => {
  assert.deepEqual({ ...parseQuery("a=1&a=2&b=3") }, { a: "2", b: "3" });
});

Deno.test("parseQuery() gives bare keys an empty string", () => {
  assert.deepEqual({ ...parseQuery("flag&x=&y") }, { flag: "", x: "", y: "" });
});

Deno.test("parseQueryPairs() decodes +, UTF-8 and skips empty pieces", () => {
  assert.deepEqual(parseQueryPairs("q=caf%C3%A9+au+lait&&n=a%3Db&=v"), [
    "q",
    "café au lait",
    "n",
    "a=b",
    "",
    "v",
  ]);
  assert.deepEqual(parseQueryPairs(""), []);
  assert.deepEqual(parseQueryPairs("&&&"), []);
});

Deno.test("parseQueryPairs() keeps an invalid escape as written", () => {
  assert.deepEqual(parseQueryPairs("p=100%&q=%E9"), ["p", "100%", "q", "\uFFFD"]);
});

Deno.test("parseQuery() agrees with URLSearchParams on encoded input (property)", () => {
  const key = fc.string({ minLength: 1, unit: "grapheme" });
  fc.assert(fc.property(fc.array(fc.tuple(key, fc.string({ unit: "grapheme" }))), (entries) => {
    const raw = new URLSearchParams(entries).toString();
    const expected: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(raw)) expected[k] = v;
    assert.deepEqual({ ...parseQuery(raw) }, expected);
  }));
});

Deno.test("parseQueryPairs() never throws and returns pairs (property)", () => {
  fc.assert(fc.property(fc.string(), (s) => {
    const pairs = parseQueryPairs(s);
    assert.equal(pairs.length % 2, 0);
  }));
});
