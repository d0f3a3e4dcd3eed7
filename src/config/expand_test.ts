import assert from "node:assert/strict";
import { expandEnv, ExpandError } from "./expand.ts";

const env = { PORT: "9000", EMPTY: "", NAME: "api" };

Deno.test("expandEnv() substitutes set variables and defaults", () => {
  assert.equal(expandEnv("0.0.0.0:${PORT}", env), "0.0.0.0:9000");
  assert.equal(expandEnv("${MISSING:-8080}", env), "8080");
  assert.equal(expandEnv("${PORT:-1}", env), "9000");
  assert.equal(expandEnv("${EMPTY:-fallback}", env), "fallback");
  assert.equal(expandEnv("${EMPTY}", env), "");
  assert.equal(expandEnv("${MISSING:-}", env), "");
  assert.equal(
    expandEnv("https://${NAME}.example.com/${NAME}", env),
    "https://api.example.com/api",
  );
});

Deno.test("expandEnv() leaves text without references untouched", () => {
  assert.equal(expandEnv("plain $ text {x}", env), "plain $ text {x}");
  assert.equal(expandEnv("cost: $5", env), "cost: $5");
});

Deno.test("expandEnv() writes a literal ${ for $${", () => {
  assert.equal(expandEnv("$${PORT}", env), "${PORT}");
});

Deno.test("expandEnv() names an unset variable and where it is", () => {
  assert.throws(() => expandEnv("host:${NOPE}", env), (e: unknown) => {
    assert.ok(e instanceof ExpandError);
    assert.equal(
      e.message,
      "environment variable NOPE is not set; set it or write ${NOPE:-default}",
    );
    assert.equal(e.offset, 5);
    return true;
  });
});

Deno.test("expandEnv() rejects a malformed reference", () => {
  assert.throws(() => expandEnv("x${1BAD}", env), (e: unknown) => {
    assert.ok(e instanceof ExpandError);
    assert.equal(e.offset, 1);
    return true;
  });
});
