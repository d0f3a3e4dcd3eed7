/**
 * Crash and hang isolation: a worker whose interpreter dies, or that stays blocked after its
 * interrupt, is replaced while the other worker keeps serving.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CACHE_DIR, freePort, fresh, ROOT, startServer } from "./_server.ts";

const CONFIG = join(ROOT, "tests", "fixtures", "isolation", "http.yaml");

/** GET on a fresh connection; a failed request comes back as its Error. */
function attempt(url: string) {
  return fresh(url, { signal: AbortSignal.timeout(5000) }).catch((e: Error) => e);
}

async function waitFor(check: () => boolean, limitMs: number): Promise<void> {
  const t0 = performance.now();
  while (!check()) {
    if (performance.now() - t0 > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `/who` requests answered 200 since the counter was last reset. */
let whoAnswered = 0;

/** Polls until both workers answer; returns how long that took. */
async function bothWorkersServe(base: string, limitMs: number): Promise<number> {
  const t0 = performance.now();
  const seen = new Set<string>();
  while (performance.now() - t0 < limitMs) {
    const r = await attempt(`${base}/who`);
    if (!(r instanceof Error) && r.status === 200) {
      seen.add(r.text);
      whoAnswered++;
    }
    if (seen.size === 2) return performance.now() - t0;
  }
  throw new Error(`only workers ${[...seen]} answered within ${limitMs} ms`);
}

Deno.test("a worker whose interpreter exits is replaced; requests keep succeeding", async () => {
  const [port, adminPort] = [freePort(), freePort()];
  const base = `http://127.0.0.1:${port}`;
  const server = await startServer({
    config: CONFIG,
    env: { PORT: String(port), ADMIN_PORT: String(adminPort) },
  });
  whoAnswered = 0;
  try {
    await bothWorkersServe(base, 5000);
    const res = await attempt(`${base}/exit`);
    assert.ok(!(res instanceof Error) && res.status === 500, String(res));
    await waitFor(() => /worker \d replaced in \d+ ms/.test(server.logs()), 3000);
    const ms = await bothWorkersServe(base, 3000);
    // Once the replacement serves, every request succeeds. (A connection the kernel queued on
    // the dead worker's socket in the moment it closed can be reset: SO_REUSEPORT does not
    // move a closed socket's queue.)
    for (let i = 0; i < 20; i++) {
      const r = await attempt(`${base}/who`);
      assert.ok(!(r instanceof Error) && r.status === 200, `request ${i}: ${r}`);
      whoAnswered++;
    }
    // The dead worker's counts stay in the totals: every /who answered so far is counted.
    const metrics = (await fresh(`http://127.0.0.1:${adminPort}/metrics`)).text;
    const who = /^siphon_requests_total\{route="\/who",method="GET",status="200"\} (\d+)$/m
      .exec(metrics);
    assert.equal(Number(who?.[1]), whoAnswered, metrics);
    assert.match(metrics, /^siphon_worker_restarts_total 1$/m);
    const logs = server.logs();
    assert.match(
      logs,
      /worker \d died \(the Python runtime failed: .*exit\(1\)\); starting a replacement/,
    );
    const replaced = /worker \d replaced in (\d+) ms/.exec(logs);
    assert.ok(replaced, logs);
    assert.ok(Number(replaced[1]) < 1000, `replacement took ${replaced[1]} ms`);
    console.log(
      `  replaced in ${replaced[1]} ms; both workers answering again ${Math.round(ms)} ms later`,
    );
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

Deno.test("a worker still blocked after its interrupt is made to exit and replaced", async () => {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startServer({
    config: CONFIG,
    env: { PORT: String(port), ADMIN_PORT: String(freePort()) },
  });
  try {
    await bothWorkersServe(base, 5000);
    const hung = attempt(`${base}/swallow`);
    // The other worker keeps serving while one is stuck.
    await new Promise((r) => setTimeout(r, 300));
    let served = 0;
    for (let i = 0; i < 10; i++) {
      const r = await attempt(`${base}/who`);
      if (!(r instanceof Error) && r.status === 200) served++;
    }
    assert.ok(served >= 5, `only ${served} of 10 answered while a worker hung`);
    const result = await hung;
    assert.ok(
      result instanceof Error || result.status >= 500,
      `hung request got ${JSON.stringify(result)}`,
    );
    await waitFor(() => /worker \d replaced in \d+ ms/.test(server.logs()), 5000);
    await bothWorkersServe(base, 5000);
    const logs = server.logs();
    assert.match(logs, /still blocked \d+ ms after the interrupt; making its interpreter exit/);
    assert.match(logs, /worker \d died \(the Python runtime failed: .*exit\(70\)\)/);
    assert.match(logs, /worker \d replaced in \d+ ms/);
    assert.doesNotMatch(logs, /terminating it/, "the exit, not termination, ended the hang");
    // No zombie: every fresh connection is answered (a terminated-but-spinning worker would
    // keep its listening socket and swallow some of them).
    for (let i = 0; i < 20; i++) {
      const r = await attempt(`${base}/who`);
      assert.ok(!(r instanceof Error) && r.status === 200, `request ${i}: ${r}`);
    }
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

Deno.test("SIGTERM with slow requests in flight: all answered, on_shutdown once, exit 0", async () => {
  const port = freePort();
  const marker = join(ROOT, "tests", "fixtures", "isolation", "shutdown.txt");
  await Deno.remove(marker).catch(() => {});
  const server = await startServer({
    config: CONFIG,
    env: { PORT: String(port), ADMIN_PORT: String(freePort()) },
  });
  // 16 requests of 300 ms each, spread over fresh connections (both workers), then SIGTERM
  // while they are in flight.
  const inflight = Array.from({ length: 16 }, () => attempt(`http://127.0.0.1:${port}/slow`));
  await new Promise((r) => setTimeout(r, 100));
  const { code, logs } = await server.stop();
  const results = await Promise.all(inflight);
  for (const r of results) {
    assert.ok(!(r instanceof Error) && r.status === 200 && r.text === "slow done", String(r));
  }
  assert.equal(code, 0);
  assert.equal(Deno.readTextFileSync(marker), "on_shutdown ran in worker 1\n");
  assert.match(logs, /stopping: draining in-flight requests/);
});

const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]) / 1024;

Deno.test("overload: 10x max_inflight slow requests get some 503 + Retry-After, RSS bounded", async () => {
  const port = freePort();
  const server = await startServer({
    config: CONFIG,
    env: { PORT: String(port), ADMIN_PORT: String(freePort()), MAX_INFLIGHT: "4" },
  });
  try {
    // 2 workers x 4 in flight = 8 served at once; send 80 (10x) at the same time.
    const before = rssMiB(server.pid);
    const results = await Promise.all(
      Array.from({ length: 80 }, () => attempt(`http://127.0.0.1:${port}/slow`)),
    );
    const ok = results.filter((r) => !(r instanceof Error) && r.status === 200).length;
    const busy = results.filter((r) => !(r instanceof Error) && r.status === 503).length;
    const other = results.length - ok - busy;
    assert.ok(busy > 0, `no 503 among ${results.length}`);
    assert.ok(ok >= 8, `only ${ok} served`);
    assert.equal(
      other,
      0,
      `unexpected outcomes: ${
        results.filter((r) => r instanceof Error || (r.status !== 200 && r.status !== 503))
      }`,
    );
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
    // A 503 says when to come back.
    for (let i = 0; i < 40; i++) {
      const burst = await Promise.all(
        Array.from(
          { length: 20 },
          () =>
            fetch(`http://127.0.0.1:${port}/slow`, { client }).then(async (r) => {
              await r.body?.cancel();
              return r;
            }),
        ),
      );
      const rejected = burst.find((r) => r.status === 503);
      if (rejected) {
        assert.equal(rejected.headers.get("retry-after"), "1");
        break;
      }
    }
    client.close();
    const after = rssMiB(server.pid);
    assert.ok(after - before < 64, `RSS grew ${Math.round(after - before)} MiB under overload`);
    console.log(
      `  80 at once: ${ok} served, ${busy} answered 503; RSS ${Math.round(before)} → ` +
        `${Math.round(after)} MiB`,
    );
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

Deno.test("SIGTERM while the workers boot: the server comes up, then drains and exits 0", async () => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "main.ts", "serve", "--config", CONFIG],
    cwd: ROOT,
    env: { PORT: String(port), ADMIN_PORT: String(freePort()), SIPHON_CACHE_DIR: CACHE_DIR },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  await new Promise((r) => setTimeout(r, 150)); // the interpreters are still loading
  child.kill("SIGTERM");
  const { code, stderr } = await child.output();
  const logs = new TextDecoder().decode(stderr);
  assert.equal(code, 0, logs);
  assert.match(logs, /\] serving /);
  assert.match(logs, /stopping: draining in-flight requests/);
});
