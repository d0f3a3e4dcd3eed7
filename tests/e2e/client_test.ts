/**
 * The outbound http.Client end to end: a siphon-deno server whose handlers call upstream
 * servers started here (plain HTTP and HTTPS with a test CA).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { makeCerts, makeClientCert } from "../_certs.ts";
import { freePort, ROOT, startServer } from "../../harness/launch.ts";

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
        target: path + new URL(req.url).search,
        auth: req.headers.get("authorization"),
      });
    }
    const hops = /^\/hops\/(\d+)\/(\d+)$/.exec(path);
    if (hops) {
      const left = Number(hops[1]);
      const location = left === 0 ? "/echo" : `/hops/${left - 1}/${hops[2]}`;
      return new Response(null, { status: Number(hops[2]), headers: { location } });
    }
    if (path === "/away") {
      return new Response(null, {
        status: 307,
        headers: { location: `http://localhost:${upPort}/echo` },
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
  // An upstream that requires a client certificate signed by the test CA.
  const client = await makeClientCert(join(certs.ca, ".."), "client");
  const combined = join(certs.ca, "..", "client-combined.pem");
  Deno.writeTextFileSync(
    combined,
    Deno.readTextFileSync(client.cert) + Deno.readTextFileSync(client.key),
  );
  const mutual = createServer({
    cert: Deno.readTextFileSync(certs.cert),
    key: Deno.readTextFileSync(certs.key),
    ca: Deno.readTextFileSync(certs.ca),
    requestCert: true,
    rejectUnauthorized: true,
  }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    res.end(`hello ${peer.subject?.CN}`);
  });
  await new Promise<void>((ok) => mutual.listen(0, "127.0.0.1", ok));
  const mtlsBase = `https://localhost:${(mutual.address() as AddressInfo).port}`;
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startServer({
    config: join(ROOT, "tests", "fixtures", "client", "http.yaml"),
    env: {
      PORT: String(port),
      UP_PORT: String(upPort),
      TLS_PORT: String(tlsPort),
      CA_FILE: certs.ca,
      CERT_DIR: join(certs.ca, ".."),
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
        target: "/echo",
        auth: null,
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
          target: "/echo",
          auth: null,
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
    await t.step(
      "an unknown client name raises siphon-http's RuntimeError, listing the configured ones",
      async () => {
        assert.equal(
          (await text("/unknown")).text,
          'UnknownClientError True: no client named "nope" in the http addon config ' +
            "(clients.nope); add it under clients: in http.yaml (configured: h2, insecure, " +
            "secure, up)",
        );
      },
    );
    await t.step(
      "siphon-http's positional arguments; a :// in the query keeps the path relative",
      async () => {
        const [post, get, del, put, patch] = JSON.parse((await text("/positional")).text);
        assert.deepEqual([post.method, post.body, post.token], ["POST", "pos", "p"]);
        assert.deepEqual(
          [get.method, get.target, get.via],
          ["GET", "/echo?next=https://elsewhere.example/x", "q"],
        );
        assert.deepEqual([del.method, del.token], ["DELETE", "d"]);
        assert.deepEqual([put.method, put.body], ["PUT", "put"]);
        assert.deepEqual([patch.method, patch.body], ["PATCH", "patch"]);
      },
    );
    await t.step("redirects are followed as reqwest follows them, up to 10", async () => {
      const via = (method: string, path: string, body = "") =>
        text(`/redirect?method=${method}&path=${encodeURIComponent(path)}&body=${body}`);
      const tenHops = await via("GET", "/hops/9/302"); // /hops/N redirects N + 1 times
      assert.equal(tenHops.status, 200, tenHops.text);
      const ten = JSON.parse(tenHops.text);
      assert.deepEqual([ten.method, ten.target, ten.auth], ["GET", "/echo", "Bearer secret"]);
      const eleven = await via("GET", "/hops/10/301");
      assert.equal(eleven.status, 502);
      assert.equal(
        eleven.text,
        `GET http://127.0.0.1:${upPort}/hops/10/301: too many redirects (more than 10; the ` +
          `last to http://127.0.0.1:${upPort}/echo)`,
      );
      const seeOther = JSON.parse((await via("POST", "/hops/1/303", "data")).text);
      assert.deepEqual([seeOther.method, seeOther.body], ["GET", ""]);
      const kept = JSON.parse((await via("POST", "/hops/2/307", "data")).text);
      assert.deepEqual([kept.method, kept.body, kept.token], ["POST", "data", "kept"]);
      const away = JSON.parse((await via("PUT", "/away", "data")).text);
      assert.deepEqual([away.method, away.body, away.auth, away.token], [
        "PUT",
        "data",
        null,
        "kept",
      ]);
    });
    await t.step("client errors and raise_for_status() are RuntimeErrors", async () => {
      assert.equal(
        (await text(`/runtime?dead=http://127.0.0.1:${freePort()}`)).text,
        "ClientError HTTPStatusError",
      );
    });
    await t.step("cert= takes a (cert, key) pair or a combined PEM", async () => {
      const q = (extra: string) => `/mtls?base=${mtlsBase}&ca=${certs.ca}&${extra}`;
      assert.equal((await text(q(`cert=${client.cert}&key=${client.key}`))).text, "hello client");
      assert.equal((await text(q(`cert=${combined}`))).text, "hello client");
    });
    await t.step("an HTTPStatus status is sent; a str body gets no content-type", async () => {
      const r = await text("/enum-status");
      assert.deepEqual(r, { status: 201, text: "made", type: null });
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
    mutual.close();
    await Promise.all([upstream.finished, secure.finished]);
  }
});
