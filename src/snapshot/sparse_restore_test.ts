import assert from "node:assert/strict";
import fc from "fast-check";
import { copyChangedPages } from "./sparse_restore.ts";

Deno.test("copyChangedPages() leaves memory equal to the source", () => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.nat(15), fc.nat(4095), fc.integer({ min: 1, max: 255 })), {
      maxLength: 40,
    }),
    fc.array(fc.tuple(fc.nat(15), fc.nat(4095), fc.integer({ min: 1, max: 255 })), {
      maxLength: 40,
    }),
    (srcPokes, destPokes) => {
      const src = new Uint8Array(16 * 4096);
      const dest = new Uint8Array(16 * 4096);
      for (const [page, at, v] of srcPokes) src[page * 4096 + at] = v;
      for (const [page, at, v] of destPokes) dest[page * 4096 + at] = v;
      copyChangedPages(dest, src);
      assert.deepEqual(dest, src);
    },
  ));
});

Deno.test("copyChangedPages() skips pages that are zero on both sides", () => {
  const src = new Uint8Array(8 * 4096);
  const dest = new Uint8Array(8 * 4096);
  src[3 * 4096 + 7] = 1;
  dest[5 * 4096] = 9; // must be cleared
  assert.equal(copyChangedPages(dest, src), 2);
  assert.deepEqual(dest, src);
});

Deno.test("copyChangedPages() at an offset, with a partial last page and unaligned bytes", () => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.nat(5 * 4096 + 100), fc.integer({ min: 1, max: 255 })), { maxLength: 30 }),
    fc.array(fc.tuple(fc.nat(7 * 4096 - 1), fc.integer({ min: 1, max: 255 })), { maxLength: 30 }),
    fc.boolean(),
    (srcPokes, destPokes, unaligned) => {
      // A source that starts one byte into its buffer cannot be read through 32-bit words.
      const src = new Uint8Array(5 * 4096 + 101 + 1).subarray(unaligned ? 1 : 0);
      const dest = new Uint8Array(7 * 4096);
      for (const [at, v] of srcPokes) if (at < src.length) src[at] = v;
      for (const [at, v] of destPokes) dest[at] = v;
      const before = dest.slice();
      copyChangedPages(dest, src, 4096);
      assert.deepEqual(dest.subarray(4096, 4096 + src.length), src);
      assert.deepEqual(dest.subarray(0, 4096), before.subarray(0, 4096), "before the offset");
      assert.deepEqual(
        dest.subarray(4096 + src.length),
        before.subarray(4096 + src.length),
        "after the copy",
      );
    },
  ));
});
