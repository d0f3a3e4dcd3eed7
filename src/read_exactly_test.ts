import assert from "node:assert/strict";
import { readExactly, readExactlySync } from "./read_exactly.ts";

Deno.test("readExactly(Sync)() fill the buffer, or say the file ended first", async () => {
  const path = Deno.makeTempFileSync();
  Deno.writeFileSync(path, new Uint8Array([1, 2, 3, 4, 5]));
  {
    using file = Deno.openSync(path);
    const four = new Uint8Array(4);
    readExactlySync(file, four, "f");
    assert.deepEqual([...four], [1, 2, 3, 4]);
    assert.throws(
      () => readExactlySync(file, new Uint8Array(2), "f"),
      /^Error: f ended after 1 of 2 bytes/,
    );
  }
  using file = await Deno.open(path);
  const five = new Uint8Array(5);
  await readExactly(file, five, "f");
  assert.deepEqual([...five], [1, 2, 3, 4, 5]);
  await assert.rejects(
    () => readExactly(file, new Uint8Array(1), "f"),
    /f ended after 0 of 1 bytes/,
  );
});
