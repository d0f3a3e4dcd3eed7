/**
 * WebSockets and siphon.pubsub (memory backend) end to end: the real server, real sockets on
 * 127.0.0.1, the fixture script tests/fixtures/websocket/app.py.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, ROOT, startServer, waitFor } from "../../harness/launch.ts";
import {
  type Client,
  connect,
  frames,
  handshakeRequest,
  rawConnect,
  UPGRADE_HEADERS,
} from "../../harness/ws_raw.ts";

const FIXTURE = join(ROOT, "tests", "fixtures", "websocket");

/** The fixture in a folder of its own (a test may edit the script). */
function fixtureCopy(): string {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-ws-" });
  for (const f of ["app.py", "http.yaml"]) Deno.copyFileSync(join(FIXTURE, f), join(dir, f));
  return dir;
}

async function serve(env: Record<string, string>, dir = fixtureCopy()) {
  const port = freePort();
  const admin = freePort();
  const server = await startServer({
    config: join(dir, "http.yaml"),
    env: { PORT: String(port), ADMIN_PORT: String(admin), ...env },
  });
  const metric = async (name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${admin}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(name + " "));
    return Number(line?.split(" ")[1] ?? NaN);
  };
  return { server, port, dir, url: (path: string) => `ws://127.0.0.1:${port}${path}`, metric };
}

function closeAll(clients: Client[]) {
  for (const c of clients) c.ws.close();
  return Promise.all(clients.map((c) => c.closed));
}

