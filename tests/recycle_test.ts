/**
 * Worker recycling under load: workers are replaced every few thousand requests (replacement
 * first, then the old one answers with Connection: close for 1 s, then closes).
 *
 * Not quite zero: a request is sometimes reset when the kernel hands the draining worker a new
 * connection in the instant before it closes and hyper's graceful shutdown counts that
 * connection idle (0 in most runs, up to 7 over 15 recycles in one). Before the Connection: close
 * drain it was ~21 per recycle; the bound below (at most one per recycle) keeps that fixed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { drive } from "../harness/driver.ts";
import { freePort, startServer } from "./_server.ts";

Deno.test("recycle.max_requests under load: workers replaced, ~no failed requests", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-recycle-" });
  Deno.writeTextFileSync(
    join(dir, "app.py"),
    'import os\nfrom siphon import http\n\n@http.route("/")\ndef index(req):\n' +
      '    return http.Response(200, None, os.environ["SIPHON_WORKER"])\n',
  );
  const port = freePort();
  Deno.writeTextFileSync(
    join(dir, "http.yaml"),
    `script: app.py\nworkers: 2\nrecycle: { max_requests: 4000 }\nservers:\n` +
      `  - listen: 127.0.0.1:${port}\n`,
  );
  const server = await startServer({ config: join(dir, "http.yaml") });
  try {
    const { summary } = await drive({
      host: "127.0.0.1",
      port,
      path: "/",
      durationMs: 6000,
      concurrency: 32,
      threads: 1,
    });
    const recycled = (server.logs().match(/recycled \(served \d+ requests\)/g) ?? []).length;
    console.log(`  ${summary.requests} requests, ${summary.errors} failed, ${recycled} recycles`);
    assert.ok(recycled >= 2, `only ${recycled} recycles:\n${server.logs()}`);
    assert.equal(summary.status["5xx"] + summary.status["4xx"], 0, JSON.stringify(summary));
    const allowed = recycled;
    assert.ok(
      summary.errors <= allowed,
      `${summary.errors} failed (allowed ${allowed}): ${JSON.stringify(summary)}`,
    );
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
