import assert from "node:assert/strict";
import { drive, share } from "./driver.ts";
import { parseDuration } from "./main.ts";
import { serveMock } from "./mock.ts";

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A raw TCP server: `answer` gets each connection and decides what to do with it. */
function rawServer(answer: (conn: Deno.TcpConn) => Promise<void>) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.TcpConn>();
  const loop = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      answer(conn).catch(() => {}).finally(() => conns.delete(conn));
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await loop;
    },
  };
}

async function readRequest(conn: Deno.TcpConn): Promise<boolean> {
  const buf = new Uint8Array(4096);
  return (await conn.read(buf)) !== null;
}

Deno.test("drive() sends exactly --count requests and counts them all", async () => {
  const port = freePort();
  const server = serveMock(port);
  try {
    const { summary: s } = await drive({
      host: "127.0.0.1",
      port,
      path: "/",
      count: 1000,
      concurrency: 8,
      threads: 2,
    });
    assert.equal(s.requests, 1000);
    assert.equal(s.ok, 1000);
    assert.equal(s.errors, 0);
    assert.deepEqual(s.status, { "2xx": 1000, "3xx": 0, "4xx": 0, "5xx": 0 });
    const l = s.latency_ms;
    assert.ok(
      0 < l.p50 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max,
      JSON.stringify(l),
    );
    assert.ok(s.rps > 0 && s.elapsed_s > 0);
    assert.deepEqual(Object.keys(s), [
      "run",
      "requests",
      "ok",
      "errors",
      "elapsed_s",
      "rps",
      "latency_ms",
      "status",
      "error_kinds",
      "percentiles",
      "series",
    ]);
    assert.deepEqual(Object.keys(l), ["p50", "p90", "p99", "p999", "max"]);
    // the series adds up to the totals; the curve rises from p0 to the max
    assert.equal(s.series.reduce((a, p) => a + p.requests, 0), 1000);
    assert.equal(s.series.reduce((a, p) => a + p.ok, 0), 1000);
    assert.equal(s.percentiles.length, 52);
    assert.deepEqual(s.percentiles.at(-1), [100, l.max]);
    assert.ok(s.percentiles.every(([, ms], i, all) => i === 0 || ms >= all[i - 1][1]));
    assert.deepEqual(
      { ...s.run, started: "" },
      {
        target: `GET http://127.0.0.1:${port}/`,
        method: "GET",
        connections: 8,
        threads: 2,
        rate: null,
        duration_s: null,
        count: 1000,
        started: "",
        version: s.run.version,
      },
    );
  } finally {
    await server.shutdown();
  }
});

Deno.test("drive() counts 4xx/5xx as errors, never as ok", async () => {
  const port = freePort();
  let n = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    () => new Response("x", { status: ++n % 3 === 0 ? 500 : n % 3 === 1 ? 200 : 404 }),
  );
  try {
    const { summary: s } = await drive({
      host: "127.0.0.1",
      port,
      path: "/",
      count: 300,
      concurrency: 4,
      threads: 1,
    });
    assert.deepEqual(s.status, { "2xx": 100, "3xx": 0, "4xx": 100, "5xx": 100 });
    assert.equal(s.ok, 100);
    assert.equal(s.errors, 200);
  } finally {
    await server.shutdown();
  }
});

Deno.test("drive() sees connections reset by the server", async () => {
  const server = rawServer(async (conn) => {
    await readRequest(conn);
    conn.close();
  });
  try {
    const { summary: s } = await drive({
      host: "127.0.0.1",
      port: server.port,
      path: "/",
      count: 20,
      concurrency: 2,
      threads: 1,
    });
    assert.equal(s.ok, 0);
    assert.equal(s.error_kinds.reset, 20);
    assert.equal(s.errors, 20);
  } finally {
    await server.close();
  }
});

Deno.test("drive() sees refused connections", async () => {
  const { summary: s } = await drive({
    host: "127.0.0.1",
    port: freePort(),
    path: "/",
    count: 10,
    concurrency: 2,
    threads: 1,
  });
  assert.equal(s.error_kinds.refused, 10);
  assert.equal(s.ok, 0);
});

Deno.test("drive() sees malformed responses", async () => {
  const server = rawServer(async (conn) => {
    while (await readRequest(conn)) {
      await conn.write(new TextEncoder().encode("SIP/2.0 200 OK\r\n\r\n"));
    }
  });
  try {
    const { summary: s } = await drive({
      host: "127.0.0.1",
      port: server.port,
      path: "/",
      count: 10,
      concurrency: 2,
      threads: 1,
    });
    assert.equal(s.error_kinds.malformed, 10);
    assert.equal(s.ok, 0);
  } finally {
    await server.close();
  }
});

Deno.test("drive() times out requests that get no answer", async () => {
  const server = rawServer(async (conn) => {
    await readRequest(conn);
    // Never answers: holds the connection until the client gives up and closes it.
    const buf = new Uint8Array(64);
    while ((await conn.read(buf).catch(() => null)) !== null) { /* ignore */ }
  });
  try {
    const { summary: s } = await drive({
      host: "127.0.0.1",
      port: server.port,
      path: "/",
      count: 4,
      concurrency: 2,
      threads: 1,
      timeoutMs: 200,
    });
    assert.equal(s.error_kinds.timeout, 4);
    assert.equal(s.ok, 0);
  } finally {
    await server.close();
  }
});

Deno.test("share() splits a total without losing any", () => {
  assert.deepEqual([0, 1, 2].map((i) => share(10, 3, i)), [4, 3, 3]);
  assert.deepEqual([0, 1].map((i) => share(1, 2, i)), [1, 0]);
});

Deno.test("parseDuration() reads s, ms, m and bare seconds", () => {
  assert.equal(parseDuration("10s"), 10000);
  assert.equal(parseDuration("250ms"), 250);
  assert.equal(parseDuration("2m"), 120000);
  assert.equal(parseDuration("1.5"), 1500);
  assert.throws(() => parseDuration("soon"), /Cannot read duration "soon"/);
});

Deno.test("drive({ rate }) counts latency from when a request was due, so queueing shows", async () => {
  // One connection, a server that holds every answer 50 ms, 10 requests due 10 ms apart: the
  // k-th is due at 10k ms but cannot be sent before 50k ms, so the last waits at least
  // 9 × 40 + 50 = 410 ms from when it was due, however fast this machine is. A closed loop
  // would see only the 50 ms of each answer.
  const server = rawServer(async (conn) => {
    const buf = new Uint8Array(4096);
    while ((await conn.read(buf)) !== null) {
      await new Promise((r) => setTimeout(r, 50));
      await conn.write(new TextEncoder().encode("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"));
    }
  });
  try {
    const { summary: s } = await drive({
      host: "127.0.0.1",
      port: server.port,
      path: "/",
      count: 10,
      concurrency: 1,
      threads: 1,
      rate: 100,
    });
    assert.equal(s.ok, 10);
    assert.ok(s.latency_ms.max >= 410, `the queue did not show: max ${s.latency_ms.max} ms`);
  } finally {
    await server.close();
  }
});

Deno.test("drive() refuses a rate that is not above 0", async () => {
  await assert.rejects(
    () => drive({ host: "127.0.0.1", port: 1, path: "/", count: 1, rate: 0 }),
    /rate must be above 0/,
  );
});
