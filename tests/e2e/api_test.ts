/**
 * End to end: the real server (2 workers) on free 127.0.0.1 ports, spoken to over HTTP.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, ROOT, startServer } from "../../harness/launch.ts";

const FIXTURE = join(ROOT, "tests", "fixtures", "api");
const port = freePort();
const strictPort = freePort();
const base = `http://127.0.0.1:${port}`;
const strict = `http://127.0.0.1:${strictPort}`;
const roDir = Deno.makeTempDirSync({ prefix: "siphon-ro-" });
const rwDir = Deno.makeTempDirSync({ prefix: "siphon-rw-" });
Deno.writeTextFileSync(join(roDir, "ro.txt"), "read-only data");

async function get(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

Deno.test("end to end: the script API over HTTP with 2 workers", async (t) => {
  const server = await startServer({
    config: join(FIXTURE, "http.yaml"),
    env: {
      PORT: String(port),
      STRICT_PORT: String(strictPort),
      RO_DIR: roDir,
      RW_DIR: rwDir,
      SIPHON_TEST_SECRET: "s3cret",
    },
  });
  try {
    await t.step("on_startup ran (async) before the first request", async () => {
      assert.equal((await get(`${base}/started`)).text, "yes");
      assert.match(server.logs(), /\[w1\] fixture startup ran in worker 1/);
      assert.match(server.logs(), /\[w2\] fixture startup ran in worker 2/);
      assert.match(server.logs(), /\[w1\] snapshot restored writing \d+ pages/);
      assert.doesNotMatch(server.logs(), /page-skipping snapshot restore did not run/);
    });

    await t.step("requests land on more than one worker", async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 60 && seen.size < 2; i++) {
        // A fresh connection each time, so the kernel spreads them over the reusePort sockets.
        const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
        seen.add(await fetch(`${base}/worker`, { client }).then((r) => r.text()));
        client.close();
      }
      assert.deepEqual([...seen].sort(), ["1", "2"]);
    });

    await t.step("Request exposes method, path, params, query, headers, client", async () => {
      const res = await get(`${base}/inspect/caf%C3%A9?a=1&a=2&flag&q=x+y%21`, {
        headers: { "X-Custom": "Value", "X-Utf8": "h\u00c3\u00a9llo", "X-Latin1": "caf\u00e9" },
      });
      assert.equal(res.status, 200);
      const body = JSON.parse(res.text);
      assert.equal(body.method, "GET");
      assert.equal(body.path, "/inspect/caf%C3%A9");
      assert.deepEqual(body.path_params, { name: "café" });
      assert.deepEqual(body.query_params, { a: "2", flag: "", q: "x y!" });
      assert.equal(body.headers["x-custom"], "Value");
      assert.equal(body.headers["x-utf8"], "héllo", "UTF-8 bytes arrive decoded");
      assert.equal(body.headers["x-latin1"], "café", "bytes that are not UTF-8 stay latin-1");
      assert.equal(body.x_custom, "Value");
      assert.equal(body.missing, "default");
      assert.match(body.client, /^127\.0\.0\.1:\d+$/);
    });

    await t.step("X-Forwarded-For counts only from trusted proxies, per listener", async () => {
      const xff = { "x-forwarded-for": "203.0.113.7, 10.0.0.1" };
      const trusting = JSON.parse((await get(`${strict}/inspect/x`, { headers: xff })).text);
      assert.equal(trusting.client, "203.0.113.7");
      const spoofed = JSON.parse((await get(`${base}/inspect/x`, { headers: xff })).text);
      assert.match(
        spoofed.client,
        /^127\.0\.0\.1:\d+$/,
        "a listener without trusted_proxies ignores it",
      );
      const plain = JSON.parse((await get(`${strict}/inspect/x`)).text);
      assert.match(plain.client, /^127\.0\.0\.1:\d+$/);
    });

    await t.step("typed http.yaml routes convert int and uuid; a misfit is 404", async () => {
      const id = "0F8FAD5B-D9CB-469F-A165-70867728950E";
      assert.equal(
        (await get(`${base}/orders/42/${id}`)).text,
        `int:42 ${id.toLowerCase()}`,
      );
      assert.equal((await get(`${base}/orders/42/${id}`, { method: "DELETE" })).status, 200);
      assert.equal((await get(`${base}/orders/4x2/${id}`)).status, 404);
      assert.equal((await get(`${base}/orders/42/not-a-uuid`)).status, 404);
      assert.equal((await get(`${base}/files/a/b%20c/d.txt`)).text, "a/b c/d.txt");
    });

    await t.step("404, 405 with Allow, 400 for bad percent-encoding", async () => {
      assert.equal((await get(`${base}/nowhere`)).status, 404);
      const res = await get(`${base}/echo`);
      assert.equal(res.status, 405);
      assert.equal(res.headers.get("allow"), "POST, PUT");
      const bad = await get(`${base}/inspect/%E9`);
      assert.equal(bad.status, 400);
      assert.match(bad.text, /invalid percent-encoding/);
    });

    await t.step("methods are upper-cased; body() returns the raw bytes", async () => {
      for (const method of ["POST", "PUT"]) {
        const res = await get(`${base}/echo`, { method, body: "payload ✓" });
        assert.equal(res.status, 201);
        assert.equal(res.text, "payload ✓");
        assert.equal(res.headers.get("x-method"), method);
        assert.equal(
          res.headers.get("x-len"),
          String(new TextEncoder().encode("payload ✓").length),
        );
      }
    });

    await t.step("Response: str as UTF-8, big bytes, repeated headers, 204", async () => {
      const utf8 = await get(`${base}/utf8`);
      assert.equal(utf8.text, "héllo wörld €");
      assert.equal(
        utf8.headers.get("content-type"),
        null,
        "no content-type for str, as siphon-http",
      );
      const big = await fetch(`${base}/bytes`).then((r) => r.arrayBuffer());
      assert.equal(big.byteLength, 256 * 1024);
      assert.deepEqual([...new Uint8Array(big, 250, 8)], [250, 251, 252, 253, 254, 255, 0, 1]);
      const multi = await fetch(`${base}/multi`);
      assert.deepEqual(multi.headers.getSetCookie(), ["a=1", "b=2"]);
      await multi.body?.cancel();
      assert.equal((await get(`${base}/no-content`)).status, 204);
      assert.equal(
        (await get(`${base}/response-api`)).text,
        "404 {'x': '1'} b'nope' yes 404 200 True",
      );
    });

    await t.step("sync and async handlers, with and without a real await", async () => {
      const slow = await get(`${base}/async`);
      assert.equal(slow.text, "async done");
      assert.equal(slow.headers.get("x-kind"), "async");
      assert.equal((await get(`${base}/async-quick`)).text, "no await");
      const all = await Promise.all(Array.from({ length: 40 }, () => get(`${base}/async`)));
      assert.ok(all.every((r) => r.text === "async done"));
    });

    await t.step("middleware guards run in order and can short-circuit", async () => {
      const one = await get(`${base}/guarded`);
      assert.deepEqual([one.status, one.headers.get("x-guard"), one.text], [
        401,
        "one",
        "no token",
      ]);
      const two = await get(`${base}/guarded?block=1`, { headers: { "x-token": "secret" } });
      assert.deepEqual([two.status, two.headers.get("x-guard")], [403, "two"]);
      const through = await get(`${base}/guarded`, { headers: { "x-token": "secret" } });
      assert.deepEqual([through.status, through.text], [200, "through"]);
    });

    await t.step(
      "a raising handler is a 500 with no traceback; the log has file:line",
      async () => {
        const res = await get(`${base}/boom`);
        assert.equal(res.status, 500);
        assert.equal(res.text, "Internal Server Error\n");
        assert.doesNotMatch(res.text, /Traceback|do-not-leak|app\.py/);
        await server.waitForLog(/GET \/boom: boom \(GET \/boom\) raised ValueError/);
        const logs = server.logs();
        assert.match(logs, new RegExp(`File "${FIXTURE}/app.py", line \\d+, in boom`));
        assert.doesNotMatch(logs, /siphon\/_bridge\.py/);
      },
    );

    await t.step("a handler returning a non-Response is a 500 naming the handler", async () => {
      assert.equal((await get(`${base}/wrong-type`)).status, 500);
      await server.waitForLog(
        /handler of wrong_type \(GET \/wrong-type\) returned dict, expected http\.Response/,
      );
    });

    await t.step(
      "a status outside 200-599, or a middleware returning neither Response nor None, is a 500",
      async () => {
        assert.equal((await get(`${base}/bad-status`)).status, 500);
        await server.waitForLog(/returned status 99; use a whole number from 200 to 599/);
        assert.equal((await get(`${base}/mw-wrong`)).status, 500);
        await server.waitForLog(/middleware order_one.*returned str/);
      },
    );

    await t.step("os.environ holds what python.env lists", async () => {
      assert.equal((await get(`${base}/env`)).text, "s3cret");
    });

    await t.step("file system: script folder ro, mounts ro/rw, nothing else", async () => {
      const res = await get(`${base}/fs`);
      assert.equal(
        res.text,
        "SIBLING!|data for python|script-folder-refused OSError|False|FileNotFoundError|" +
          "read-only data|ro-refused OSError: [Errno 69] Read-only file system|detour-refused|rw-ok",
      );
      assert.throws(() => Deno.statSync(join(FIXTURE, "written.txt")));
      assert.equal(Deno.readTextFileSync(join(rwDir, "rw.txt")), "written to rw");
      assert.throws(() => Deno.statSync(join(roDir, "new.txt")));
      assert.throws(() => Deno.statSync(join(roDir, "detour.txt")));
    });

    await t.step("413 when Content-Length announces too much", async () => {
      const res = await get(`${strict}/echo`, { method: "POST", body: "x".repeat(1025) });
      assert.equal(res.status, 413);
      const ok = await get(`${strict}/echo`, { method: "POST", body: "x".repeat(1024) });
      assert.equal(ok.status, 201);
      assert.equal(ok.text.length, 1024);
      // Bodies past the bridge's 64 KiB input buffer make it grow; the bytes must survive intact.
      const big = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
      const echoed = await fetch(`${base}/echo`, { method: "PUT", body: big });
      assert.equal(echoed.status, 201);
      assert.deepEqual(new Uint8Array(await echoed.arrayBuffer()), big);
      // The main listener has the default 1 MiB cap, so the same body passes there.
      assert.equal(
        (await get(`${base}/echo`, { method: "POST", body: "x".repeat(5000) })).status,
        201,
      );
    });

    await t.step("413 for a chunked body that grows past the cap", async () => {
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (sent >= 64 * 1024) return c.close();
          sent += 512;
          c.enqueue(new Uint8Array(512).fill(97));
        },
      });
      const res = await get(`${strict}/echo`, { method: "POST", body });
      assert.equal(res.status, 413);
    });

    await t.step("504 for `while True: pass`, then the same server answers 200", async () => {
      const res = await get(`${strict}/spin`, { headers: { "x-request-id": "spin-504" } });
      assert.equal(res.status, 504);
      // the server's own line about it carries the request's id and route
      await server.waitForLog(
        /WARNING +\[w\d\] GET \/spin: no answer within request_timeout_ms \(\d+ ms\); the handler was interrupted and the client got 504 request_id=spin-504 route=\/spin\n/,
      );
      for (let i = 0; i < 6; i++) {
        const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
        assert.equal(await fetch(`${strict}/started`, { client }).then((r) => r.text()), "yes");
        client.close();
      }
      await server.waitForLog(/Python blocked its event loop past a request deadline/);
    });

    await t.step(
      "504 for time.sleep and for async handlers that wait or spin past it",
      async () => {
        assert.equal((await get(`${strict}/sleep`)).status, 504);
        assert.equal((await get(`${strict}/async-forever`)).status, 504);
        await server.waitForLog(
          /GET \/async-forever: no answer within request_timeout_ms \(\d+ ms\); the handler was cancelled and the client got 504 request_id=\S+ route=\/async-forever\n/,
        );
        // An async handler that spins after an await blocks the loop: interrupted like a sync one.
        assert.equal((await get(`${strict}/async-spin`)).status, 504);
        assert.equal((await get(`${strict}/async`)).text, "async done");
      },
    );
  } finally {
    const { code } = await server.stop();
    assert.equal(code, 0);
  }
});
