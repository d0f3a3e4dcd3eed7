/**
 * Hot-reload numbers: `deno task bench:reload`. Runs the soak of tests/e2e/reload_test.ts (10 edits,
 * 3 bad, 32 connections of load on 2 workers) and reports save → served latency and failed
 * requests. With `BENCH_BASELINE=<older checkout>` it runs that checkout's soak and this one's
 * in turns (RUNS rounds, default 3) and compares the medians.
 */
import { reloadSoak } from "../harness/reload_soak.ts";
import { median } from "./_startup.ts";
import { BASELINE, checkouts, runIn } from "./_baseline.ts";
import { freePort } from "../harness/launch.ts";

const runs = Number(Deno.env.get("RUNS") ?? (BASELINE ? 3 : 1));
if (BASELINE) await compare();
else {
  for (let run = 1; run <= runs; run++) await once(run);
}

async function once(run: number): Promise<void> {
  const { edits, load } = await reloadSoak({ port: freePort() });
  const good = edits.filter((e) => e.good).map((e) => e.ms).sort((a, b) => a - b);
  const p50 = good[Math.floor((good.length - 1) / 2)];
  console.log(`\n## Hot reload under load, run ${run} (2 workers, 32 connections on /ping)\n`);
  console.log("| edit | kind | save → served (good) / reported (bad) |");
  console.log("|---|---|---|");
  for (const e of edits) {
    const kept = e.good
      ? ""
      : e.oldKeptServing
      ? ", old generation kept serving"
      : ", OLD GENERATION LOST";
    console.log(`| ${e.name} | ${e.good ? "good" : "bad"} | ${Math.round(e.ms)} ms${kept} |`);
  }
  console.log(
    `\ngood edits: p50 ${Math.round(p50)} ms, max ${Math.round(good[good.length - 1])} ms; ` +
      `load: ${load.requests} requests, ${load.errors} failed (${
        JSON.stringify(load.error_kinds)
      })`,
  );
}

async function compare(): Promise<void> {
  const rows = checkouts().map((c) => ({
    ...c,
    p50: [] as number[],
    max: [] as number[],
    failed: 0,
  }));
  for (let round = 1; round <= runs; round++) {
    for (const row of rows) {
      const out = await runIn(row.dir, "bench/reload.ts", { RUNS: "1" });
      const m = /good edits: p50 (\d+) ms, max (\d+) ms; load: (\d+) requests, (\d+) failed/
        .exec(out);
      if (!m) throw new Error(`no summary from ${row.dir}:\n${out}`);
      row.p50.push(Number(m[1]));
      row.max.push(Number(m[2]));
      row.failed += Number(m[4]);
      console.error(`round ${round}: ${row.name}: p50 ${m[1]} ms, max ${m[2]} ms`);
    }
  }
  console.log(`\n## Hot reload under load: save → new routes served, ${runs} rounds each\n`);
  console.log(
    "| checkout | p50 of good edits (median of rounds) | max (median) | failed requests |",
  );
  console.log("|---|---|---|---|");
  for (const r of rows) {
    console.log(`| ${r.name} | ${median(r.p50)} ms | ${median(r.max)} ms | ${r.failed} |`);
  }
  console.log(`\nafter ÷ before (p50): ${(median(rows[1].p50) / median(rows[0].p50)).toFixed(2)}`);
}
