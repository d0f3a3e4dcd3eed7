/**
 * siphon.cache, redis backend, against a real redis-server on a free 127.0.0.1 port: two
 * siphon-deno processes (two replicas) share one cache.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startRedis } from "../_redis.ts";
import { freePort, ROOT, startServer, waitFor } from "../../harness/launch.ts";

Deno.test("siphon.cache (redis): two replicas share state; outages give clear errors, then recover", async (t) => {
  const redisPort = freePort();
  let redis = startRedis(redisPort);
  const dir = Deno.makeTempDirSync({ prefix: "siphon-redis-" });
  Deno.copyFileSync(join(ROOT, "tests", "fixtures", "cache", "app.py"), join(dir, "app.py"));
  Deno.writeTextFileSync(
    join(dir, "http.yaml"),
    `script: app.py\nworkers: 2\nservers:\n  - listen: "127.0.0.1:\${PORT}"\ncache:\n` +
      `  shared: { backend: redis, url: "redis://127.0.0.1:${redisPort}/0", prefix: "t:" }\n` +
      `  small: { backend: memory, max_entries: 5 }\n` +
      `  front: { backend: redis, url: "redis://127.0.0.1:${redisPort}/1", local_ttl_secs: 3600 }\n`,
  );
  const [portA, portB] = [freePort(), freePort()];
  const a = await startServer({ config: join(dir, "http.yaml"), env: { PORT: String(portA) } });
  const b = await startServer({ config: join(dir, "http.yaml"), env: { PORT: String(portB) } });
  const get = (port: number, path: string, init?: RequestInit) =>
    fetch(`http://127.0.0.1:${port}${path}`, init).then(async (r) => ({
      status: r.status,
      text: await r.text(),
    }));
  try {
    await waitFor(
      () => get(portA, "/safe-fetch?k=x").then((r) => r.status !== 503),
      "redis up",
      a.logs,
    );
    await t.step("a value stored through one replica is read through the other", async () => {
      assert.equal((await get(portA, "/store?k=shared-key&v=from-a")).text, "stored");
      assert.deepEqual(await get(portB, "/fetch?k=shared-key"), { status: 200, text: "from-a" });
    });
    await t.step("ttl expires in Redis", async () => {
      await get(portB, "/store?k=brief&v=x&ttl=0.3");
      assert.equal((await get(portA, "/fetch?k=brief")).status, 200);
      await new Promise((r) => setTimeout(r, 450));
      assert.equal((await get(portA, "/fetch?k=brief")).status, 404);
    });
    await t.step("incr is atomic across both replicas", async () => {
      const all = await Promise.all(
        Array.from(
          { length: 100 },
          (_, i) => get(i % 2 ? portA : portB, "/incr", { method: "POST" }),
        ),
      );
      assert.deepEqual(
        all.map((r) => Number(r.text)).sort((x, y) => x - y),
        Array.from({ length: 100 }, (_, i) => i + 1),
      );
    });
    await t.step("add wins exactly once across replicas", async () => {
      const all = await Promise.all(
        Array.from(
          { length: 40 },
          (_, i) => get(i % 2 ? portA : portB, "/add?id=m1", { method: "POST" }),
        ),
      );
      assert.equal(all.filter((r) => r.text === "won").length, 1);
    });
    await t.step("siphon-http's answers hold on redis too", async () => {
      const answers = JSON.parse((await get(portA, "/siphon-http")).text);
      assert.deepEqual(
        [answers.store, answers.delete_missing, answers.pushes, answers.len_sum, answers.expire],
        [true, true, [1, 2, 1, 1], 3, [true, false]],
      );
    });
    await t.step(
      "local_ttl_secs: a replica answers from its own copy, as siphon-http's LRU",
      async () => {
        await get(portA, "/store?c=front&k=seen&v=v1");
        assert.equal((await get(portA, "/fetch?c=front&k=seen")).text, "v1");
        await get(portB, "/store?c=front&k=seen&v=v2");
        assert.equal((await get(portB, "/fetch?c=front&k=seen")).text, "v2", "B wrote it");
        assert.equal((await get(portA, "/fetch?c=front&k=seen")).text, "v1", "A's copy is kept");
        await get(portA, "/store?c=front&k=seen&v=v3");
        assert.equal((await get(portB, "/fetch?c=front&k=seen")).text, "v2", "B's copy is kept");
        assert.equal((await get(portA, "/fetch?c=front&k=seen")).text, "v3");
      },
    );
    await t.step("Redis down: a clear error naming the URL", async () => {
      redis.kill("SIGKILL");
      await redis.status;
      const r = await get(portA, "/safe-fetch?k=shared-key");
      assert.equal(r.status, 503);
      assert.match(
        r.text,
        new RegExp(
          `^cache 'shared', fetch 'shared-key': redis redis://127\\.0\\.0\\.1:${redisPort}/0: `,
        ),
      );
    });
    await t.step("Redis back: the replicas reconnect by themselves", async () => {
      redis = startRedis(redisPort);
      await waitFor(
        async () =>
          (await get(portA, "/store?k=again&v=1")).text === "stored" &&
          (await get(portB, "/fetch?k=again")).text === "1",
        "both replicas working again after Redis restarted",
        () => a.logs() + b.logs(),
      );
    });
  } finally {
    await a.stop();
    await b.stop();
    redis.kill("SIGKILL");
    await redis.status;
  }
});
