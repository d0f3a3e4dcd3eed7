/**
 * The outbound http.Client end to end: a siphon-deno server whose handlers call upstream
 * servers started here (plain HTTP and HTTPS with a test CA).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeCerts } from "./_certs.ts";
import { freePort, ROOT, startServer } from "./_server.ts";

Deno.test("http.Client: named and inline clients, errors, TLS verification, concurrency", async (t) => {
  const certs = await makeCerts(Deno.makeTempDirSync({ prefix: "siphon-client-" }));
  const stop = new AbortController();
  // `/together/N` answers only once N such requests wait at the same time, so a reply proves
  // they were in flight together (handlers that blocked each other would never get there).
  const waiting = new Map<number, (() => void)[]>();
  const together = (n: number) =>
    new Promise<Response>((resolve) => {
      const group = waiting.get(n) ?? [];
      waiting.set(n, group);
      const timer = setTimeout(() => resolve(new Response("apart", { status: 504 })), 60_000);
      group.push(() => {
        clearTimeout(timer);
        resolve(new Response("together"));
      });
      if (group.length === n) {
        waiting.delete(n);
        for (const release of group) release();
      }
    });
  const upPort = freePort();
  const tlsPort = freePort();
  const upstream = Deno.serve({
    hostname: "127.0.0.1",
    port: upPort,
    signal: stop.signal,
    onListen() {},
  }, async (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/echo") {
      return Response.json({
        method: req.method,
        body: await req.text(),
        via: req.headers.get("x-via"),
        token: req.headers.get("x-token"),
      });
    }
    if (path.startsWith("/together/")) return together(Number(path.slice(10)));
    if (path === "/hang") {
      return new Promise((r) => req.signal.addEventListener("abort", () => r(new Response(null))));
    }
    if (path === "/status/404") return new Response("missing", { status: 404 });
    return new Response(`hi from upstream ${path}`, { headers: { "content-type": "text/x-up" } });
  });
  const secure = Deno.serve({
    hostname: "127.0.0.1",
    port: tlsPort,
    cert: Deno.readTextFileSync(certs.cert),
    key: Deno.readTextFileSync(certs.key),
    signal: stop.signal,
    onListen() {},
  }, () => Response.json({ method: "GET" }));
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startServer({
    config: join(ROOT, "tests", "fixtures", "client", "http.yaml"),
    env: {
      PORT: String(port),
      UP_PORT: String(upPort),
      TLS_PORT: String(tlsPort),
      CA_FILE: certs.ca,
    },
  });
  const text = (path: string, init?: RequestInit) =>
    fetch(base + path, init).then(async (r) => ({
      status: r.status,
      text: await r.text(),
      type: r.headers.get("content-type"),
    }));
  try {
    await t.step("a named client proxies through base_url, relative paths joined", async () => {
      const r = await text("/proxy/a/b");
      assert.deepEqual(r, { status: 200, text: "hi from upstream /a/b", type: "text/x-up" });
    });
    await t.step("post sends body and headers", async () => {
      const r = await text("/post", { method: "POST", body: "payload ✓" });
      assert.deepEqual(JSON.parse(r.text), {
        method: "POST",
        body: "payload ✓",
        via: null,
        token: "t1",
      });
    });
    await t.step("inline client with async with", async () => {
      assert.equal((await text(`/inline?base=http://127.0.0.1:${upPort}`)).text, "200 GET");
    });
    await t.step("timeouts raise http.ClientError naming the URL", async () => {
      const r = await text("/timeout");
      assert.equal(r.status, 504);
      assert.equal(r.text, `GET http://127.0.0.1:${upPort}/hang: timed out after 300 ms`);
    });
    await t.step("raise_for_status() says which request failed", async () => {
      assert.equal(
        (await text("/raise")).text,
        `404: HTTP status 404 from GET http://127.0.0.1:${upPort}/status/404`,
      );
    });
    await t.step(
      "http2_prior_knowledge speaks h2c (HTTP/1 is off, so success means h2)",
      async () => {
        assert.deepEqual(JSON.parse((await text("/h2")).text), {
          method: "PUT",
          body: "over h2c",
          via: null,
          token: null,
        });
      },
    );
    await t.step(
      "absolute URLs pass through; a refused connection raises with the URL",
      async () => {
        const echo = JSON.parse((await text(`/absolute?url=http://127.0.0.1:${upPort}/echo`)).text);
        assert.equal(echo.method, "DELETE");
        const dead = freePort();
        const r = await text(`/refused?base=http://127.0.0.1:${dead}`);
        assert.equal(r.status, 502);
        assert.match(r.text, new RegExp(`^PATCH http://127\\.0\\.0\\.1:${dead}/x: `));
      },
    );
    await t.step("an unknown client name lists the configured ones", async () => {
      assert.equal(
        (await text("/unknown")).text,
        "http.Client('nope'): no such client in http.yaml `clients:` (configured: h2, insecure, secure, up)",
      );
    });
    await t.step(
      "TLS: verify with the test CA succeeds; without it the handshake fails",
      async () => {
        assert.equal((await text("/tls?client=secure")).text, "ok 200");
        const bad = await text("/tls?client=insecure");
        assert.equal(bad.status, 502);
        assert.match(
          bad.text,
          new RegExp(`^GET https://localhost:${tlsPort}/echo: .*(certificate|UnknownIssuer)`, "i"),
        );
      },
    );
    await t.step(
      "awaiting handlers do not block each other: 20 upstream calls at once",
      async () => {
        const all = await Promise.all(Array.from({ length: 20 }, () => text("/proxy/together/20")));
        assert.deepEqual(all.map((r) => r.text), Array(20).fill("together"));
        assert.equal((await text("/fanout")).text, "200,200,200");
      },
    );
  } finally {
    await server.stop();
    stop.abort();
    await Promise.all([upstream.finished, secure.finished]);
  }
});
