/**
 * Streamed bodies and wrap-around middleware, end to end with 2 workers on 127.0.0.1: a 50 MB
 * upload read chunk by chunk in Python (and over the cap: 413), a 50 MB streamed download over
 * HTTP/1.1 and h2c, server-sent events whose generator stops when the client leaves, a streamed
 * proxy through a local upstream, middleware order and response rewriting. Worker memory is
 * sampled during the transfers and must stay well under the body size.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, ROOT, type Server, startServer, waitFor } from "../../harness/launch.ts";
import { peakGrowth } from "../../harness/proc_stats.ts";

const CONFIG = join(ROOT, "tests", "fixtures", "stream", "http.yaml");
const MB = 1024 * 1024;
/**
 * Peak RSS growth allowed while 50 MB pass through. Holding the body would take at least
 * 100 MiB (once in JS, once in Python); streaming measured 5–56 MiB here (dead chunks waiting
 * for V8's collector; a full collection brings the heap back to where it started).
 */
const BOUND_MIB = 80;

/** A request body of `bytes` zeros, produced as it is sent (chunked). */
function zeros(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024);
  let left = bytes;
  return new ReadableStream({
    pull(c) {
      if (left <= 0) return c.close();
      const n = Math.min(left, chunk.byteLength);
      c.enqueue(chunk.subarray(0, n));
      left -= n;
    },
  });
}

async function count(body: ReadableStream<Uint8Array> | null): Promise<number> {
  let n = 0;
  for await (const chunk of body!) n += chunk.byteLength;
  return n;
}

