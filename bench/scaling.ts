/**
 * Scaling with workers, in one run, against the same trivial route: plain Deno.serve "ok",
 * siphon-deno with 1, 2, 4, … workers up to --max-workers, and uvicorn+starlette with as many
 * processes; load from wrk and from `deno task drive`. Prints req/s, p50, p99 and ratios.
 *
 *   deno task bench:scaling [--max-workers N] [--duration 10s] [--connections 64] [--wrk-threads 1]
 *
 * Defaults suit a 2-core box (max workers = cores). On a 16-core machine:
 * `deno task bench:scaling --max-workers 12 --wrk-threads 4`. Needs Debian's wrk,
 * python3-uvicorn, python3-starlette, python3-uvloop, python3-httptools; PYTHON picks the
 * interpreter (default /usr/bin/python3).
 */
import { parseArgs } from "node:util";
import { freePortNear } from "./_ports.ts";
import { driveJson, plainCommand, siphonCommand, startProc, uvicornCommand, wrk } from "./_proc.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "max-workers": { type: "string", default: String(navigator.hardwareConcurrency) },
    duration: { type: "string", default: "10s" },
    connections: { type: "string", default: "64" },
    "wrk-threads": { type: "string", default: "1" },
    "no-peer": { type: "boolean", default: false },
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
    console.error(`measured ${server}: wrk ${Math.round(w.rps)}, drive ${Math.round(d.rps)} req/s`);
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
  const port = freePortNear(8091);
  const cmd = plainCommand(port);
  rows.push(
    ...await measure(
      `plain Deno.serve "ok" (1 thread)`,
      `http://127.0.0.1:${port}/trivial`,
      () => startProc({ cmd, url: `http://127.0.0.1:${port}/trivial` }),
    ),
  );
}
for (const n of counts) {
  const port = freePortNear(8090);
  const { cmd, env } = siphonCommand("bench/app/http.yaml");
  rows.push(
    ...await measure(
      `siphon-deno, ${n} worker(s)`,
      `http://127.0.0.1:${port}/trivial`,
      () =>
        startProc({
          cmd,
          env: { ...env, PORT: String(port), WORKERS: String(n) },
          url: `http://127.0.0.1:${port}/trivial`,
        }),
    ),
  );
}
if (!values["no-peer"]) {
  for (const n of counts) {
    const port = freePortNear(8092);
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
    x.load === r.load && x.server.startsWith(family) && /, 1 (worker|process)/.test(x.server)
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
