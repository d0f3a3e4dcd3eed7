/**
 * Worker recycling under load: every few thousand requests a worker swaps in a fresh
 * interpreter (prepared beside the serving one, like a reload of that worker). Its listeners
 * never close, so not one request may fail.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { drive } from "../../harness/driver.ts";
import { freePort, PATIENCE_MS, startServer, waitFor } from "../../harness/launch.ts";
import { rssMiB } from "../../harness/proc_stats.ts";

Deno.test("recycle.max_requests under load: fresh interpreters, no failed request", async () => {
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
    // Load until two workers' interpreters were swapped under it, however long that takes here.
    const stop = new AbortController();
    const load = drive({
      host: "127.0.0.1",
      port,
      path: "/",
      durationMs: PATIENCE_MS,
      concurrency: 32,
      threads: 1,
      signal: stop.signal,
    });
    await server.waitForLog(/recycled \(served \d+ requests\)/, 2).finally(() => stop.abort());
    const { summary } = await load;
    const recycled = (server.logs().match(/recycled \(served \d+ requests\)/g) ?? []).length;
    console.log(`  ${summary.requests} requests, ${summary.errors} failed, ${recycled} recycles`);
    assert.ok(recycled >= 2, `only ${recycled} recycles:\n${server.logs()}`);
    assert.equal(summary.status["5xx"] + summary.status["4xx"], 0, JSON.stringify(summary));
    assert.equal(summary.errors, 0, JSON.stringify(summary));
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

Deno.test("recycle.max_memory_mb: a worker whose wasm memory grew gets a fresh interpreter and gives the memory back", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-recycle-mem-" });
  Deno.writeTextFileSync(
    join(dir, "app.py"),
    'from siphon import http\n\n@http.route("/grow")\ndef grow(req):\n' +
      "    block = bytearray(150 * 1024 * 1024)  # wasm memory grows and never shrinks\n" +
      "    return http.Response(200, None, str(len(block)))\n\n" +
      '@http.route("/")\ndef index(req):\n    return http.Response(200, None, "ok")\n',
  );
  const port = freePort();
  Deno.writeTextFileSync(
    join(dir, "http.yaml"),
    `script: app.py\nworkers: 1\nrecycle: { max_memory_mb: 120 }\nservers:\n` +
      `  - listen: 127.0.0.1:${port}\n`,
  );
  const server = await startServer({ config: join(dir, "http.yaml") });
  const rss = () => rssMiB(server.pid);
  try {
    const before = await rss();
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/grow`)).text(), String(150 << 20));
    const grown = await rss();
    // Served throughout, until the worker got its fresh interpreter.
    await waitFor(
      async () => {
        assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "ok");
        return /worker 1 recycled \(holds \d+ MiB/.test(server.logs());
      },
      "the recycle",
      server.logs,
    );
    let after = grown;
    await waitFor(
      async () => (after = await rss()) < grown - 100,
      "the memory given back",
      () => `RSS ${grown} → ${after} MiB`,
    );
    console.log(
      `  RSS ${before.toFixed(0)} → ${grown.toFixed(0)} MiB after growing → ` +
        `${after.toFixed(0)} MiB after the recycle`,
    );
    assert.ok(after < grown - 100, `memory not given back: ${grown} → ${after} MiB`);
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "ok");
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

Deno.test("recycle.max_rss_mb: past the process bound, the worker holding the most is recycled", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-recycle-rss-" });
  Deno.writeTextFileSync(
    join(dir, "app.py"),
    'import os\nfrom siphon import http\n\n@http.route("/grow")\ndef grow(req):\n' +
      "    block = bytearray(300 * 1024 * 1024)\n" +
      '    return http.Response(200, None, os.environ["SIPHON_WORKER"])\n\n' +
      '@http.route("/")\ndef index(req):\n    return http.Response(200, None, "ok")\n',
  );
  const port = freePort();
  const yaml = (limit: number) =>
    `script: app.py\nworkers: 2\nrecycle: { max_rss_mb: ${limit} }\nservers:\n` +
    `  - listen: 127.0.0.1:${port}\n`;
  Deno.writeTextFileSync(join(dir, "http.yaml"), yaml(0));
  const server = await startServer({ config: join(dir, "http.yaml") });
  const rss = () => rssMiB(server.pid);
  try {
    // The bound comes with a reload (which gives each worker a fresh interpreter; both sets are
    // held for a moment): 200 MiB over the RSS before it; then one worker grows by 300 MiB.
    const before = await rss();
    Deno.writeTextFileSync(join(dir, "http.yaml"), yaml(Math.round(before + 200)));
    await server.waitForLog(/reloaded \(file change\): generation 2/);
    const grower = await (await fetch(`http://127.0.0.1:${port}/grow`)).text();
    const grown = await rss();
    const match = await server.waitForLog(
      /worker (\d) recycled \(process RSS (\d+) MiB > max_rss_mb/,
    );
    assert.equal(match[1], grower, "the worker that grew was the one recycled");
    let after = grown;
    await waitFor(
      async () => (after = await rss()) < grown - 150,
      "the memory given back",
      () => `RSS ${grown} → ${after} MiB`,
    );
    console.log(
      `  RSS ${grown.toFixed(0)} MiB → ${after.toFixed(0)} MiB after recycling worker ${grower}`,
    );
    assert.ok(after < grown - 150, `RSS ${grown} → ${after} MiB`);
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), "ok");
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
