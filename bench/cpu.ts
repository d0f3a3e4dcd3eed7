/**
 * CPU time per request — the steadiest efficiency figure on a small box (it counts every thread
 * of the server and ignores who got which core): `deno task bench:cpu`. One siphon-deno worker,
 * one uvicorn+starlette process, the floor (bench/peers/floor.ts: Deno.serve and Pyodide in a
 * worker, the handlers' logic called directly — the least this design can do) and plain
 * Deno.serve doing the same logic in JS (the limit of this wire path) take turns under wrk,
 * trivial and realistic, several rounds; the table shows medians and the ratios from this one
 * run. The server's user+sys CPU comes from /proc.
 *
 * Env: BENCH_ROUNDS (5), BENCH_DURATION (4s), BENCH_CONNECTIONS (64), PYTHON (uvicorn's
 * interpreter, default /usr/bin/python3), BENCH_JSON (write the samples there),
 * BENCH_BASELINE (another checkout of siphon-deno, e.g. a `git worktree` of an older commit:
 * it runs beside the others, so a change is measured before and after in one run).
 */
import { join } from "node:path";
import { V8_FLAGS } from "../harness/launch.ts";
import { BASELINE, baselineServer } from "./_baseline.ts";
import { freePortNear } from "./_ports.ts";
import {
  cpuSeconds,
  type Proc,
  ROOT,
  siphonCommand,
  startProc,
  toolArgs,
  uvicornCommand,
  wrk,
} from "./_proc.ts";

const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 5);
const duration = Deno.env.get("BENCH_DURATION") ?? "4s";
const connections = Number(Deno.env.get("BENCH_CONNECTIONS") ?? 64);
const lua = join(ROOT, "bench", "peers", "realistic.lua");
const ROUTES = {
  trivial: { path: "/trivial", script: undefined },
  realistic: { path: "/realistic/42?page=2&limit=50&sort=name", script: lua },
} as const;
type RouteName = keyof typeof ROUTES;

interface Sample {
  cpuUs: number;
  rps: number;
  p99ms: number;
}

interface Server {
  name: string;
  proc: Proc;
  base: string;
  /** uvicorn with --workers forks; count its children too. */
  children: boolean;
  samples: Record<RouteName, Sample[]>;
}

async function start(
  name: string,
  portHint: number,
  make: (port: number) => Parameters<typeof startProc>[0],
) {
  const port = freePortNear(portHint);
  const proc = await startProc(make(port));
  return {
    name,
    proc,
    base: `http://127.0.0.1:${port}`,
    children: false,
    samples: { trivial: [], realistic: [] },
  } as Server;
}

