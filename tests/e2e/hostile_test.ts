/**
 * Attacks on a real server, each followed by proof that it still serves: header injection
 * through a reflected value, a flood of made-up methods, cache values too large, a log flood, a
 * runaway handler, WebSockets with the access log on, a peer that never answers a close, and
 * sockets whose messages nobody reads. Each step asserts the refusal the client sees, the line
 * the operator reads, and the count /metrics shows.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, fresh, ROOT, type Server, startServer, waitFor } from "../../harness/launch.ts";
import { connect, frames, rawConnect } from "../../harness/ws_raw.ts";

const CONFIG = join(ROOT, "tests", "fixtures", "hostile", "http.yaml");

async function hostile(env: Record<string, string> = {}, fileLimit?: number) {
  const port = freePort();
  const admin = freePort();
  const state = Deno.makeTempDirSync({ prefix: "siphon-hostile-" });
  const server = await startServer({
    config: CONFIG,
    env: { PORT: String(port), ADMIN_PORT: String(admin), STATE_DIR: state, ...env },
    fileLimit,
  });
  const base = `http://127.0.0.1:${port}`;
  const adminBase = `http://127.0.0.1:${admin}`;
  const metrics = async () => (await fresh(`${adminBase}/metrics`)).text;
  return { server, port, admin, adminBase, base, metrics, state };
}

/** One HTTP/1.1 request written by hand; the whole answer as the wire carried it. */
async function raw(port: number, head: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(head));
    let text = "";
    const buf = new Uint8Array(65536);
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      text += new TextDecoder().decode(buf.subarray(0, n));
      const end = text.indexOf("\r\n\r\n");
      const length = /content-length: (\d+)/i.exec(text);
      if (end !== -1 && length && text.length >= end + 4 + Number(length[1])) break;
    }
    return text;
  } finally {
    conn.close();
  }
}

/** A metric's value on the page (0 when absent). */
function metric(page: string, line: string): number {
  const hit = page.split("\n").find((l) => l.startsWith(line + " "));
  return hit ? Number(hit.slice(line.length + 1)) : 0;
}

async function stillServes(base: string, server: Server): Promise<void> {
  const res = await fresh(`${base}/ok`);
  assert.equal(res.status, 200, server.logs());
}