async function withServer(
  env: Record<string, string>,
  fn: (base: string, s: Server) => Promise<void>,
) {
  const port = freePort();
  const server = await startServer({
    config: CONFIG,
    env: { PORT: String(port), ...env },
  });
  try {
    await fn(`http://127.0.0.1:${port}`, server);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
}

Deno.test("streamed bodies: upload, download, SSE, proxy, errors", async (t) => {
  const upstreamBytes = 50 * MB;
  const upstream = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    () => new Response(zeros(upstreamBytes), { headers: { "content-type": "application/x-test" } }),
  );
  try {
    await withServer(
      { UPSTREAM: `http://127.0.0.1:${upstream.addr.port}` },
      async (base, server) => {
        await t.step(
          "a 50 MB upload is read chunk by chunk in Python; memory stays bounded",
          async () => {
            const [res, growth] = await peakGrowth(
              server.pid,
              () => fetch(`${base}/upload`, { method: "POST", body: zeros(50 * MB) }),
            );
            const got = await res.json();
            assert.equal(res.status, 200);
            assert.equal(got.bytes, 50 * MB);
            assert.ok(got.chunks > 50, `${got.chunks} chunks`);
            console.log(
              `  upload 50 MB in ${got.chunks} chunks: server RSS peak +${growth.toFixed(1)} MiB`,
            );
            assert.ok(
              growth < BOUND_MIB,
              `RSS grew ${growth.toFixed(1)} MiB during a 50 MB upload`,
            );
          },
        );

        await t.step("a route from http.yaml with stream: true streams too", async () => {
          const res = await fetch(`${base}/upload-yaml`, { method: "POST", body: zeros(3 * MB) });
          assert.equal((await res.json()).bytes, 3 * MB);
        });

        await t.step("a 50 MB streamed download, HTTP/1.1 and h2c, memory bounded", async () => {
          const [bytes, growth] = await peakGrowth(server.pid, async () => {
            const res = await fetch(`${base}/download/50`);
            assert.equal(res.status, 200);
            return await count(res.body);
          });
          assert.equal(bytes, 50 * MB);
          console.log(`  download 50 MB: server RSS peak +${growth.toFixed(1)} MiB`);
          assert.ok(
            growth < BOUND_MIB,
            `RSS grew ${growth.toFixed(1)} MiB during a 50 MB download`,
          );
          const h2 = Deno.createHttpClient({ http1: false, http2: true });
          try {
            const res = await fetch(`${base}/download/4`, { client: h2 });
            assert.equal(await count(res.body), 4 * MB);
          } finally {
            h2.close();
          }
        });

        await t.step("a slow client holds the generator back (back-pressure)", async () => {
          const res = await fetch(`${base}/endless`);
          const reader = res.body!.getReader();
          let read = 0;
          while (read < 2 * MB) read += (await reader.read()).value!.byteLength;
          // The client stops reading. Without back-pressure the generator would run on without
          // end; with it, its count stops changing (sampled 500 ms apart) within the buffers.
          const produced = async () => Number(await (await fetch(`${base}/progress`)).text());
          let last = -1;
          let chunks = 0;
          await waitFor(
            async () => {
              [last, chunks] = [chunks, await produced()];
              if ((chunks * 64 * 1024 - read) / MB >= 64) return true; // ran away: fails below
              await new Promise((r) => setTimeout(r, 500));
              return chunks === last;
            },
            "the generator pausing with the client",
            server.logs,
          );
          const ahead = (chunks * 64 * 1024 - read) / MB;
          console.log(
            `  a paused client read 2 MiB; the generator stopped ${ahead.toFixed(1)} MiB ahead`,
          );
          assert.ok(ahead < 64, `the generator ran ${ahead.toFixed(1)} MiB ahead of the client`);
          await reader.cancel();
        });

        await t.step("a Content-Length given by the handler is kept", async () => {
          const res = await fetch(`${base}/sized`);
          assert.equal(res.headers.get("content-length"), "10");
          assert.equal(await res.text(), "0123456789");
        });

        await t.step("SSE: the generator stops when the client leaves after 3 events", async () => {
          const res = await fetch(`${base}/sse`);
          assert.equal(res.headers.get("content-type"), "text/event-stream");
          const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
          let text = "";
          while ((text.match(/\n\n/g) ?? []).length < 3) text += (await reader.read()).value;
          assert.match(
            text,
            /^id: 0\ndata: tick 0\n\nid: 1\ndata: tick 1\n\nid: 2\ndata: tick 2\n\n/,
          );
          await reader.cancel();
          const stopped = await server.waitForLog(/sse generator stopped after (\d+) events/);
          console.log(`  the generator stopped after ${stopped[1]} events`);
        });

        await t.step("a streamed proxy passes 50 MB through without holding it", async () => {
          const [bytes, growth] = await peakGrowth(server.pid, async () => {
            const res = await fetch(`${base}/proxy/big`);
            assert.equal(res.headers.get("content-type"), "application/x-test");
            return await count(res.body);
          });
          assert.equal(bytes, upstreamBytes);
          console.log(`  proxy 50 MB: server RSS peak +${growth.toFixed(1)} MiB`);
          assert.ok(growth < BOUND_MIB, `RSS grew ${growth.toFixed(1)} MiB while proxying 50 MB`);
        });

        await t.step("req.body() and req.stream() on one request is a clear error", async () => {
          const a = await fetch(`${base}/body-then-stream`, { method: "POST", body: "abc" });
          const b = await fetch(`${base}/body-on-stream-route`, { method: "POST", body: "abc" });
          assert.deepEqual([a.status, b.status], [500, 500]);
          await a.body?.cancel();
          await b.body?.cancel();
          assert.match(
            server.logs(),
            /RuntimeError: req\.stream\(\) after req\.body\(\): the body was read whole/,
          );
          assert.match(
            server.logs(),
            /this route streams its request body \(stream=True\); read it with `async for chunk in req\.stream\(\)`/,
          );
        });

        await t.step("a generator failing midway aborts the response and is logged", async () => {
          const res = await fetch(`${base}/stream-fails`);
          assert.equal(res.status, 200);
          await assert.rejects(() => res.text());
          assert.match(
            server.logs(),
            /the body stream of stream_fails \(GET \/stream-fails\) raised RuntimeError/,
          );
          assert.match(
            server.logs(),
            /app\.py", line \d+, in chunks\n\s+raise RuntimeError\("generator broke"\)/,
          );
        });
      },
    );
  } finally {
    await upstream.shutdown();
  }
});

