/**
 * Hot-reload numbers: `deno task bench:reload`. Runs the soak of tests/reload_test.ts (10 edits,
 * 3 bad, 32 connections of load on 2 workers) and reports save → served latency and failed
 * requests.
 */
import { reloadSoak } from "../harness/reload_soak.ts";
import { freePortNear } from "./_ports.ts";

const runs = Number(Deno.env.get("RUNS") ?? 1);
for (let run = 1; run <= runs; run++) {
  const { edits, load } = await reloadSoak({ port: freePortNear(8097) });
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
