/**
 * Scaling with workers, in one run, against the same trivial route: plain Deno.serve "ok",
 * siphon-deno with 1, 2, 4, … workers up to --max-workers, and uvicorn+starlette with as many
 * processes; load from wrk and from `deno task drive`. Prints req/s, p50, p99 and ratios.
 *
 * Then what the switches cost: for each worker count, servers with metrics on (the default) and
 * off — and, at the largest count, with the JSON access log on (its stderr read by this script,
 * as a log collector would) — run side by side and take turns under wrk for --rounds rounds;
 * the medians are compared, so drift on a shared box hits every variant alike.
 *
 *   deno task bench:scaling [--max-workers N] [--duration 10s] [--connections 64] [--wrk-threads 1]
 *
 * Defaults suit a 2-core box (max workers = cores). On a 16-core machine:
 * `deno task bench:scaling --max-workers 12 --wrk-threads 4`. Needs Debian's wrk,
 * python3-uvicorn, python3-starlette, python3-uvloop, python3-httptools; PYTHON picks the
 * interpreter (default /usr/bin/python3).
 */
import { parseArgs } from "node:util";
import {
  alternate,
  driveJson,
  plainCommand,
  siphonCommand,
  startProc,
  uvicornCommand,
  type Variant,
  wrk,
} from "./_proc.ts";
import { freePort } from "../harness/launch.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "max-workers": { type: "string", default: String(navigator.hardwareConcurrency) },
    duration: { type: "string", default: "10s" },
    connections: { type: "string", default: "64" },
    "wrk-threads": { type: "string", default: "1" },
    "no-peer": { type: "boolean", default: false },
    rounds: { type: "string", default: "5" },
    "round-duration": { type: "string", default: "4s" },
  },
});
const maxWorkers = Number(values["max-workers"]);
const counts = [1, 2, 4, 8, 12, 16, 24, 32].filter((n) => n <= maxWorkers);
if (!counts.includes(maxWorkers)) counts.push(maxWorkers);
const connections = Number(values.connections);
const wrkThreads = Number(values["wrk-threads"]);

interface Row {
  server: string;
  load: "wrk" | "drive";
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function withDrive(url: string): Promise<Omit<Row, "server" | "load">> {
  const d = await driveJson(url, { duration: values.duration, connections, threads: wrkThreads });
  return { rps: d.rps, p50: d.latency_ms.p50, p99: d.latency_ms.p99, errors: d.errors };
}

async function measure(
  server: string,
  url: string,
  start: () => ReturnType<typeof startProc>,
): Promise<Row[]> {
  const proc = await start();
  try {
    await wrk(url, { threads: wrkThreads, connections, duration: "2s" }); // warm-up
    const w = await wrk(url, { threads: wrkThreads, connections, duration: values.duration });
    const d = await withDrive(url);
    const logged = proc.stderrLines() ? `, ${proc.stderrLines()} log lines` : "";
    console.error(
      `measured ${server}: wrk ${Math.round(w.rps)}, drive ${Math.round(d.rps)} req/s${logged}`,
    );
    return [
      { server, load: "wrk", rps: w.rps, p50: w.p50ms, p99: w.p99ms, errors: w.errors + w.non2xx },
      { server, load: "drive", ...d },
    ];
  } finally {
    await proc.stop();
  }
}

const rows: Row[] = [];
{
  const port = freePort();
  const cmd = plainCommand(port);
  rows.push(
    ...await measure(
      `plain Deno.serve "ok" (1 thread)`,
      `http://127.0.0.1:${port}/trivial`,
      () => startProc({ cmd, url: `http://127.0.0.1:${port}/trivial` }),
    ),
  );
}
/** siphon-deno with `n` workers and the given switches (env of bench/app/http.yaml). */
async function siphon(label: string, n: number, switches: Record<string, string>) {
  const port = freePort();
  const { cmd, env } = siphonCommand("bench/app/http.yaml");
  rows.push(
    ...await measure(
      `${label}, ${n} worker(s)`,
      `http://127.0.0.1:${port}/trivial`,
      () =>
        startProc({
          cmd,
          env: { ...env, ...switches, PORT: String(port), WORKERS: String(n) },
          url: `http://127.0.0.1:${port}/trivial`,
          countStderr: switches.ACCESS_LOG === "true",
        }),
    ),
  );
}
for (const n of counts) await siphon("siphon-deno", n, {});
if (!values["no-peer"]) {
  for (const n of counts) {
    const port = freePort();
    const cmd = uvicornCommand(port, n);
    rows.push(
      ...await measure(
        `uvicorn+starlette, ${n} process(es)`,
        `http://127.0.0.1:${port}/trivial`,
        () => startProc({ cmd, url: `http://127.0.0.1:${port}/trivial` }),
      ),
    );
  }
}

console.log(
  `\n## Scaling, trivial route, ${navigator.hardwareConcurrency}-core machine, ${connections} connections, ` +
    `${values.duration}, ${wrkThreads} load thread(s)\n`,
);
console.log("| server | load | req/s | p50 ms | p99 ms | errors | vs 1 worker/process |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows) {
  const family = r.server.replace(/, \d+ (worker|process).*$/, "");
  const one = rows.find((x) =>
    x.load === r.load && x.server.replace(/, \d+ (worker|process).*$/, "") === family &&
    /, 1 (worker|process)/.test(x.server)
  );
  const ratio = one && one !== r ? `${(r.rps / one.rps).toFixed(2)}×` : "–";
  console.log(
    `| ${r.server} | ${r.load} | ${Math.round(r.rps)} | ${r.p50.toFixed(3)} | ${
      r.p99.toFixed(3)
    } | ${r.errors} | ${ratio} |`,
  );
}
console.log("\n## siphon-deno / uvicorn+starlette at equal worker/process counts (wrk)\n");
for (const n of counts) {
  const s = rows.find((r) => r.load === "wrk" && r.server === `siphon-deno, ${n} worker(s)`);
  const u = rows.find((r) =>
    r.load === "wrk" && r.server === `uvicorn+starlette, ${n} process(es)`
  );
  if (s && u) console.log(`- ${n}: ${(s.rps / u.rps).toFixed(2)}×`);
}

const switchLines: string[] = [];
const cost = (withIt: number, without: number) =>
  `${Math.round(withIt)} vs ${Math.round(without)} req/s = ${(withIt / without).toFixed(3)} ` +
  `(cost ${((1 - withIt / without) * 100).toFixed(1)} %)`;
for (const n of counts) {
  const variants: Variant[] = [
    { name: "metrics on", switches: {} },
    { name: "metrics off", switches: { METRICS: "false" } },
  ];
  if (n === maxWorkers) variants.push({ name: "access log on", switches: { ACCESS_LOG: "true" } });
  const [on, off, access] = await alternate({
    workers: n,
    variants,
    rounds: Number(values.rounds),
    duration: values["round-duration"],
    connections,
    threads: wrkThreads,
  });
  switchLines.push(`- ${n} worker(s), metrics on vs off: ${cost(on, off)}`);
  if (access) switchLines.push(`- ${n} worker(s), JSON access log on vs off: ${cost(access, on)}`);
}
console.log(
  `\n## What the switches cost (median of ${values.rounds} alternating wrk runs of ` +
    `${values["round-duration"]})\n`,
);
for (const line of switchLines) console.log(line);
