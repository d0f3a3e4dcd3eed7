/**
 * Spawn → first 200, in one run with rounds alternating between the servers:
 * `deno task bench:startup`. Cases: siphon-deno with 1 and 2 workers, its snapshot cached /
 * built first (an empty cache) / off (`SIPHON_SNAPSHOT=off`: every worker loads Pyodide cold);
 * uvicorn+starlette (1 process) and plain Deno.serve. Then, from the timestamps siphon-deno logs
 * at `debug` (`startup: PHASE at EPOCH_MS`, src/start/marks.ts), where its start goes, phase by
 * phase, for the cached cases.
 *
 * The first 200 is polled every 5 ms on the route each server answers with Python (or JS);
 * a start is timed from just before the spawn, on the same clock as the server's marks.
 *
 * Env: BENCH_ROUNDS (5), BENCH_CASES (comma-separated case ids to run, e.g. `s1c,s2c,uv`),
 * PYTHON (uvicorn's interpreter), BENCH_JSON (write every sample there), BENCH_BASELINE (an older
 * checkout: its server joins the rounds with 1 and 2 workers, snapshot cached, as b1c and b2c).
 */
import { plainCommand, ROOT, siphonCommand, uvicornCommand } from "./_proc.ts";
import { BASELINE } from "./_baseline.ts";
import { median, type Phases, phasesOf, startOnce } from "./_startup.ts";
import { freePort } from "../harness/launch.ts";

const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 5);
const cached = Deno.makeTempDirSync({ prefix: "siphon-startup-" });

interface Case {
  id: string;
  name: string;
  /** The command line, environment and URL for a server on `port` (run in `cwd`). */
  make(port: number): { cmd: string[]; env: Record<string, string>; path: string; cwd?: string };
  /** siphon-deno: read its startup marks. */
  marks?: boolean;
}

function siphon(workers: number, snapshot: "cached" | "built" | "off"): Case {
  return {
    id: `s${workers}${snapshot[0]}`,
    name: `siphon-deno, ${workers} worker${workers > 1 ? "s" : ""}, snapshot ${snapshot}`,
    marks: true,
    make(port) {
      const { cmd, env } = siphonCommand("bench/app/http.yaml");
      const cache = snapshot === "built" ? Deno.makeTempDirSync() : cached;
      return {
        cmd: [...cmd, "--no-watch", "--log-level", "debug"],
        env: {
          ...env,
          PORT: String(port),
          WORKERS: String(workers),
          SIPHON_CACHE_DIR: cache,
          ...snapshot === "off" ? { SIPHON_SNAPSHOT: "off" } : {},
        },
        path: "/trivial",
      };
    },
  };
}

/** The same case run from the BENCH_BASELINE checkout. */
function baseline(workers: number): Case {
  const own = siphon(workers, "cached");
  return {
    id: `b${workers}c`,
    name: `siphon-deno before (BENCH_BASELINE), ${workers} worker${workers > 1 ? "s" : ""}, ` +
      "snapshot cached",
    make(port) {
      const run = own.make(port);
      const there = (a: string) => a.startsWith(ROOT) ? BASELINE + a.slice(ROOT.length) : a;
      return { ...run, cmd: run.cmd.map(there), env: { ...run.env, INIT_CWD: BASELINE! } };
    },
  };
}

const ALL: Case[] = [
  ...BASELINE ? [baseline(1), baseline(2)] : [],
  siphon(1, "cached"),
  siphon(2, "cached"),
  siphon(1, "built"),
  siphon(2, "built"),
  siphon(1, "off"),
  siphon(2, "off"),
  {
    id: "uv",
    name: "uvicorn+starlette, 1 process",
    make: (port) => ({ cmd: uvicornCommand(port, 1), env: {}, path: "/trivial" }),
  },
  {
    id: "plain",
    name: "plain Deno.serve",
    make: (port) => ({ cmd: plainCommand(port), env: {}, path: "/" }),
  },
];
const only = Deno.env.get("BENCH_CASES")?.split(",");
const cases = only ? ALL.filter((c) => only.includes(c.id)) : ALL;

// Fill the cache for the "cached" cases (and warm the file cache for everyone).
for (const first of [siphon(1, "cached"), ...BASELINE ? [baseline(1)] : []]) {
  const port = freePort();
  await startOnce({ ...first.make(port), port }).catch((e) => {
    console.error(`warm-up start failed: ${e.message}`);
    Deno.exit(1);
  });
}

const ready = new Map<string, number[]>(cases.map((c) => [c.id, []]));
const phases = new Map<string, Phases[]>(cases.map((c) => [c.id, []]));
for (let r = 0; r < rounds; r++) {
  for (const c of cases) {
    const port = freePort();
    const sample = await startOnce({ ...c.make(port), port });
    ready.get(c.id)!.push(sample.readyMs);
    if (c.marks) phases.get(c.id)!.push(phasesOf(sample));
  }
  console.error(
    `round ${r + 1}/${rounds}: ` +
      cases.map((c) => `${c.id} ${Math.round(ready.get(c.id)!.at(-1)!)}`).join(", "),
  );
}

const med = (id: string) => median(ready.get(id) ?? []);
console.log(`\n## Spawn → first 200 (${navigator.hardwareConcurrency} cores, ${rounds} rounds)\n`);
console.log("| server | median ms | min | max | ÷ uvicorn+starlette |");
console.log("|---|---|---|---|---|");
for (const c of cases) {
  const all = ready.get(c.id)!;
  const ratio = ready.has("uv") ? (med(c.id) / med("uv")).toFixed(2) + "×" : "–";
  console.log(
    `| ${c.name} | ${Math.round(med(c.id))} | ${Math.round(Math.min(...all))} | ` +
      `${Math.round(Math.max(...all))} | ${ratio} |`,
  );
}
if (ready.has("uv")) {
  for (const [id, target] of [["s1c", 1.5], ["s2c", 2.5]] as const) {
    if (!ready.has(id)) continue;
    const ratio = med(id) / med("uv");
    console.log(
      `\n${id === "s1c" ? "1 worker" : "2 workers"}, cached snapshot ÷ uvicorn+starlette: ` +
        `${ratio.toFixed(2)}× (target ≤ ${target}×: ${ratio <= target ? "met" : "not met"})`,
    );
  }
}

for (const c of cases.filter((c) => c.marks)) {
  const list = phases.get(c.id)!;
  const at = (name: string) =>
    median(list.map((p) => p.get(name)).filter((v) => v !== undefined) as number[]);
  const names = [...new Set(list.flatMap((p) => [...p.keys()]))].sort((a, b) => at(a) - at(b));
  console.log(`\n### Where the start goes: ${c.name} (ms after spawn, medians)\n`);
  console.log("| thread | phase ended | at ms | took ms |");
  console.log("|---|---|---|---|");
  let previous = new Map<string, number>();
  for (const name of names) {
    const [thread, phase] = name.split("\t");
    const when = at(name);
    const before = previous.get(thread) ?? 0;
    console.log(`| ${thread} | ${phase} | ${Math.round(when)} | ${Math.round(when - before)} |`);
    previous = new Map(previous).set(thread, when);
  }
}

const json = Deno.env.get("BENCH_JSON");
if (json) {
  await Deno.writeTextFile(
    json,
    JSON.stringify({
      ready: Object.fromEntries(ready),
      phases: Object.fromEntries(
        [...phases].map(([id, list]) => [id, list.map((p) => Object.fromEntries(p))]),
      ),
    }),
  );
}
