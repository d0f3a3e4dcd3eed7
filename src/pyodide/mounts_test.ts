import assert from "node:assert/strict";
import { normalize } from "./mounts.ts";

Deno.test("normalize() resolves . and .. so a detour cannot reach a read-only folder unseen", () => {
  assert.equal(normalize("/other/../data/ro/x.txt"), "/data/ro/x.txt");
  assert.equal(normalize("/data/./ro//x"), "/data/ro/x");
  assert.equal(normalize("/../.."), "/");
  assert.equal(normalize("/data/ro/.."), "/data");
});
