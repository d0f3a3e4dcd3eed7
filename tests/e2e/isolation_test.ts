/**
 * Crash and hang isolation: a worker whose interpreter dies, or that stays blocked after its
 * interrupt, is replaced while the other worker keeps serving; SIGTERM drains; overload is
 * answered with 503. Requests that must stay in flight wait at a gate (`/gate`) that the test
 * opens, so nothing depends on how fast this machine is.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  freePort,
  fresh,
  PATIENCE_MS,
  ROOT,
  type Server,
  startServer,
  waitFor,
} from "../../harness/launch.ts";
import { rssMiB } from "../../harness/proc_stats.ts";

const CONFIG = join(ROOT, "tests", "fixtures", "isolation", "http.yaml");

/** A server on the isolation fixture, with its own state folder (gate, shutdown marker). */
async function isolated(env: Record<string, string> = {}, readyPattern?: RegExp) {
  const port = freePort();
  const state = Deno.makeTempDirSync({ prefix: "siphon-isolation-" });
  const server = await startServer({
    config: CONFIG,
    env: { PORT: String(port), ADMIN_PORT: String(freePort()), STATE_DIR: state, ...env },
    readyPattern,
  });
  return {
    server,
    port,
    base: `http://127.0.0.1:${port}`,
    openGate: () => Deno.writeTextFileSync(join(state, "open"), ""),
    shutdownMarker: () => Deno.readTextFileSync(join(state, "shutdown.txt")),
  };
}

/** GET on a fresh connection; a failed request comes back as its Error. */
function attempt(url: string, timeoutMs = PATIENCE_MS) {
  return fresh(url, { signal: AbortSignal.timeout(timeoutMs) }).catch((e: Error) => e);
}

const ok = (r: Awaited<ReturnType<typeof attempt>>) => !(r instanceof Error) && r.status === 200;

/** `/who` requests answered 200 since the counter was last reset. */
let whoAnswered = 0;

/** Polls until both workers have answered on fresh connections. */
async function bothWorkersServe(base: string, server: Server): Promise<void> {
  const seen = new Set<string>();
  await waitFor(
    async () => {
      const r = await attempt(`${base}/who`, 5000);
      if (!(r instanceof Error) && r.status === 200) {
        seen.add(r.text);
        whoAnswered++;
      }
      return seen.size === 2;
    },
    "both workers answering /who",
    () => `answered: ${[...seen]}\n${server.logs()}`,
  );
}

