import assert from "node:assert/strict";
import fc from "fast-check";
import { percentDecode, percentDecodeLenient } from "./percent.ts";

Deno.test("percentDecode() decodes UTF-8 escapes", () => {
  assert.equal(percentDecode("caf%C3%A9"), "café");
  assert.equal(percentDecode("%E2%82%AC%20x"), "€ x");
  assert.equal(percentDecode("plain"), "plain");
  assert.equal(percentDecode("a+b"), "a+b");
});

Deno.test("percentDecode() rejects malformed escapes and invalid UTF-8", () => {
  for (const bad of ["%", "%4", "%zz", "%E9", "%C0%AF", "%ED%A0%80", "%FF", "ab%C3"]) {
    assert.equal(percentDecode(bad), null, bad);
  }
});

Deno.test("percentDecodeLenient() keeps bad escapes literal and replaces bad UTF-8", () => {
  assert.equal(percentDecodeLenient("100%"), "100%");
  assert.equal(percentDecodeLenient("%zz%41"), "%zzA");
  assert.equal(percentDecodeLenient("%E9t%C3%A9"), "\uFFFDté");
  assert.equal(percentDecodeLenient("é%"), "é%");
});

Deno.test("percentDecode() round-trips encodeURIComponent (property)", () => {
  fc.assert(fc.property(fc.string({ unit: "grapheme" }), (s) => {
    assert.equal(percentDecode(encodeURIComponent(s)), s);
  }));
});

Deno.test("percent decoders never throw (property)", () => {
  const pieces = fc.constantFrom("%", "%2", "%C3", "%A9", "%zz", "a", "é", "/", "+", "%00", "😀");
  fc.assert(fc.property(fc.array(fc.oneof(pieces, fc.string())), (parts) => {
    const s = parts.join("");
    const strict = percentDecode(s);
    assert.ok(strict === null || typeof strict === "string");
    assert.equal(typeof percentDecodeLenient(s), "string");
  }));
});
