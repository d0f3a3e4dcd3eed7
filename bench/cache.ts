/**
 * siphon.cache numbers: `deno task bench:cache`. For each backend (memory; redis, with a
 * redis-server it starts on a free port): Python-side ops/s and p99 of fetch and store
 * (sequential calls from one handler), and req/s of a route that reads the cache against a
 * plain route, both driven by `deno task drive` (32 connections, 5 s) on 2 workers.
 */
import { join } from "node:path";
import { drive } from "../harness/driver.ts";
import { freePort, ROOT, startServer } from "../harness/launch.ts";

async function measure(backend: "memory" | "redis", config: string) {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startServer({ config, env: { PORT: String(port) } });
  try {
    await fetch(`${base}/store?k=greeting&v=hej`).then((r) => r.text());
    await fetch(`${base}/bench?n=500`).then((r) => r.text()); // warm-up
    const ops = await fetch(`${base}/bench?n=5000`).then((r) => r.json());
    const load = async (path: string) =>
      (await drive({
        host: "127.0.0.1",
        port,
        path,
        durationMs: 5000,
        concurrency: 32,
        threads: 1,
      }))
        .summary;
    const plain = await load("/version");
    const cached = await load("/fetch?k=greeting");
    console.log(`\n## siphon.cache, ${backend} backend (2 workers)\n`);
    console.log("| operation (sequential, from Python) | ops/s | p99 |");
    console.log("|---|---|---|");
    for (const op of ["store", "fetch"]) {
      console.log(`| cache.${op} | ${ops[op].ops_per_s} | ${ops[op].p99_us} µs |`);
    }
    console.log("\n| route (deno task drive, 32 connections, 5 s) | req/s | p99 ms | errors |");
    console.log("|---|---|---|---|");
    console.log(
      `| plain route | ${Math.round(plain.rps)} | ${plain.latency_ms.p99} | ${plain.errors} |`,
    );
    console.log(
      `| route with one cache.fetch | ${
        Math.round(cached.rps)
      } | ${cached.latency_ms.p99} | ${cached.errors} |`,
    );
    console.log(`\ncache read route / plain route = ${(cached.rps / plain.rps).toFixed(2)}`);
  } finally {
    await server.stop();
  }
}

const fixture = join(ROOT, "tests", "fixtures", "cache");
await measure("memory", join(fixture, "http.yaml"));

const redisPort = freePort();
const redis = new Deno.Command("redis-server", {
  args: ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
  stdout: "null",
}).spawn();
try {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-cache-bench-" });
  Deno.copyFileSync(join(fixture, "app.py"), join(dir, "app.py"));
  Deno.writeTextFileSync(
    join(dir, "http.yaml"),
    `script: app.py\nworkers: 2\nservers:\n  - listen: "127.0.0.1:\${PORT}"\ncache:\n` +
      `  shared: { backend: redis, url: "redis://127.0.0.1:${redisPort}/0" }\n` +
      `  small: { backend: memory, max_entries: 5 }\n`,
  );
  await new Promise((r) => setTimeout(r, 300));
  await measure("redis", join(dir, "http.yaml"));
} finally {
  redis.kill("SIGKILL");
  await redis.status;
}
