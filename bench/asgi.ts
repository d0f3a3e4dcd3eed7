/**
 * An unchanged Starlette app on siphon-deno and on uvicorn: `deno task bench:asgi`. The same
 * file, bench/peers/starlette_app.py (the uvicorn peer of bench:cpu), served by siphon-deno as
 * `app: starlette_app:app` with 1 and 2 workers, and by uvicorn (uvloop, httptools) with 1 and 2
 * processes; siphon-deno's own script API serving the same logic (bench/app) runs beside them as
 * the cost of the ASGI adapter. Each takes turns under wrk, trivial and realistic routes, several
 * rounds in alternating order; the table has the medians of CPU per request (the server's
 * user+sys from /proc, children included) and req/s, and the ratios from this one run. Then the
 * app alone (bench/peers/asgi_loop.py: called in a loop, no server) under CPython and under
 * Pyodide: what the interpreter costs, and what each server adds around the app.
 *
 * Starlette's wheels are built from Debian's python3-starlette, -anyio, -sniffio and -idna
 * (harness/wheels.ts); uvicorn runs on Debian's python3-uvicorn.
 *
 * Env: BENCH_ROUNDS (5), BENCH_DURATION (4s), BENCH_CONNECTIONS (64), PYTHON (uvicorn's
 * interpreter, default /usr/bin/python3), BENCH_JSON (write the samples there).
 */
import { join } from "node:path";
import { asgiProject } from "./_asgi_project.ts";
import {
  type CpuServer,
  med,
  ROUTE_NAMES,
  type RouteName,
  RUN,
  runRounds,
  startCpuServer,
  writeSamples,
} from "./_cpu_rounds.ts";
import { ROOT, siphonCommand, uvicornCommand } from "./_proc.ts";

type Server = CpuServer;

const start = (
  name: string,
  make: (port: number) => { cmd: string[]; env?: Record<string, string> },
  children = false,
) => startCpuServer(name, make, { children });

/** siphon-deno serving `config` with `workers` and no metrics (as bench:cpu), on `port`. */
function siphon(config: string, workers: number, port: number) {
  const { cmd, env } = siphonCommand(config); // each its own admin port
  return { cmd, env: { ...env, PORT: String(port), WORKERS: String(workers), METRICS: "false" } };
}

/**
 * The Starlette app alone, called in a loop (bench/peers/asgi_loop.py): under Debian's CPython,
 * and under Pyodide through a siphon-deno that serves it — µs per request, each route.
 */
async function appAlone(): Promise<{ cpython: Floor; pyodide: Floor }> {
  const python = Deno.env.get("PYTHON") ?? "/usr/bin/python3";
  const out = await new Deno.Command(python, {
    args: [join(ROOT, "bench", "peers", "asgi_loop.py")],
    stdout: "piped",
  }).output();
  const cpython = JSON.parse(new TextDecoder().decode(out.stdout)) as Floor;
  const server = await start("loop", (port) => siphon(join(project, "loop.yaml"), 1, port));
  try {
    const res = await fetch(`${server.base}/loop`);
    return { cpython, pyodide: await res.json() as Floor };
  } finally {
    await server.proc.stop();
  }
}

type Floor = Record<RouteName, number>;
let floor: { cpython: Floor; pyodide: Floor } | null = null;
const project = asgiProject();
const asgiConfig = join(project, "http.yaml");
const servers: Server[] = [];
try {
  for (const workers of [1, 2]) {
    const plural = workers > 1;
    servers.push(
      await start(
        `siphon-deno, Starlette app, ${workers} worker${plural ? "s" : ""}`,
        (port) => siphon(asgiConfig, workers, port),
      ),
      await start(
        `uvicorn, Starlette app, ${workers} process${plural ? "es" : ""}`,
        (port) => ({ cmd: uvicornCommand(port, workers) }),
        plural,
      ),
    );
  }
  servers.push(
    await start(
      "siphon-deno, script API (bench/app), 1 worker",
      (port) => siphon("bench/app/http.yaml", 1, port),
    ),
  );
  await runRounds(servers, (name) => name.replace(", Starlette app", ""));
  floor = await appAlone();
} finally {
  await Promise.all(servers.map((s) => s.proc.stop()));
  Deno.removeSync(project, { recursive: true });
}

console.log(
  `\n## The same Starlette app, ${navigator.hardwareConcurrency}-core machine, wrk -t1 ` +
    `-c${RUN.connections} -d${RUN.duration}, ${RUN.rounds} alternating rounds, medians\n`,
);
console.log(
  "| server | trivial CPU µs/req | realistic CPU µs/req | trivial req/s | realistic req/s |",
);
console.log("|---|---|---|---|---|");
for (const s of servers) {
  console.log(
    `| ${s.name} | ${med(s, "trivial", "cpuUs").toFixed(1)} | ` +
      `${med(s, "realistic", "cpuUs").toFixed(1)} | ${Math.round(med(s, "trivial", "rps"))} | ` +
      `${Math.round(med(s, "realistic", "rps"))} |`,
  );
}
console.log(
  `| the app alone in a loop, CPython (no server) | ${floor!.cpython.trivial.toFixed(1)} | ` +
    `${floor!.cpython.realistic.toFixed(1)} | | |`,
);
console.log(
  `| the app alone in a loop, Pyodide (no server) | ${floor!.pyodide.trivial.toFixed(1)} | ` +
    `${floor!.pyodide.realistic.toFixed(1)} | | |`,
);
console.log("\n## Ratios (same run, medians)\n");
const [asgi1, uv1, asgi2, uv2, native] = servers;
for (const route of ROUTE_NAMES) {
  const cpu = (s: Server) => med(s, route, "cpuUs");
  const rps = (s: Server) => med(s, route, "rps");
  console.log(
    `- ${route}: CPU per request siphon-deno ÷ uvicorn ${(cpu(asgi1) / cpu(uv1)).toFixed(2)} ` +
      `(1 each), ${(cpu(asgi2) / cpu(uv2)).toFixed(2)} (2 each); req/s siphon-deno ÷ uvicorn ` +
      `${(rps(asgi1) / rps(uv1)).toFixed(2)} (1 each), ${(rps(asgi2) / rps(uv2)).toFixed(2)} ` +
      `(2 each); the ASGI app ÷ the script API ${(cpu(asgi1) / cpu(native)).toFixed(2)} (CPU, ` +
      "1 worker)",
  );
  const { cpython, pyodide } = floor!;
  console.log(
    `  - the app alone: Pyodide ÷ CPython ${(pyodide[route] / cpython[route]).toFixed(2)}; ` +
      `around it, siphon-deno spends ${(cpu(asgi1) - pyodide[route]).toFixed(1)} µs and ` +
      `uvicorn ${(cpu(uv1) - cpython[route]).toFixed(1)} µs (1 each: CPU per request minus ` +
      "the app alone)",
  );
}
writeSamples(servers);
