import assert from "node:assert/strict";
import { sha256Hex } from "./digest.ts";

Deno.test("sha256Hex() hashes its parts as if concatenated, strings as UTF-8", async () => {
  const abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  assert.equal(await sha256Hex(["abc"]), abc);
  assert.equal(await sha256Hex(["a", new Uint8Array([98]), "", "c"]), abc);
  assert.equal(
    await sha256Hex([]),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
});