Deno.test("hostile clients: each attack is refused and the server still serves", async (t) => {
  const { server, port, base, metrics } = await hostile();
  try {
    await t.step("a NUL, VT or DEL reflected into a header is a 500 that names it", async () => {
      for (const v of ["a%00b", "a%0Bb", "a%7Fb", "a%00Set-Cookie%00session=x", "a%0D%0Ab:%20c"]) {
        const wire = await raw(port, `GET /reflect?v=${v} HTTP/1.1\r\nhost: x\r\n\r\n`);
        assert.match(wire, /^HTTP\/1\.1 500 /, `${v}: ${wire}`);
        assert.doesNotMatch(wire, /set-cookie|x-reflect/i, `${v} reached the wire: ${wire}`);
      }
      const name = await fresh(`${base}/reflect-name?n=x%00y`);
      assert.equal(name.status, 500);
      await server.waitForLog(/response header 'x-reflect': its value holds the control byte 0x00/);
      await server.waitForLog(/response header 'x-reflect': its value holds the control byte 0x0b/);
      await server.waitForLog(/response header 'x\\x00y': its name holds the control byte 0x00/);
      const good = await fresh(`${base}/reflect?v=${encodeURIComponent("tab\tand é")}`);
      assert.equal(good.status, 200);
      assert.equal(good.headers.get("x-reflect"), "tab\tand é", "HTAB and non-ASCII are fine");
      assert.equal(metric(await metrics(), 'siphon_limit_hits_total{limit="response_headers"}'), 6);
      await stillServes(base, server);
    });

    await t.step("made-up methods are counted as `other`: /metrics does not grow", async () => {
      const before = (await metrics()).length;
      for (let i = 0; i < 300; i++) {
        const method = `X${i.toString(36).toUpperCase()}Z`;
        const res = await fresh(`${base}/ok`, { method });
        assert.equal(res.status, 405);
      }
      assert.equal((await fresh(`${base}/nothing`, { method: "PURGE" })).status, 404);
      const page = await metrics();
      assert.ok(page.length < before + 600, `the page grew from ${before} to ${page.length}`);
      assert.equal(
        metric(page, 'siphon_requests_total{route="(none)",method="other",status="405"}'),
        300,
      );
      assert.equal(
        metric(page, 'siphon_requests_total{route="(none)",method="PURGE",status="404"}'),
        1,
      );
      assert.doesNotMatch(page, /method="X/);
      await stillServes(base, server);
    });

    await t.step(
      "cache values: over max_value_bytes refused, the rest kept within max_bytes",
      async () => {
        const put = (key: string, size: number) =>
          fresh(`${base}/cache/${key}?size=${size}`, { method: "PUT" });
        const refused = await put("huge", 5_000_000);
        assert.equal(refused.status, 507);
        assert.match(
          refused.text,
          /is 5000002 bytes, over max_value_bytes 4000000; nothing was stored/,
        );
        for (const key of ["a", "b", "c"]) assert.equal((await put(key, 3_900_000)).status, 201);
        const last = await fresh(`${base}/cache/c`);
        assert.equal(last.status, 200);
        assert.equal(last.text.length, 3_900_000, "what store accepted, fetch returns");
        assert.equal((await fresh(`${base}/cache/a`)).status, 404, "the oldest made room");
        assert.equal((await fresh(`${base}/cache/huge`)).status, 404);
        const page = await metrics();
        assert.ok(metric(page, 'siphon_cache_bytes{cache="big"}') <= 8388608, page);
        assert.ok(metric(page, 'siphon_limit_hits_total{limit="cache.max_value_bytes"}') >= 1);
        assert.ok(metric(page, 'siphon_limit_hits_total{limit="cache.max_bytes"}') >= 1);
        await stillServes(base, server);
      },
    );

    await t.step(
      "a log flood is cut to line and rate bounds, and says what it dropped",
      async () => {
        const before = server.logs().length;
        assert.equal((await fresh(`${base}/flood?n=500&size=100000`)).status, 200);
        await server.waitForLog(/log: suppressed \d+ lines \(\d+ bytes\) in the last/);
        const flood = server.logs().slice(before).split("\n").filter((l) => l.includes("yyyy"));
        assert.ok(flood.length > 0 && flood.length < 100, `${flood.length} of 500 lines written`);
        assert.ok(
          flood.every((l) => l.length < 16_600 && l.includes("[truncated: 83616 more bytes]")),
        );
        const page = await metrics();
        assert.ok(metric(page, 'siphon_limit_hits_total{limit="log.max_bytes_per_sec"}') >= 400);
        assert.ok(metric(page, 'siphon_limit_hits_total{limit="log.max_line_bytes"}') >= 1);
        await stillServes(base, server);
      },
    );

    await t.step("WebSockets with the access log: one line per socket, at its end", async () => {
      const client = connect(`ws://127.0.0.1:${port}/ws/echo?room=1`);
      assert.ok(await client.opened);
      client.send("hello");
      assert.equal(await client.next(), "hello");
      client.ws.close(1000, "done");
      await client.closed;
      await server.waitForLog(/GET \/ws\/echo\?room=1 101 .*duration_ms=[\d.]+ .*close_code=1000/);
      const again = connect(`ws://127.0.0.1:${port}/ws/echo`);
      assert.ok(await again.opened, "the listener still upgrades");
      again.ws.close();
      await again.closed;
      await stillServes(base, server);
    });

    await t.step(
      "a peer that never answers the close frame is dropped; it counts until then",
      async () => {
        const client = await rawConnect(port, "/ws/bye");
        assert.match(client.head, /^HTTP\/1\.1 101/);
        const got = frames(await client.readAll());
        assert.equal(got.at(-1)?.[0], 8, "the server's close frame");
        // The connection is still there, so it still counts.
        assert.equal(metric(await metrics(), "siphon_websockets_open"), 1);
        // …until the close timeout drops it: the read ends.
        const buf = new Uint8Array(16);
        assert.equal(await client.conn.read(buf).catch(() => null), null);
        client.conn.close();
        await server.waitForLog(
          /did not answer the close frame within ws_close_timeout_ms \(3000 ms\)/,
        );
        await waitFor(
          async () => metric(await metrics(), "siphon_websockets_open") === 0,
          "gauge 0",
        );
        assert.equal(
          metric(await metrics(), 'siphon_limit_hits_total{limit="ws_close_timeout_ms"}'),
          1,
        );
        await server.waitForLog(/GET \/ws\/bye 101 .*close_code=4000/);
      },
    );

    await t.step(
      "messages nobody reads are bounded over all sockets; oversize ones too",
      async () => {
        const chunk = "z".repeat(60_000);
        const sockets = Array.from({ length: 24 }, () => connect(`ws://127.0.0.1:${port}/ws/deaf`));
        for (const s of sockets) assert.ok(await s.opened);
        // 24 sockets × 2 × 60 kB > 1 MiB (ws_max_unread_bytes) once: the worker(s) refuse the rest.
        for (const s of sockets) for (let i = 0; i < 2; i++) s.send(chunk);
        const codes: number[] = [];
        for (const s of sockets) s.closed.then((e) => codes.push(e.code));
        await waitFor(() => codes.includes(1008), "a socket closed with 1008", () => server.logs());
        await server.waitForLog(
          /closed with 1008: this worker's sockets on 127\.0\.0\.1:\d+ hold over ws_max_unread_bytes 1048576/,
        );
        assert.ok(sockets.some((s) => s.ws.readyState === WebSocket.OPEN), "those within it stay");
        const big = connect(`ws://127.0.0.1:${port}/ws/echo`);
        assert.ok(await big.opened);
        big.send("q".repeat(70_000));
        assert.equal((await big.closed).code, 1009);
        for (const s of sockets) s.ws.close();
        await Promise.all(sockets.map((s) => s.closed));
        const page = await metrics();
        assert.ok(metric(page, 'siphon_limit_hits_total{limit="ws_max_unread_bytes"}') >= 1);
        assert.ok(metric(page, 'siphon_limit_hits_total{limit="ws_max_message_bytes"}') >= 1);
        await stillServes(base, server);
      },
    );
  } finally {
    await server.stop();
  }
});

Deno.test("a runaway handler that swallows every interrupt gets its worker replaced", async () => {
  const { server, base, adminBase } = await hostile({ TIMEOUT_MS: "500" });
  try {
    const started = await fresh(`${base}/runaway`);
    assert.equal(started.status, 200);
    const hogged = started.text.slice(-1);
    await server.waitForLog(
      new RegExp(`worker ${hogged}: interrupted 4 times in 60 s \\(a runaway handler\\)`),
    );
    await server.waitForLog(new RegExp(`worker ${hogged} replaced in \\d+ ms`));
    const seen = new Set<string>();
    await waitFor(
      async () => {
        const r = await fresh(`${base}/ok`);
        if (r.status === 200) seen.add(r.text);
        return seen.size === 2;
      },
      "both workers serving again",
      () => server.logs(),
    );
    await waitFor(
      async () => (await fresh(`${adminBase}/readyz`)).status === 200,
      "/readyz 200",
    );
    const page = (await fresh(`${adminBase}/metrics`)).text;
    assert.ok(metric(page, "siphon_worker_interrupts_total") >= 4, page);
    assert.equal(metric(page, "siphon_worker_restarts_total"), 1);
  } finally {
    await server.stop();
  }
});

Deno.test("out of descriptors: listeners come back by themselves; /healthz never ends the process", async () => {
  const { server, port, base, adminBase, metrics } = await hostile({ ACCESS: "false" }, 400);
  const held: Deno.TcpConn[] = [];
  try {
    await stillServes(base, server);
    // Idle connections until the server's descriptors run out (the kernel keeps accepting into
    // the backlog; the server's accept fails with EMFILE).
    for (let i = 0; i < 600; i++) {
      try {
        held.push(await Deno.connect({ hostname: "127.0.0.1", port }));
      } catch {
        break;
      }
    }
    await server.waitForLog(
      /listener 127\.0\.0\.1:\d+ stopped accepting \(.*[Tt]oo many open files/,
    );
    // The admin listener is probed meanwhile: it may not answer, but the process lives on.
    const probes = await Promise.all(
      ["healthz", "readyz"].map((p) =>
        fresh(`${adminBase}/${p}`, { signal: AbortSignal.timeout(2000) }).then(
          (r) => r.status,
          () => 0,
        )
      ),
    );
    assert.ok(probes.every((s) => s === 0 || s === 200 || s === 503), String(probes));
    for (const c of held.splice(0)) c.close();
    // Service resumes by itself once the clients leave.
    await server.waitForLog(/listener 127\.0\.0\.1:\d+ accepts again after \d+ ms/);
    await waitFor(async () => (await fresh(`${base}/ok`)).status === 200, "GET /ok 200 again");
    await waitFor(async () => (await fresh(`${adminBase}/readyz`)).status === 200, "/readyz 200");
    const page = await metrics();
    assert.ok(metric(page, "siphon_listener_failures_total") >= 1, page);
    assert.equal(metric(page, "siphon_listeners_down"), 0);
  } finally {
    for (const c of held) c.close();
    const { code, logs } = await server.stop();
    assert.equal(code, 0, logs);
  }
});

Deno.test("/readyz is 503 while a worker is missing, and 200 once its replacement serves", async () => {
  const { server, base, adminBase, metrics, state } = await hostile();
  try {
    const readyz = async () => (await fresh(`${adminBase}/readyz`)).status;
    assert.equal(await readyz(), 200);
    Deno.writeTextFileSync(join(state, "fail-startup"), "");
    assert.equal((await fresh(`${base}/exit`)).status, 500);
    await server.waitForLog(
      /cannot start a replacement for worker \d \(@http.on_startup refuse_when_told/,
    );
    await server.waitForLog(/serving with 1 worker \(\/readyz 503\); trying again in 1000 ms/);
    assert.equal(await readyz(), 503);
    const page = await metrics();
    assert.equal(metric(page, "siphon_ready"), 0);
    assert.equal(metric(page, "siphon_workers"), 1);
    await stillServes(base, server); // the other worker serves all along
    Deno.removeSync(join(state, "fail-startup"));
    await server.waitForLog(/worker \d replaced in \d+ ms/);
    await waitFor(async () => await readyz() === 200, "/readyz 200 once replaced");
    assert.equal(metric(await metrics(), "siphon_workers"), 2);
  } finally {
    await server.stop();
  }
});
