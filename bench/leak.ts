/**
 * Leak check: `deno task leak`. Starts siphon-deno in process (2 workers) on bench/app, warms
 * up, then drives ≥ 200k realistic requests (path param, query, 8 headers, JSON body) with the
 * load driver in four phases, forcing a full collection in V8 and Python before each
 * measurement. Exits 1 when any worker grows past the limits below over the last three phases.
 *
 * Env: LEAK_REQUESTS (200000), LEAK_WARMUP (20000), WORKERS (2).
 */
import { drive } from "../harness/driver.ts";
import { loadConfig } from "../src/config/files.ts";
import { createLogger } from "../src/log.ts";
import type { WorkerStats } from "../src/protocol.ts";
import { Supervisor } from "../src/supervisor/supervisor.ts";
import { freePort } from "../harness/launch.ts";

/**
 * Growth allowed per worker from the first checkpoint (after warm-up and a quarter of the run)
 * to the last; a per-request leak grows steadily across checkpoints.
 */
const LIMITS = {
  /** A leak of even 8 bytes a request would add 1.6 MB over 200k requests. */
  heapUsed: 1 << 20,
  /** Wasm memory grows in 64 KiB pages and never shrinks; after warm-up it should not grow. */
  wasmBytes: 1 << 20,
  /** One leaked container per request would add 200k tracked objects. */
  pyObjects: 2000,
};

const requests = Number(Deno.env.get("LEAK_REQUESTS") ?? 200000);
const warmup = Number(Deno.env.get("LEAK_WARMUP") ?? 20000);
const port = freePort();
const log = createLogger({ level: "warning" });
const config = await loadConfig("bench/app/http.yaml", {
  env: {
    ...Deno.env.toObject(),
    PORT: String(port),
    ADMIN_PORT: String(freePort()),
    WORKERS: Deno.env.get("WORKERS") ?? "2",
  },
});
if (!(globalThis as { gc?: unknown }).gc) {
  console.error("run with --v8-flags=--expose-gc (deno task leak does) so V8 can collect first");
  Deno.exit(2);
}
const supervisor = await Supervisor.start({ config, log });
const body = new TextEncoder().encode(
  JSON.stringify({ items: [1, 2, 3, 4, 5], note: "x".repeat(62) }),
);
const load = (count: number) =>
  drive({
    host: "127.0.0.1",
    port,
    path: "/realistic/42?page=2&limit=50&sort=name",
    method: "POST",
    headers: [
      ["user-agent", "leak/1.0"],
      ["accept", "application/json"],
      ["content-type", "application/json"],
      ["x-request-id", "8d3b7f0e-1c2a-4b5e-9f00-aa11bb22cc33"],
      ["authorization", "Bearer abcdef0123456789"],
      ["cookie", "session=0123456789abcdef"],
      ["accept-encoding", "gzip"],
    ],
    body,
    count,
    concurrency: 32,
    threads: 1,
  });
const rss = () => Deno.memoryUsage().rss;
let failed = false;
const PHASES = 4;
try {
  const w = await load(warmup);
  if (w.summary.ok !== warmup) throw new Error(`warm-up had errors: ${JSON.stringify(w.summary)}`);
  await supervisor.stats(); // the first measurement warms its own code path; discard it
  const checkpoints: { done: number; stats: WorkerStats[]; rss: number }[] = [];
  let done = 0;
  for (let phase = 0; phase < PHASES; phase++) {
    const n = Math.ceil(requests / PHASES);
    const run = await load(n);
    if (run.summary.ok !== n) throw new Error(`load had errors: ${JSON.stringify(run.summary)}`);
    done += n;
    checkpoints.push({ done, stats: await supervisor.stats(), rss: rss() });
  }
  const mib = (b: number) => (b / 1048576).toFixed(2);
  console.log(
    `\n## Leak check: ${done} realistic requests after ${warmup} warm-up, ` +
      `${checkpoints[0].stats.length} workers, measured after each ${done / PHASES}\n`,
  );
  console.log(
    "| worker | metric | " + checkpoints.map((c) => `after ${c.done}`).join(" | ") + " |",
  );
  console.log("|---|---|" + "---|".repeat(checkpoints.length));
  const show = { heapUsed: mib, wasmBytes: mib, pyObjects: String } as const;
  const names = {
    heapUsed: "V8 heap MiB",
    wasmBytes: "wasm memory MiB",
    pyObjects: "Python objects",
  };
  for (const first of checkpoints[0].stats) {
    for (const key of Object.keys(LIMITS) as (keyof typeof LIMITS)[]) {
      const series = checkpoints.map((c) => c.stats.find((s) => s.id === first.id)![key]);
      console.log(
        `| ${first.id} | ${names[key]} | ${series.map((v) => show[key](v)).join(" | ")} |`,
      );
      const growth = series[series.length - 1] - series[0];
      if (growth > LIMITS[key]) {
        failed = true;
        console.log(
          `worker ${first.id}: ${names[key]} grew by ${growth} over the last ${
            done - checkpoints[0].done
          } requests (limit ${LIMITS[key]})`,
        );
      }
    }
  }
  console.log(
    `\nprocess RSS by checkpoint: ${checkpoints.map((c) => mib(c.rss)).join(" → ")} MiB ` +
      "(reported, not judged: the allocator keeps pages)",
  );
  console.log(
    `judged: growth from the first checkpoint to the last, limits ${JSON.stringify(LIMITS)}`,
  );
  console.log(failed ? "leak check FAILED" : "leak check passed");
} finally {
  await supervisor.stop();
}
Deno.exit(failed ? 1 : 0);