async function sample(server: Server, route: RouteName): Promise<Sample> {
  const { path, script } = ROUTES[route];
  const pid = server.proc.child.pid;
  const before = await cpuSeconds(pid, { children: server.children });
  const w = await wrk(server.base + path, { threads: 1, connections, duration, script });
  const after = await cpuSeconds(pid, { children: server.children });
  if (w.errors + w.non2xx > 0) {
    throw new Error(`${server.name} ${route}: ${w.errors} errors, ${w.non2xx} non-2xx`);
  }
  return { cpuUs: ((after - before) * 1e6) / w.requests, rps: w.rps, p99ms: w.p99ms };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const servers: Server[] = [];
const baseline = BASELINE;
try {
  const siphon = siphonCommand("bench/app/http.yaml");
  servers.push(
    await start("siphon-deno, 1 worker", 8090, (port) => ({
      cmd: siphon.cmd,
      env: { ...siphon.env, PORT: String(port), WORKERS: "1", METRICS: "false" },
      url: `http://127.0.0.1:${port}/trivial`,
    })),
    await start("uvicorn+starlette, 1 process", 8092, (port) => ({
      cmd: uvicornCommand(port, 1),
      url: `http://127.0.0.1:${port}/trivial`,
    })),
  );
  if (baseline) {
    servers.push(
      await start("siphon-deno (baseline checkout), 1 worker", 8096, (port) => ({
        ...baselineServer(
          { ...siphon.env, PORT: String(port), WORKERS: "1", METRICS: "false" },
          V8_FLAGS,
        ),
        url: `http://127.0.0.1:${port}/trivial`,
      })),
    );
  }
  servers.push(
    await start("the floor: Deno.serve + Pyodide, direct call", 8097, (port) => ({
      cmd: toolArgs("serve", "bench/peers/floor.ts", [String(port)]),
      url: `http://127.0.0.1:${port}/trivial`,
    })),
    await start("plain Deno.serve, same logic in JS", 8095, (port) => ({
      cmd: toolArgs("serve", "bench/peers/plain_logic.ts", [String(port)]),
      url: `http://127.0.0.1:${port}/trivial`,
    })),
  );
  for (const s of servers) {
    for (const route of Object.keys(ROUTES) as RouteName[]) {
      const { path, script } = ROUTES[route];
      await wrk(s.base + path, { threads: 1, connections, duration: "2s", script }); // warm-up
    }
  }
  for (let r = 1; r <= rounds; r++) {
    for (const route of Object.keys(ROUTES) as RouteName[]) {
      // Alternate the order, so no server always follows the same one.
      for (const s of r % 2 ? servers : [...servers].reverse()) {
        s.samples[route].push(await sample(s, route));
      }
    }
    console.error(
      `round ${r}/${rounds}: ` +
        servers.map((s) =>
          `${s.name.split(",")[0]} ${s.samples.trivial.at(-1)!.cpuUs.toFixed(1)}/` +
          `${s.samples.realistic.at(-1)!.cpuUs.toFixed(1)} µs`
        ).join(", "),
    );
  }
} finally {
  await Promise.all(servers.map((s) => s.proc.stop()));
}

const cores = navigator.hardwareConcurrency;
console.log(
  `\n## CPU per request, ${cores}-core machine, wrk -t1 -c${connections} -d${duration}, ` +
    `${rounds} alternating rounds, medians\n`,
);
console.log(
  "| server | trivial CPU µs/req | realistic CPU µs/req | trivial req/s | realistic req/s | trivial p99 ms | realistic p99 ms |",
);
console.log("|---|---|---|---|---|---|---|");
const med = (s: Server, route: RouteName, k: keyof Sample) =>
  median(s.samples[route].map((x) => x[k]));
for (const s of servers) {
  console.log(
    `| ${s.name} | ${med(s, "trivial", "cpuUs").toFixed(1)} | ${
      med(s, "realistic", "cpuUs").toFixed(1)
    } | ` +
      `${Math.round(med(s, "trivial", "rps"))} | ${Math.round(med(s, "realistic", "rps"))} | ` +
      `${med(s, "trivial", "p99ms").toFixed(2)} | ${med(s, "realistic", "p99ms").toFixed(2)} |`,
  );
}
const [siphon, uvicorn] = servers;
const plain = servers.at(-1)!;
const floor = servers.at(-2)!;
const before = baseline ? servers[2] : null;
console.log("\n## Ratios (same run, medians)\n");
for (const route of Object.keys(ROUTES) as RouteName[]) {
  const cpu = (s: Server) => med(s, route, "cpuUs");
  console.log(
    `- ${route}: CPU per request siphon-deno ÷ uvicorn+starlette ${
      (cpu(siphon) / cpu(uvicorn)).toFixed(2)
    }, ` +
      `÷ the floor ${(cpu(siphon) / cpu(floor)).toFixed(2)}, ` +
      `÷ plain Deno.serve ${(cpu(siphon) / cpu(plain)).toFixed(2)}` +
      (before ? `, ÷ the baseline checkout ${(cpu(siphon) / cpu(before)).toFixed(2)}` : "") +
      `; the floor ÷ uvicorn+starlette ${(cpu(floor) / cpu(uvicorn)).toFixed(2)}`,
  );
}
const json = Deno.env.get("BENCH_JSON");
if (json) {
  Deno.writeTextFileSync(
    json,
    JSON.stringify(servers.map((s) => ({ name: s.name, samples: s.samples })), null, 2),
  );
}
