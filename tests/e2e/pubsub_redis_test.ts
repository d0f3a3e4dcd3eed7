/**
 * siphon.pubsub, redis backend, against a real redis-server on a free 127.0.0.1 port: two
 * siphon-deno processes (two replicas) and any Redis client share topics.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startRedis } from "../_redis.ts";
import { freePort, ROOT, startServer, waitFor } from "../../harness/launch.ts";
import { connect } from "../../harness/ws_raw.ts";

/** PUBLISH from a plain Redis client (RESP by hand): what another service would send. */
async function redisPublish(port: number, topic: string, message: string): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const arg = (s: string) => `$${new TextEncoder().encode(s).byteLength}\r\n${s}\r\n`;
  await conn.write(new TextEncoder().encode(`*3\r\n${arg("PUBLISH")}${arg(topic)}${arg(message)}`));
  await conn.read(new Uint8Array(64));
  conn.close();
}

Deno.test("siphon.pubsub (redis): a message published in one replica reaches the other", async (t) => {
  const redisPort = freePort();
  const redis = startRedis(redisPort);
  const dir = join(ROOT, "tests", "fixtures", "websocket");
  const replica = async () => {
    const port = freePort();
    const server = await startServer({
      config: join(dir, "http.yaml"),
      env: {
        PORT: String(port),
        ADMIN_PORT: String(freePort()),
        WORKERS: "1",
        PUBSUB: "redis",
        REDIS_URL: `redis://127.0.0.1:${redisPort}/0`,
      },
    });
    return { server, port };
  };
  const [a, b] = [await replica(), await replica()];
  try {
    await waitFor(
      async () => {
        const r = await fetch(`http://127.0.0.1:${a.port}/publish/probe`, { method: "POST" });
        await r.body?.cancel();
        return r.status === 204;
      },
      "redis reachable from the replica",
      a.server.logs,
    );
    const onA = connect(`ws://127.0.0.1:${a.port}/ws/room/shared`);
    const onB = connect(`ws://127.0.0.1:${b.port}/ws/room/shared`);
    assert.equal(await onA.next(), "joined 1");
    assert.equal(await onB.next(), "joined 1");

    await t.step("in order, to subscribers in both replicas", async () => {
      for (let i = 0; i < 20; i++) onA.send(`a${i}`);
      for (const c of [onA, onB]) {
        for (let i = 0; i < 20; i++) assert.equal(await c.next(), `a${i}`);
      }
      onB.send(new Uint8Array([1, 2, 3]));
      assert.deepEqual(await onA.next(), new Uint8Array([1, 2, 3]));
      assert.deepEqual(await onB.next(), new Uint8Array([1, 2, 3]));
    });

    await t.step("a plain Redis client's PUBLISH arrives as text", async () => {
      await redisPublish(redisPort, "room:shared", '{"from": "elsewhere"}');
      assert.equal(await onA.next(), '{"from": "elsewhere"}');
      assert.equal(await onB.next(), '{"from": "elsewhere"}');
    });

    await t.step(
      "with Redis gone, publish fails with a clear error, and nothing hangs",
      async () => {
        redis.kill("SIGKILL");
        await redis.status;
        const res = await fetch(`http://127.0.0.1:${b.port}/publish/room:shared`, {
          method: "POST",
          body: "lost",
        });
        assert.equal(res.status, 500);
        await res.body?.cancel();
        await b.server.waitForLog(
          new RegExp(`PubSubError: pubsub redis redis://127.0.0.1:${redisPort}/0: `),
        );
      },
    );
    onA.ws.close();
    onB.ws.close();
    await Promise.all([onA.closed, onB.closed]);
  } finally {
    await Promise.all([a.server.stop(), b.server.stop()]);
    try {
      redis.kill("SIGKILL");
    } catch { /* gone already */ }
  }
});