Deno.test("a streamed upload over max_body_bytes: 413, or PayloadTooLarge in Python", async () => {
  await withServer({ UPSTREAM: "http://127.0.0.1:1", MAX_BODY: String(40 * MB) }, async (base) => {
    const res = await fetch(`${base}/upload`, { method: "POST", body: zeros(50 * MB) });
    assert.equal(res.status, 413);
    await res.body?.cancel();
    const caught = await fetch(`${base}/upload-catch`, { method: "POST", body: zeros(50 * MB) });
    assert.equal(caught.status, 422);
    assert.match(
      await caught.text(),
      /^stopped after \d+ bytes: the request body is larger than max_body_bytes \(41943040 bytes\)$/,
    );
    const announced = await fetch(`${base}/upload`, {
      method: "POST",
      body: new Uint8Array(41 * MB),
    });
    assert.equal(announced.status, 413, "a Content-Length over the cap is refused before Python");
    await announced.body?.cancel();
  });
});

Deno.test("wrap-around middleware: order, rewriting, short-circuit, exceptions", async () => {
  await withServer({ UPSTREAM: "http://127.0.0.1:1" }, async (base, server) => {
    const ok = await fetch(`${base}/mw/ok`);
    assert.equal(ok.status, 299, "outer changed the status");
    assert.equal(ok.headers.get("x-order"), "inner:outer", "inner ran closest to the handler");
    assert.equal(await ok.text(), "handler (rewritten)");
    const blocked = await fetch(`${base}/mw/ok`, { headers: { "x-block": "1" } });
    assert.equal(blocked.status, 403, "a guard between two wrappers still answers");
    assert.equal(blocked.headers.get("x-order"), "guard:outer", "inner never ran");
    assert.equal(await blocked.text(), "blocked");
    const short = await fetch(`${base}/mw/short`);
    assert.deepEqual([short.status, await short.text()], [418, "short-circuited by outer"]);
    const raised = await fetch(`${base}/mw/raise`);
    assert.deepEqual([raised.status, await raised.text()], [
      404,
      "outer turned LookupError into 404",
    ]);
    const crash = await fetch(`${base}/mw/crash`);
    assert.equal(crash.status, 500);
    await crash.body?.cancel();
    await server.waitForLog(/mw_crash \(GET \/mw\/crash\) raised ValueError/);
    const wrong = await fetch(`${base}/mw/wrong`);
    assert.equal(wrong.status, 500);
    await wrong.body?.cancel();
    // The route's label names the handler once: "handler of mw_wrong (GET /mw/wrong)".
    const [line] = await server.waitForLog(/: handler [^\n]*of mw_wrong \(GET \/mw\/wrong\)[^\n]*/);
    assert.match(
      line,
      /: handler of mw_wrong \(GET \/mw\/wrong\) returned dict, expected http\.Response( request_id=\S+)?$/,
    );
  });
});

Deno.test("examples/sse: three events, then the client leaves and the generator stops", async () => {
  const port = freePort();
  const server = await startServer({
    config: join(ROOT, "examples", "sse", "http.yaml"),
    env: { PORT: String(port), WORKERS: "2", SSE_INTERVAL_S: "0.05" },
  });
  try {
    const res = await fetch(`http://127.0.0.1:${port}/events`);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while ((text.match(/\n\n/g) ?? []).length < 3) text += (await reader.read()).value;
    assert.match(text, /^id: 0\nevent: tick\ndata: \{"n": 0, /);
    await reader.cancel();
    await server.waitForLog(/event stream closed after \d+ events/);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