Deno.test("a worker whose interpreter exits is replaced; requests keep succeeding", async () => {
  const { server, base } = await isolated();
  whoAnswered = 0;
  try {
    await bothWorkersServe(base, server);
    const res = await attempt(`${base}/exit`);
    assert.ok(!(res instanceof Error) && res.status === 500, String(res));
    const replaced = await server.waitForLog(/worker \d replaced in (\d+) ms/);
    await bothWorkersServe(base, server);
    // Once the replacement serves, every request succeeds. (A connection the kernel queued on
    // the dead worker's socket in the moment it closed can be reset: SO_REUSEPORT does not
    // move a closed socket's queue.)
    for (let i = 0; i < 20; i++) {
      const r = await attempt(`${base}/who`);
      assert.ok(ok(r), `request ${i}: ${r}`);
      whoAnswered++;
    }
    // The dead worker's counts stay in the totals: every /who answered so far is counted.
    const adminPort = /admin listener on http:\/\/127\.0\.0\.1:(\d+)/.exec(server.logs())![1];
    const metrics = (await fresh(`http://127.0.0.1:${adminPort}/metrics`)).text;
    const who = /^siphon_requests_total\{route="\/who",method="GET",status="200"\} (\d+)$/m
      .exec(metrics);
    assert.equal(Number(who?.[1]), whoAnswered, metrics);
    assert.match(metrics, /^siphon_worker_restarts_total 1$/m);
    assert.match(
      server.logs(),
      /worker \d died \(the Python runtime failed: .*exit\(1\)\); starting a replacement/,
    );
    console.log(`  replaced in ${replaced[1]} ms (bench:replace measures it)`);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

Deno.test("a worker still blocked after its interrupt is made to exit and replaced", async () => {
  const { server, base } = await isolated();
  try {
    await bothWorkersServe(base, server);
    const hung = attempt(`${base}/swallow`);
    const stuck = (await server.waitForLog(/swallowing interrupts in worker (\d)/))[1];
    const other = stuck === "1" ? "2" : "1";
    // The other worker keeps serving while one is stuck: fresh connections go to either
    // worker, so keep opening them until the other one answers; those that landed on the
    // stuck worker end when it does.
    let answeredWhileStuck: boolean | null = null;
    const tries: Promise<unknown>[] = [];
    await waitFor(
      async () => {
        tries.push(
          attempt(`${base}/who`).then((r) => {
            if (ok(r) && (r as { text: string }).text === other && answeredWhileStuck === null) {
              answeredWhileStuck = !/worker \d died/.test(server.logs());
            }
          }),
        );
        await new Promise((r) => setTimeout(r, 50));
        return answeredWhileStuck !== null;
      },
      `worker ${other} answering while worker ${stuck} is stuck`,
      server.logs,
    );
    assert.equal(
      answeredWhileStuck,
      true,
      "the other worker answered only after the stuck one died",
    );
    const result = await hung;
    assert.ok(
      result instanceof Error || result.status >= 500,
      `hung request got ${JSON.stringify(result)}`,
    );
    await server.waitForLog(/worker \d replaced in \d+ ms/);
    await Promise.all(tries);
    await bothWorkersServe(base, server);
    const logs = server.logs();
    assert.match(logs, /still blocked \d+ ms after the interrupt; making its interpreter exit/);
    assert.match(logs, /worker \d died \(the Python runtime failed: .*exit\(70\)\)/);
    assert.doesNotMatch(logs, /terminating it/, "the exit, not termination, ended the hang");
    // No zombie: every fresh connection is answered (a terminated-but-spinning worker would
    // keep its listening socket and swallow some of them).
    for (let i = 0; i < 20; i++) {
      const r = await attempt(`${base}/who`);
      assert.ok(ok(r), `request ${i}: ${r}`);
    }
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

Deno.test("SIGTERM with requests in flight: all answered, on_shutdown once, exit 0", async () => {
  const { server, base, openGate, shutdownMarker } = await isolated({
    REQUEST_TIMEOUT_MS: "120000",
  });
  // 16 requests on fresh connections (both workers), held at the gate; SIGTERM once the
  // server has seen all of them, and the gate opens only after the drain has begun.
  const inflight = Array.from({ length: 16 }, () => attempt(`${base}/gate`));
  await server.waitForLog(/gate entered/, 16);
  const stopped = server.stop();
  await server.waitForLog(/stopping: draining in-flight requests/);
  openGate();
  const { code, logs } = await stopped;
  const results = await Promise.all(inflight);
  for (const r of results) {
    assert.ok(ok(r) && (r as { text: string }).text === "gate passed", String(r));
  }
  assert.equal(code, 0, logs);
  assert.equal(shutdownMarker(), "on_shutdown ran in worker 1\n");
});

Deno.test("overload: 10x max_inflight held requests get 503 + Retry-After, RSS bounded", async () => {
  const { server, base, openGate } = await isolated({
    MAX_INFLIGHT: "4",
    REQUEST_TIMEOUT_MS: "120000",
  });
  try {
    // 2 workers x 4 in flight may enter the gate; send 80 (10x) at once.
    const before = await rssMiB(server.pid);
    let refused = 0;
    const sent = Array.from({ length: 80 }, () =>
      attempt(`${base}/gate`).then((r) => {
        if (!(r instanceof Error) && r.status === 503) refused++;
        return r;
      }));
    const entered = () => (server.logs().match(/gate entered/g) ?? []).length;
    // Every request either entered the gate or was refused; then let the held ones finish.
    await waitFor(() => entered() + refused === 80, "80 requests held or refused", server.logs);
    const during = await rssMiB(server.pid);
    openGate();
    const results = await Promise.all(sent);
    const passed = results.filter((r) => ok(r)).length;
    const busy = results.flatMap((r) => !(r instanceof Error) && r.status === 503 ? [r] : []);
    const other = results.filter((r) =>
      r instanceof Error || (r.status !== 200 && r.status !== 503)
    );
    assert.deepEqual(other, [], "every request was served or refused with 503");
    assert.equal(passed, entered());
    assert.ok(passed <= 8, `${passed} in flight at once; max_inflight 4 x 2 workers`);
    assert.ok(passed >= 4, `only ${passed} served`);
    for (const r of busy) assert.equal(r.headers.get("retry-after"), "1");
    assert.ok(during - before < 64, `RSS grew ${Math.round(during - before)} MiB under overload`);
    console.log(
      `  80 at once: ${passed} served, ${busy.length} answered 503; RSS ${Math.round(before)} → ` +
        `${Math.round(during)} MiB`,
    );
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

Deno.test("SIGTERM while the workers boot: the server comes up, then drains and exits 0", async () => {
  // on_startup waits at the gate, so the signal surely comes while the workers boot.
  const { server, openGate } = await isolated(
    { HOLD_STARTUP: "1" },
    /on_startup waits at the gate/,
  );
  const stopped = server.stop();
  await server.waitForLog(/stop signal received while starting; draining once the workers are up/);
  openGate();
  const { code, logs } = await stopped;
  assert.equal(code, 0, logs);
  assert.match(logs, /\] serving [^]*stopping: draining in-flight requests[^]*\] stopped/);
});
