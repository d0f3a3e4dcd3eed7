/**
 * Time to replace a dead worker: `deno task bench:replace`. Kills a worker 5 times (a route
 * that calls os._exit) and reports the supervisor's replacement time and how long until both
 * workers answer again. With `BENCH_BASELINE=<older checkout>` it runs that checkout's bench and
 * this one's in turns (ROUNDS, default 2, of RUNS kills each) and compares the medians.
 */
import { join } from "node:path";
import { freePort, ROOT, startServer } from "../harness/launch.ts";
import { BASELINE, checkouts, runIn } from "./_baseline.ts";
import { median } from "./_startup.ts";

const runs = Number(Deno.env.get("RUNS") ?? 5);
if (BASELINE) {
  await compare(Number(Deno.env.get("ROUNDS") ?? 2));
  Deno.exit(0);
}
const port = freePort();
const base = `http://127.0.0.1:${port}`;
const server = await startServer({
  config: join(ROOT, "tests", "fixtures", "isolation", "http.yaml"),
  env: {
    PORT: String(port),
    ADMIN_PORT: String(freePort()),
    STATE_DIR: Deno.makeTempDirSync({ prefix: "siphon-replace-" }),
  },
});

async function who(): Promise<string | null> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const r = await fetch(`${base}/who`, { client, signal: AbortSignal.timeout(2000) });
    return r.ok ? await r.text() : null;
  } catch {
    return null;
  } finally {
    client.close();
  }
}

console.log(`\n## Replacing a worker that died (os._exit), 2 workers, ${runs} runs\n`);
console.log("| run | supervisor: replaced in | kill → both workers answer |");
console.log("|---|---|---|");
try {
  for (let run = 1; run <= runs; run++) {
    const before = (server.logs().match(/replaced in (\d+) ms/g) ?? []).length;
    const t0 = performance.now();
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
    await fetch(`${base}/exit`, { client }).then((r) => r.body?.cancel());
    client.close();
    const seen = new Set<string>();
    while (seen.size < 2 || (server.logs().match(/replaced in (\d+) ms/g) ?? []).length <= before) {
      const w = await who();
      if (w) seen.add(w);
      if (performance.now() - t0 > 10000) throw new Error("no replacement within 10 s");
    }
    const all = [...server.logs().matchAll(/replaced in (\d+) ms/g)];
    console.log(
      `| ${run} | ${all[all.length - 1][1]} ms | ${Math.round(performance.now() - t0)} ms |`,
    );
  }
} finally {
  await server.stop();
}

async function compare(rounds: number): Promise<void> {
  const rows = checkouts().map((c) => ({ ...c, replaced: [] as number[], both: [] as number[] }));
  for (let round = 1; round <= rounds; round++) {
    for (const row of rows) {
      const out = await runIn(row.dir, "bench/replace.ts", { RUNS: String(runs) });
      for (const m of out.matchAll(/^\| \d+ \| (\d+) ms \| (\d+) ms \|$/gm)) {
        row.replaced.push(Number(m[1]));
        row.both.push(Number(m[2]));
      }
      console.error(`round ${round}: ${row.name}: ${row.replaced.length} replacements so far`);
    }
  }
  console.log(`\n## Replacing a dead worker, ${rounds} rounds × ${runs} kills each, medians\n`);
  console.log("| checkout | supervisor: replaced in | kill → both workers answer |");
  console.log("|---|---|---|");
  for (const r of rows) {
    console.log(`| ${r.name} | ${median(r.replaced)} ms | ${median(r.both)} ms |`);
  }
  const ratio = median(rows[1].replaced) / median(rows[0].replaced);
  console.log(`\nafter ÷ before (replaced in): ${ratio.toFixed(2)}`);
}
