/**
 * req/s of siphon-deno against plain Deno.serve and uvicorn+starlette, measured in one run on
 * this machine: `deno task bench:throughput` (needs Debian's wrk, python3-uvicorn,
 * python3-starlette, python3-uvloop, python3-httptools).
 *
 * Env: PYTHON (default /usr/bin/python3, where Debian installs uvicorn), BENCH_DURATION (default 10s), BENCH_CONNECTIONS (64), BENCH_THREADS (1: wrk keeps one core
 * of a 2-core box), SIPHON_WORKERS (list, default "1,2"), UVICORN_WORKERS (list, default "1,2").
 */
import { join } from "node:path";
import {
  plainCommand,
  ROOT,
  siphonCommand,
  startProc,
  uvicornCommand,
  wrk,
  type WrkResult,
} from "./_proc.ts";
import { freePort } from "../harness/launch.ts";

const duration = Deno.env.get("BENCH_DURATION") ?? "10s";
const connections = Number(Deno.env.get("BENCH_CONNECTIONS") ?? 64);
const threads = Number(Deno.env.get("BENCH_THREADS") ?? 1);
const list = (name: string, d: string) => (Deno.env.get(name) ?? d).split(",").map(Number);
const lua = join(ROOT, "bench", "peers", "realistic.lua");

interface Row {
  server: string;
  trivial: WrkResult;
  realistic?: WrkResult;
}

async function measure(
  name: string,
  base: string,
  start: () => ReturnType<typeof startProc>,
  realistic = true,
): Promise<Row> {
  const proc = await start();
  try {
    await wrk(`${base}/trivial`, { threads, connections, duration: "2s" }); // warm-up
    const trivial = await wrk(`${base}/trivial`, { threads, connections, duration });
    const real = realistic
      ? await wrk(`${base}/realistic/42?page=2&limit=50&sort=name`, {
        threads,
        connections,
        duration,
        script: lua,
      })
      : undefined;
    const row = { server: name, trivial, realistic: real };
    console.error(
      `measured ${name}: ${Math.round(trivial.rps)} / ${real ? Math.round(real.rps) : "-"} req/s`,
    );
    return row;
  } finally {
    await proc.stop();
  }
}

const rows: Row[] = [];
for (const workers of [0, ...list("SIPHON_WORKERS", "1,2").filter((n) => n > 1)]) {
  const port = freePort();
  const name = workers
    ? `plain Deno.serve "ok", ${workers} reusePort workers`
    : `plain Deno.serve "ok" (1 thread)`;
  const cmd = plainCommand(port, workers);
  rows.push(
    await measure(
      name,
      `http://127.0.0.1:${port}`,
      () => startProc({ cmd, url: `http://127.0.0.1:${port}/trivial` }),
      false,
    ),
  );
}
for (const workers of list("SIPHON_WORKERS", "1,2")) {
  const port = freePort();
  const { cmd, env } = siphonCommand("bench/app/http.yaml");
  rows.push(
    await measure(`siphon-deno, ${workers} worker(s)`, `http://127.0.0.1:${port}`, () =>
      startProc({
        cmd,
        env: { ...env, PORT: String(port), WORKERS: String(workers) },
        url: `http://127.0.0.1:${port}/trivial`,
      })),
  );
}
for (const workers of list("UVICORN_WORKERS", "1,2")) {
  const port = freePort();
  const cmd = uvicornCommand(port, workers);
  rows.push(
    await measure(
      `uvicorn+starlette, ${workers} process(es)`,
      `http://127.0.0.1:${port}`,
      () => startProc({ cmd, url: `http://127.0.0.1:${port}/trivial` }),
    ),
  );
}

const cores = navigator.hardwareConcurrency;
console.log(
  `\n## Throughput, ${cores}-core machine, wrk -t${threads} -c${connections} -d${duration} (one run)\n`,
);
console.log(
  "| server | trivial req/s | realistic req/s | trivial p99 ms | realistic p99 ms | errors/non-2xx |",
);
console.log("|---|---|---|---|---|---|");
for (const r of rows) {
  const bad = r.trivial.errors + r.trivial.non2xx +
    (r.realistic ? r.realistic.errors + r.realistic.non2xx : 0);
  console.log(
    `| ${r.server} | ${Math.round(r.trivial.rps)} | ${
      r.realistic ? Math.round(r.realistic.rps) : "-"
    } | ` +
      `${r.trivial.p99ms.toFixed(2)} | ${
        r.realistic ? r.realistic.p99ms.toFixed(2) : "-"
      } | ${bad} |`,
  );
}
const find = (prefix: string) => rows.find((r) => r.server.startsWith(prefix));
const plain = find('plain Deno.serve "ok" (1 thread)')!;
console.log("\n## Ratios (same run)\n");
for (const s of rows.filter((r) => r.server.startsWith("siphon"))) {
  console.log(
    `- ${s.server}: ${(s.trivial.rps / plain.trivial.rps).toFixed(2)}× plain Deno.serve (trivial)`,
  );
  const n = /(\d+) worker/.exec(s.server)?.[1];
  const layout = find(`plain Deno.serve "ok", ${n} reusePort workers`);
  if (layout) {
    const ratio = (s.trivial.rps / layout.trivial.rps).toFixed(2);
    console.log(`- ${s.server}: ${ratio}× ${layout.server} (trivial; the layout's ceiling)`);
  }
  for (const u of rows.filter((r) => r.server.startsWith("uvicorn"))) {
    console.log(
      `- ${s.server} vs ${u.server}: trivial ${(s.trivial.rps / u.trivial.rps).toFixed(2)}×, ` +
        `realistic ${(s.realistic!.rps / u.realistic!.rps).toFixed(2)}×`,
    );
  }
}
const json = Deno.env.get("BENCH_JSON");
if (json) {
  Deno.writeTextFileSync(
    json,
    JSON.stringify({ cores, duration, connections, threads, rows }, null, 2),
  );
}
