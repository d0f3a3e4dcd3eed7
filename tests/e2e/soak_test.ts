/**
 * Every feature on at once, under a mixed load for a bounded time: the access log, metrics and
 * OpenTelemetry on; HTTP/1.1, h2c and TLS + h2 clients; streamed uploads and server-sent
 * events; middleware; a memory cache; WebSockets, alone and through pubsub. Nothing may answer
 * an unexpected status, both workers must serve to the end, and `/readyz` must say so all along.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeCerts } from "../_certs.ts";
import { freePort, fresh, ROOT, startServer, waitFor } from "../../harness/launch.ts";
import { connect } from "../../harness/ws_raw.ts";

const CONFIG = join(ROOT, "tests", "fixtures", "soak", "http.yaml");
/** How long the load runs (the test's own bound, not a speed claim). */
const LOAD_MS = 8000;

Deno.test("all features on, mixed load: no unexpected status, every worker serving, /readyz true", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-soak-" });
  const certs = await makeCerts(dir);
  const spans = { count: 0 };
  const collector = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const body = await req.json().catch(() => ({}));
      for (const r of body.resourceSpans ?? []) {
        for (const s of r.scopeSpans ?? []) spans.count += s.spans?.length ?? 0;
      }
      return Response.json({ partialSuccess: {} });
    },
  );
  const [port, tlsPort, admin] = [freePort(), freePort(), freePort()];
  const server = await startServer({
    config: CONFIG,
    env: {
      PORT: String(port),
      TLS_PORT: String(tlsPort),
      ADMIN_PORT: String(admin),
      CERT: certs.cert,
      KEY: certs.key,
      OTEL_DENO: "true",
      OTEL_SERVICE_NAME: "siphon-soak",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.addr.port}`,
      OTEL_DENO_CONSOLE: "ignore",
    },
  });
  const plain = `http://127.0.0.1:${port}`;
  const h1 = Deno.createHttpClient({ http2: false });
  const h2c = Deno.createHttpClient({ http1: false, http2: true });
  const tls = Deno.createHttpClient({ caCerts: [Deno.readTextFileSync(certs.ca)], http1: false });
  const unexpected: string[] = [];
  const done = new Map<string, number>();
  const workers = new Set<string>();
  const readyz: number[] = [];
  const end = Date.now() + LOAD_MS;
  const count = (lane: string) => done.set(lane, (done.get(lane) ?? 0) + 1);
  const expect = async (lane: string, res: Response, status: number, body?: string) => {
    const text = await res.text();
    if (res.status !== status || (body !== undefined && text !== body)) {
      unexpected.push(`${lane}: ${res.status} ${text.slice(0, 80)}`);
    } else count(lane);
    const worker = res.headers.get("x-worker");
    if (worker) workers.add(worker);
    return text;
  };
  const lane = (name: string, step: () => Promise<void>) =>
    (async () => {
      while (Date.now() < end) {
        await step().catch((e) => unexpected.push(`${name}: ${(e as Error).message}`));
      }
    })();
  const chunk = new Uint8Array(64 * 1024).fill(7);
  try {
    await Promise.all([
      lane("http/1.1", async () => {
        await expect("http/1.1", await fetch(`${plain}/who`, { client: h1 }), 200);
        const res = await fetch(`${plain}/echo`, { client: h1, method: "POST", body: "ping" });
        await expect("http/1.1", res, 200, "ping");
      }),
      lane("h2c", async () => {
        await expect("h2c", await fetch(`${plain}/count`, { client: h2c }), 200);
        await expect(
          "h2c",
          await fetch(`${plain}/who`, { client: h2c, headers: { "x-deny": "1" } }),
          403,
          "denied",
        );
      }),
      // A new connection each time: the kernel spreads connections over the workers, so over
      // the run both must answer (a few long-lived ones could all land on one).
      lane("new connections", async () => {
        const res = await fresh(`${plain}/who`);
        if (res.status !== 200) unexpected.push(`new connections: ${res.status}`);
        else count("new connections");
        const worker = res.headers.get("x-worker");
        if (worker) workers.add(worker);
        await new Promise((r) => setTimeout(r, 20));
      }),
      lane("tls h2", async () => {
        await expect(
          "tls h2",
          await fetch(`https://127.0.0.1:${tlsPort}/who`, { client: tls }),
          200,
        );
      }),
      lane("upload", async () => {
        const body = new ReadableStream<Uint8Array>({
          start(c) {
            for (let i = 0; i < 8; i++) c.enqueue(chunk);
            c.close();
          },
        });
        const res = await fetch(`${plain}/upload`, { client: h1, method: "POST", body });
        await expect("upload", res, 200, String(8 * chunk.byteLength));
      }),
      lane("sse", async () => {
        const text = await expect("sse", await fetch(`${plain}/sse`, { client: h1 }), 200);
        if ((text.match(/^data: /gm) ?? []).length !== 5) unexpected.push(`sse: ${text}`);
      }),
      lane("websocket", async () => {
        const ws = connect(`ws://127.0.0.1:${port}/ws/echo`);
        if (!await ws.opened) throw new Error("echo socket refused");
        for (let i = 0; i < 20; i++) {
          ws.send(`m${i}`);
          if (await ws.next() !== `m${i}`) throw new Error(`echo ${i} wrong`);
        }
        ws.ws.close(1000);
        await ws.closed;
        count("websocket");
      }),
      lane("pubsub", async () => {
        const [a, b] = [
          connect(`ws://127.0.0.1:${port}/ws/room`),
          connect(`ws://127.0.0.1:${port}/ws/room`),
        ];
        if (!await a.opened || !await b.opened) throw new Error("room socket refused");
        assert.equal(await a.next(), "joined");
        assert.equal(await b.next(), "joined");
        a.send("hello room");
        const got = [await a.next(), await b.next()];
        if (got.some((m) => m !== "hello room")) throw new Error(`room got ${got}`);
        a.ws.close(1000);
        b.ws.close(1000);
        await Promise.all([a.closed, b.closed]);
        count("pubsub");
      }),
      (async () => {
        while (Date.now() < end) {
          readyz.push((await fresh(`http://127.0.0.1:${admin}/readyz`)).status);
          await new Promise((r) => setTimeout(r, 250));
        }
      })(),
    ]);
    assert.deepEqual(unexpected, [], server.logs().slice(-3000));
    for (
      const l of [
        "http/1.1",
        "h2c",
        "new connections",
        "tls h2",
        "upload",
        "sse",
        "websocket",
        "pubsub",
      ]
    ) {
      assert.ok((done.get(l) ?? 0) > 0, `${l} never completed`);
    }
    assert.ok(readyz.length > 0 && readyz.every((s) => s === 200), `readyz: ${readyz}`);
    assert.deepEqual([...workers].sort(), ["1", "2"], "both workers served");
    const page = (await fresh(`http://127.0.0.1:${admin}/metrics`)).text;
    assert.match(page, /siphon_requests_total\{route="\/who",method="GET",status="200"\} \d+/);
    assert.doesNotMatch(page, /method="(?!GET|POST)/);
    assert.match(page, /siphon_ready 1/);
    assert.doesNotMatch(server.logs(), /died|uncaught|unhandled|stopped accepting/);
    await server.waitForLog(/GET \/ws\/echo 101 .*close_code=1000/);
    console.log(`  ${[...done].map(([k, n]) => `${k} ${n}`).join(", ")}`);
  } finally {
    for (const c of [h1, h2c, tls]) c.close();
    const { code } = await server.stop();
    assert.equal(code, 0);
    await waitFor(() => spans.count > 0, "spans exported to the collector");
    await collector.shutdown();
  }
});
