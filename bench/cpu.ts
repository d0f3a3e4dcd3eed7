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
import { freePort, V8_FLAGS } from "../harness/launch.ts";
import { BASELINE, baselineServer } from "./_baseline.ts";
import {
  type CpuServer,
  cpuServer,
  med,
  ROUTE_NAMES,
  RUN,
  runRounds,
  writeSamples,
} from "./_cpu_rounds.ts";
import { siphonCommand, startProc, toolArgs, uvicornCommand } from "./_proc.ts";

const { rounds, duration, connections } = RUN;
type Server = CpuServer;

async function start(
  name: string,
  make: (port: number) => Parameters<typeof startProc>[0],
): Promise<Server> {
  const port = freePort();
  return cpuServer(name, await startProc(make(port)), `http://127.0.0.1:${port}`);
}

const servers: Server[] = [];
const baseline = BASELINE;
try {
  const siphon = siphonCommand("bench/app/http.yaml");
  servers.push(
    await start("siphon-deno, 1 worker", (port) => ({
      cmd: siphon.cmd,
      env: { ...siphon.env, PORT: String(port), WORKERS: "1", METRICS: "false" },
      url: `http://127.0.0.1:${port}/trivial`,
    })),
    await start("uvicorn+starlette, 1 process", (port) => ({
      cmd: uvicornCommand(port, 1),
      url: `http://127.0.0.1:${port}/trivial`,
    })),
  );
  if (baseline) {
    servers.push(
      await start("siphon-deno (baseline checkout), 1 worker", (port) => ({
        ...baselineServer(
          { ...siphon.env, PORT: String(port), WORKERS: "1", METRICS: "false" },
          V8_FLAGS,
        ),
        url: `http://127.0.0.1:${port}/trivial`,
      })),
    );
  }
  servers.push(
    await start("the floor: Deno.serve + Pyodide, direct call", (port) => ({
      cmd: toolArgs("serve", "bench/peers/floor.ts", [String(port)]),
      url: `http://127.0.0.1:${port}/trivial`,
    })),
    await start("plain Deno.serve, same logic in JS", (port) => ({
      cmd: toolArgs("serve", "bench/peers/plain_logic.ts", [String(port)]),
      url: `http://127.0.0.1:${port}/trivial`,
    })),
  );
  await runRounds(servers, (name) => name.split(",")[0]);
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
for (const route of ROUTE_NAMES) {
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
writeSamples(servers);
