import assert from "node:assert/strict";
import { createLogger } from "../log.ts";
import { RssGuard } from "./rss_guard.ts";

const MIB = 1024 * 1024;
const log = createLogger({ write: () => {} });

Deno.test("RssGuard.check() recycles the worker holding the most once RSS passes the bound", async () => {
  const recycled: [number, string][] = [];
  let rss = 300 * MIB;
  const guard = new RssGuard({
    limitMb: () => 400,
    rss: () => rss,
    stats: () =>
      Promise.resolve([
        { id: 1, heapUsed: 20 * MIB, wasmBytes: 30 * MIB, pyObjects: 0 },
        { id: 2, heapUsed: 20 * MIB, wasmBytes: 180 * MIB, pyObjects: 0 },
      ]),
    recycle: (id, reason) => Promise.resolve(void recycled.push([id, reason])),
    log,
    cooldownMs: 5000,
  });
  assert.equal(await guard.check(0), null, "under the bound");
  rss = 450 * MIB;
  const t = Date.now();
  assert.equal(await guard.check(t), 2);
  assert.match(recycled[0][1], /^process RSS 450 MiB > max_rss_mb 400; it holds 200 MiB$/);
  assert.equal(await guard.check(t + 1000), null, "cooling down");
  assert.equal(await guard.check(t + 10000), 2, "checks again after the pause");
});

Deno.test("RssGuard.check() does nothing while the bound is 0", async () => {
  const guard = new RssGuard({
    limitMb: () => 0,
    rss: () => 10_000 * MIB,
    stats: () => Promise.reject(new Error("not asked")),
    recycle: () => Promise.reject(new Error("not asked")),
    log,
  });
  assert.equal(await guard.check(), null);
});