Deno.test("WebSockets: handshake, messages, guards, failures and limits", async (t) => {
  const { server, port, url, metric } = await serve({});
  try {
    await t.step("the handler sees the upgrade request and echoes text and bytes", async () => {
      const c = connect(url("/ws/echo/lobby?q=42"), ["chat.v1", "chat.v2"]);
      assert.equal(await c.opened, true);
      const hello = JSON.parse(await c.next() as string);
      assert.deepEqual(
        { ...hello, worker: undefined },
        {
          version: "v1",
          room: "lobby",
          q: "42",
          agent: null,
          client: "127.0.0.1",
          subprotocol: "chat.v2",
          worker: undefined,
        },
      );
      assert.equal(c.ws.protocol, "chat.v2");
      c.send("héllo");
      assert.equal(await c.next(), "héllo");
      c.send(new Uint8Array([0, 1, 255]));
      assert.deepEqual(await c.next(), new Uint8Array([0, 1, 255]));
      c.ws.close(4321, "bye");
      assert.equal((await c.closed).code, 4321);
      await server.waitForLog(/echo lobby ended with 4321/);
    });

    await t.step("a plain GET to a websocket route is told to upgrade (426)", async () => {
      const res = await fetch(`http://127.0.0.1:${port}/ws/echo/lobby`);
      assert.equal(res.status, 426);
      assert.equal(res.headers.get("upgrade"), "websocket");
      await res.body?.cancel();
    });

    await t.step("a guard refuses the upgrade; wrap-around middleware never runs", async () => {
      const refused = connect(url("/ws/private"));
      assert.equal(await refused.opened, false);
      const res = await fetch(`http://127.0.0.1:${port}/ws/private`, {
        headers: UPGRADE_HEADERS,
      });
      assert.equal(res.status, 401);
      assert.equal(await res.text(), "who are you?");
      // the fixture's wrap-around middleware raises for /ws/ paths: it must not have run
      const raw = await rawConnect(port, "/ws/echo/raw");
      assert.match(raw.head, /^HTTP\/1.1 101/);
      raw.conn.close();
    });

    await t.step("a handler that closes says so with its code and reason", async () => {
      // Deno's WebSocket cannot send Authorization: a hand-made handshake can
      const raw = await rawConnect(port, "/ws/private", { authorization: "Bearer let-me-in" });
      assert.match(raw.head, /^HTTP\/1.1 101/);
      const got = frames(await raw.readAll()); // up to the server's close frame
      raw.conn.close();
      assert.deepEqual(got.map(([op]) => op), [1, 8]);
      assert.equal(new TextDecoder().decode(got[0][1]), "secret");
      assert.equal((got[1][1][0] << 8) | got[1][1][1], 4001);
      assert.equal(new TextDecoder().decode(got[1][1].slice(2)), "that is all");
    });

    await t.step(
      "accept(headers=…) adds them to the 101; a header that cannot be sent refuses",
      async () => {
        const raw = await rawConnect(port, "/ws/headers/ok");
        raw.conn.close();
        assert.match(raw.head, /^HTTP\/1.1 101/);
        assert.deepEqual(raw.head.match(/^set-cookie: .*$/gim), [
          "set-cookie: seat=12",
          "set-cookie: row=c",
        ]);
        assert.match(raw.head, /^x-room: lobby$/im);
        for (const how of ["split", "own"]) {
          const res = await fetch(`http://127.0.0.1:${port}/ws/headers/${how}`, {
            headers: UPGRADE_HEADERS,
          });
          assert.equal(res.status, 500, how);
          assert.equal(res.headers.get("set-cookie"), null);
          await res.body?.cancel();
        }
        await server.waitForLog(
          /with_headers .*raised ValueError[^]*'x-evil': its value holds the control byte 0x0d/,
        );
        await server.waitForLog(
          /with_headers .*raised ValueError[^]*'Sec-WebSocket-Accept' is the handshake's own header/,
        );
        const again = await rawConnect(port, "/ws/echo/after");
        assert.match(again.head, /^HTTP\/1.1 101/);
        again.conn.close();
      },
    );

    await t.step(
      "a handler that raises closes with 1011; the traceback goes to the log",
      async () => {
        const c = connect(url("/ws/boom"));
        assert.equal(await c.opened, true);
        c.send("kaboom");
        const closed = await c.closed;
        assert.equal(closed.code, 1011);
        assert.doesNotMatch(closed.reason, /Traceback|ValueError/);
        const line = await server.waitForLog(
          /WebSocket \/ws\/boom: boom \(WS \/ws\/boom\) raised ValueError\n[^]*?request_id=(\S+)/,
        );
        assert.match(line[0], /handler failed on 'kaboom'/);
        assert.match(line[0], /app\.py", line \d+, in boom/);
      },
    );

    await t.step(
      "refusing before the handshake: close → 403, a Response → it, raise → 500",
      async () => {
        const status = async (how: string) => {
          const res = await fetch(`http://127.0.0.1:${port}/ws/refuse/${how}`, {
            headers: UPGRADE_HEADERS,
          });
          const text = await res.text();
          return `${res.status} ${text.trim()}`;
        };
        assert.match(await status("close"), /^403 /);
        assert.equal(await status("response"), "409 not now");
        assert.equal(await status("raise"), "500 Internal Server Error");
        assert.match(await status("nothing"), /^403 /);
        await server.waitForLog(/refuse \(WS \/ws\/refuse\/\{how\}\) raised KeyError/);
      },
    );

    await t.step("a message over ws_max_message_bytes closes the socket with 1009", async () => {
      const c = connect(url("/ws/echo/big"));
      await c.next();
      c.send("x".repeat(1024));
      assert.equal((await c.next() as string).length, 1024);
      c.send("é".repeat(600)); // 1,200 bytes of UTF-8
      const closed = await c.closed;
      assert.equal(closed.code, 1009);
      assert.match(closed.reason, /1200 bytes > ws_max_message_bytes 1024/);
    });

    await t.step("a client that does not read holds the handler's send, not memory", async () => {
      const raw = await rawConnect(port, "/ws/flood");
      const sent = () => server.logs().match(/flood sent \d+/g)?.length ?? 0;
      // Wait until the sends stop advancing (the socket's buffers are full), then check it
      // stopped short: without back-pressure all 200 × 256 KiB would be "sent" at once.
      let last = -1;
      await waitFor(async () => {
        const now = sent();
        const still = now === last && now > 0;
        last = now;
        if (!still) await new Promise((r) => setTimeout(r, 300));
        return still;
      }, "the flood's sends to stop advancing");
      assert.ok(last < 200, `sends went on without a reader: ${last}`);
      const bytes = await raw.readAll(); // reading lets every send through; the handler ends
      raw.conn.close();
      const data = frames(bytes).filter(([op]) => op === 2);
      assert.equal(data.length, 200);
      await server.waitForLog(/flood sent 200\b/);
    });

    await t.step("/metrics counts open sockets and messages in and out", async () => {
      const before = await metric('siphon_websocket_messages_total{direction="in"}');
      const c = connect(url("/ws/echo/metrics"));
      await c.next();
      await waitFor(async () => (await metric("siphon_websockets_open")) === 1, "1 open socket");
      c.send("one");
      await c.next();
      assert.equal(await metric('siphon_websocket_messages_total{direction="in"}'), before + 1);
      assert.ok((await metric("siphon_websockets_accepted_total")) >= 6);
      c.ws.close();
      await c.closed;
      await waitFor(async () => (await metric("siphon_websockets_open")) === 0, "0 open sockets");
    });
  } finally {
    await server.stop();
  }
});

Deno.test("WebSockets on one worker: idle timeout, slow subscriber, connection cap, crash", async (t) => {
  const { server, port, url, metric } = await serve({
    WORKERS: "1",
    MAX_SOCKETS: "3",
    IDLE_MS: "600",
    QUEUE: "4",
    TIMEOUT_MS: "2000",
  });
  try {
    await t.step(
      "a client that answers no ping is closed once ws_idle_timeout_ms passes",
      async () => {
        const raw = await rawConnect(port, "/ws/echo/silent");
        const got = frames(await raw.readAll()); // the server ends it: no timer here
        raw.conn.close();
        const ops = got.map(([op]) => op);
        assert.ok(ops.includes(9), `a ping before closing: ${ops}`);
        const close = got.find(([op]) => op === 8)!;
        assert.equal((close[1][0] << 8) | close[1][1], 1001);
        await server.waitForLog(/echo silent ended with 1001/);
      },
    );

    await t.step(
      "a subscriber that does not read keeps its first messages, drops the rest",
      async () => {
        const active = connect(url("/ws/room/main"));
        await active.next();
        const lazy = connect(url("/ws/lazy/main"));
        assert.equal(await lazy.next(), "subscribed");
        const dropped = await metric('siphon_pubsub_messages_total{result="dropped"}');
        for (let i = 0; i < 10; i++) {
          const res = await fetch(`http://127.0.0.1:${port}/publish/room:main`, {
            method: "POST",
            body: `p${i}`,
          });
          assert.equal(res.status, 204);
        }
        for (const c of [active]) { // the other subscriber got all ten
          for (let i = 0; i < 10; i++) assert.equal(await c.next(), `p${i}`);
        }
        lazy.send("now");
        assert.deepEqual(JSON.parse(await lazy.next() as string), ["p0", "p1", "p2", "p3"]);
        assert.equal(await metric('siphon_pubsub_messages_total{result="dropped"}'), dropped + 6);
        await closeAll([lazy, active]);
      },
    );

    await t.step("a client gone before the handshake does not hold its handler", async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(handshakeRequest(port, "/ws/slow"));
      conn.close(); // before the handler accepts
      await server.waitForLog(/slow ended with 1006/);
      await waitFor(async () => (await metric("siphon_websockets_open")) === 0, "0 open");
    });

    await t.step(
      "a socket handler that blocks the loop is interrupted; the worker serves on",
      async () => {
        const c = connect(url("/ws/spin"));
        assert.equal(await c.opened, true);
        c.send("go");
        assert.equal((await c.closed).code, 1011);
        await server.waitForLog(/spin \(WS \/ws\/spin\) raised KeyboardInterrupt/);
        const d = connect(url("/ws/echo/after-spin"));
        assert.equal(JSON.parse(await d.next() as string).room, "after-spin");
        await closeAll([d]);
      },
    );

    await t.step("beyond ws_max_connections the upgrade gets 503", async () => {
      const a = connect(url("/ws/echo/a"));
      const b = connect(url("/ws/echo/b"));
      const x = connect(url("/ws/echo/x"));
      await Promise.all([a.next(), b.next(), x.next()]);
      const res = await fetch(`http://127.0.0.1:${port}/ws/echo/c`, {
        headers: UPGRADE_HEADERS,
      });
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("retry-after"), "1");
      await res.body?.cancel();
      b.ws.close();
      await b.closed;
      const c = connect(url("/ws/echo/c"));
      assert.equal(await c.opened, true);
      await c.next();
      await closeAll([a, c, x]);
    });

    await t.step(
      "a worker that crashed closes its sockets with 1011; a new one serves",
      async () => {
        const [a, c] = [connect(url("/ws/echo/a2")), connect(url("/ws/echo/c2"))];
        await Promise.all([a.next(), c.next()]);
        await fetch(`http://127.0.0.1:${port}/crash`).catch(() => null);
        const [ca, cc] = await Promise.all([a.closed, c.closed]);
        assert.deepEqual([ca.code, cc.code], [1011, 1011]);
        await server.waitForLog(/worker 1 replaced in \d+ ms/);
        const d = connect(url("/ws/echo/d"));
        assert.equal(JSON.parse(await d.next() as string).room, "d");
        await closeAll([d]);
      },
    );
  } finally {
    await server.stop();
  }
});
Deno.test("siphon.pubsub (memory) reaches every worker in order; SIGTERM closes sockets with 1001", async (t) => {
  const { server, url } = await serve({});
  try {
    // Connections spread over the workers by the kernel: join until both workers hold some.
    const clients: Client[] = [];
    const workers = new Set<string>();
    while (workers.size < 2 || clients.length < 4) {
      assert.ok(clients.length < 64, "64 connections all went to one worker");
      const c = connect(url("/ws/room/main"));
      workers.add(await c.next() as string);
      clients.push(c);
    }
    await t.step("every subscriber gets every message, each publisher's in its order", async () => {
      const [x, y] = clients;
      for (let i = 0; i < 30; i++) (i % 2 ? y : x).send(`m${i}`);
      for (const c of clients) {
        const got: string[] = [];
        for (let i = 0; i < 30; i++) got.push(await c.next() as string);
        const evens = got.filter((m) => Number(m.slice(1)) % 2 === 0);
        const odds = got.filter((m) => Number(m.slice(1)) % 2 === 1);
        assert.deepEqual(evens, Array.from({ length: 15 }, (_, i) => `m${2 * i}`));
        assert.deepEqual(odds, Array.from({ length: 15 }, (_, i) => `m${2 * i + 1}`));
      }
    });

    await t.step(
      "SIGTERM closes open sockets with 1001 and lets their handlers finish",
      async () => {
        const echo = connect(url("/ws/echo/last"));
        await echo.next();
        const { code, logs } = await server.stop();
        const closed = await Promise.all([echo, ...clients].map((c) => c.closed));
        assert.deepEqual(new Set(closed.map((c) => c.code)), new Set([1001]));
        assert.equal(code, 0);
        assert.match(logs, /echo last ended with 1001/);
      },
    );
  } finally {
    await server.stop();
  }
});

Deno.test("a hot reload leaves open sockets on their generation; new ones get the new one", async () => {
  const dir = fixtureCopy();
  const { server, url } = await serve({ WORKERS: "1", TIMEOUT_MS: "1000" }, dir);
  try {
    const old = connect(url("/ws/echo/old"));
    assert.equal(JSON.parse(await old.next() as string).version, "v1");
    const script = join(dir, "app.py");
    Deno.writeTextFileSync(
      script,
      // v2 also has a slow on_startup: longer than request_timeout_ms, which bounds a serving
      // generation's steps but not the start of the next one
      Deno.readTextFileSync(script).replace('VERSION = "v1"', 'VERSION = "v2"') +
        "\n\n@http.on_startup\ndef slow_start():\n    time.sleep(1.5)\n",
    );
    await server.waitForLog(/reloaded \(file change\): generation 2 serving/);
    const fresh = connect(url("/ws/echo/new"));
    assert.equal(JSON.parse(await fresh.next() as string).version, "v2");
    old.send("still here");
    assert.equal(await old.next(), "still here");
    assert.equal(old.ws.readyState, WebSocket.OPEN);
    await closeAll([old, fresh]);
  } finally {
    await server.stop();
  }
});
