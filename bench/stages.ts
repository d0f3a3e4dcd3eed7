/**
 * Where one request's CPU goes, under load: `deno task bench:stages`. The request path is served
 * in four stages, each adding one piece to the one before (bench/stages_server.ts: wire → +
 * routing and the request packed for Python → + the crossing into Python → the whole request),
 * side by side, one worker's worth each; wrk takes turns on them, trivial and realistic, several
 * rounds. Differences between neighbouring stages price each piece in CPU µs per request (user +
 * sys of the whole process, from /proc). Python's own share is split further in process
 * (bytecodes: `deno task bench:bytecodes`). The floor (bench/peers/floor.ts: Deno.serve and Pyodide
 * in a worker, the handlers' logic called directly) runs beside them, so the whole request can be
 * read against the least this design can do.
 *
 * Env: BENCH_ROUNDS (5), BENCH_DURATION (3s), BENCH_CONNECTIONS (64).
 */
import { join } from "node:path";
import { cpuSeconds, type Proc, ROOT, startProc, toolArgs, wrk } from "./_proc.ts";
import { freePort, SERVE_FLAGS, V8_FLAGS } from "../harness/launch.ts";

const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 5);
const duration = Deno.env.get("BENCH_DURATION") ?? "3s";
const connections = Number(Deno.env.get("BENCH_CONNECTIONS") ?? 64);
const lua = join(ROOT, "bench", "peers", "realistic.lua");
const STAGES = ["wire", "body", "route", "cross", "full"] as const;
const ROUTES = {
  trivial: { path: "/trivial", script: undefined },
  realistic: { path: "/realistic/42?page=2&limit=50&sort=name", script: lua },
} as const;
type Route = keyof typeof ROUTES;

const procs: { stage: string; proc: Proc; base: string; cpu: Record<Route, number[]> }[] = [];
try {
  for (const stage of STAGES) {
    const port = freePort();
    procs.push({
      stage,
      proc: await startProc({
        // Launched as the server is: the serve permission set and its V8 flags.
        cmd: [
          Deno.execPath(),
          "run",
          ...SERVE_FLAGS,
          V8_FLAGS,
          "bench/stages_server.ts",
          stage,
          String(port),
        ],
        env: { GLIBC_TUNABLES: "glibc.malloc.mmap_threshold=131072" },
        url: `http://127.0.0.1:${port}/trivial`,
      }),
      base: `http://127.0.0.1:${port}`,
      cpu: { trivial: [], realistic: [] },
    });
  }
  const floorPort = freePort();
  procs.push({
    stage: "floor",
    proc: await startProc({
      cmd: toolArgs("serve", "bench/peers/floor.ts", [String(floorPort)]),
      url: `http://127.0.0.1:${floorPort}/trivial`,
    }),
    base: `http://127.0.0.1:${floorPort}`,
    cpu: { trivial: [], realistic: [] },
  });
  for (const p of procs) {
    for (const route of Object.keys(ROUTES) as Route[]) {
      const { path, script } = ROUTES[route];
      await wrk(p.base + path, { threads: 1, connections, duration: "2s", script });
    }
  }
  for (let r = 1; r <= rounds; r++) {
    for (const route of Object.keys(ROUTES) as Route[]) {
      for (const p of procs) {
        const { path, script } = ROUTES[route];
        const before = await cpuSeconds(p.proc.child.pid);
        const w = await wrk(p.base + path, { threads: 1, connections, duration, script });
        p.cpu[route].push(((await cpuSeconds(p.proc.child.pid)) - before) * 1e6 / w.requests);
      }
    }
    console.error(`round ${r}/${rounds} done`);
  }
} finally {
  await Promise.all(procs.map((p) => p.proc.stop()));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const WHAT: Record<string, string> = {
  wire: "wire: hyper, kernel, the Request object (plain Deno.serve)",
  body: "+ reading the body (plain Deno.serve, `await req.bytes()`)",
  route: "+ routing, limits, the request packed for Python, deadlines, metrics",
  cross: "+ one call into Python and back (a no-op)",
  full: "+ Python's work: dispatch, Request, handler, packing; the Response in JS",
};
console.log(
  `\n## CPU per request by stage, wrk -t1 -c${connections} -d${duration}, ${rounds} alternating ` +
    `rounds, medians (µs)\n`,
);
console.log("| stage | trivial | +Δ | realistic | +Δ |");
console.log("|---|---|---|---|---|");
const floor = procs.pop()!;
procs.forEach((p, i) => {
  const t = median(p.cpu.trivial);
  const r = median(p.cpu.realistic);
  const prev = procs[i - 1];
  const dt = prev ? (t - median(prev.cpu.trivial)).toFixed(1) : "";
  const dr = prev ? (r - median(prev.cpu.realistic)).toFixed(1) : "";
  console.log(`| ${WHAT[p.stage]} | ${t.toFixed(1)} | ${dt} | ${r.toFixed(1)} | ${dr} |`);
});
const full = procs.at(-1)!;
const [ft, fr] = [median(floor.cpu.trivial), median(floor.cpu.realistic)];
console.log(
  `\nThe floor (Deno.serve + Pyodide, the logic called directly): ${ft.toFixed(1)} / ` +
    `${fr.toFixed(1)} µs; the whole request ÷ the floor ` +
    `${(median(full.cpu.trivial) / ft).toFixed(2)} / ${
      (median(full.cpu.realistic) / fr).toFixed(2)
    }` +
    " (trivial / realistic).",
);
