import assert from "node:assert/strict";
import { join } from "node:path";
import { keptCounts, StaticFiles } from "./static_files.ts";
import { KEPT_BOUNDS } from "./static_kept.ts";

function folder(files: number): string {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-static-unit-" });
  for (let i = 0; i < files; i++) Deno.writeTextFileSync(join(dir, `f${i}.txt`), `file ${i}\n`);
  return dir;
}

async function get(statics: StaticFiles, path: string): Promise<Response> {
  const hit = statics.match(path);
  assert.ok(hit, path);
  return await hit.serve(new Request(`http://127.0.0.1${path}`));
}

Deno.test("static: what a worker keeps stays bounded however many paths and files clients ask for", async () => {
  const dir = folder(KEPT_BOUNDS.handles + 50);
  const statics = new StaticFiles([{ path: "/s", dir, listing: false }]);
  for (let i = 0; i < KEPT_BOUNDS.paths + 500; i++) {
    const res = await get(statics, `/s/missing-${i}.txt`);
    assert.equal(res.status, 404);
  }
  for (let i = 0; i < KEPT_BOUNDS.handles + 50; i++) {
    const res = await get(statics, `/s/f${i}.txt`);
    assert.equal(await res.text(), `file ${i}\n`);
  }
  const kept = keptCounts();
  for (const k of Object.keys(KEPT_BOUNDS) as (keyof typeof KEPT_BOUNDS)[]) {
    assert.ok(kept[k] <= KEPT_BOUNDS[k], `${k}: ${kept[k]} > ${KEPT_BOUNDS[k]}`);
  }
  assert.ok(kept.handles > 0, "handles are kept (then bounded)");
});

Deno.test("static: prefixes match whole segments; a mount on / takes every path", () => {
  const dir = folder(1);
  const statics = new StaticFiles([
    { path: "/assets", dir, listing: false },
    { path: "/", dir, listing: false },
  ]);
  assert.equal(statics.match("/assets/x")?.label, "/assets/{*file}");
  assert.equal(statics.match("/assetsx/y")?.label, "/{*file}", "not under /assets");
  assert.equal(statics.match("/assets")?.label, "/assets/{*file}");
  assert.equal(new StaticFiles([{ path: "/a", dir, listing: false }]).match("/b"), null);
});
