/**
 * Latency at a fixed rate, open loop: `deno task bench:latency`. One siphon-deno worker and one
 * uvicorn+starlette process get the same realistic request on a schedule (`deno task drive
 * --rate`: a request is due every 1/R s whatever the server does, and its latency counts from
 * when it was due, so queueing shows) at about half of uvicorn's own capacity, measured first
 * in the same run. Rounds alternate between the servers; the table shows medians per percentile.
 *
 * Env: BENCH_ROUNDS (5), BENCH_DURATION (5s), BENCH_LOAD (0.5: the share of uvicorn's capacity),
 * PYTHON (uvicorn's interpreter).
 */
import {
  type DriveJson,
  driveJson,
  type Proc,
  siphonCommand,
  startProc,
  uvicornCommand,
  wrk,
} from "./_proc.ts";
import { join } from "node:path";
import { ROOT } from "./_proc.ts";
import { REALISTIC_BODY, REALISTIC_HEADERS, REALISTIC_PATH } from "./_realistic.ts";
import { freePort } from "../harness/launch.ts";

const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 5);
const duration = Deno.env.get("BENCH_DURATION") ?? "5s";
const load = Number(Deno.env.get("BENCH_LOAD") ?? 0.5);
const [PATH, HEADERS, BODY] = [REALISTIC_PATH, REALISTIC_HEADERS, REALISTIC_BODY];

const servers: { name: string; proc: Proc; url: string; runs: DriveJson[] }[] = [];
let rate = 0;
try {
  const sPort = freePort();
  const siphon = siphonCommand("bench/app/http.yaml");
  const uPort = freePort();
  servers.push(
    {
      name: "siphon-deno, 1 worker",
      proc: await startProc({
        cmd: siphon.cmd,
        env: { ...siphon.env, PORT: String(sPort), WORKERS: "1" },
        url: `http://127.0.0.1:${sPort}/trivial`,
      }),
      url: `http://127.0.0.1:${sPort}${PATH}`,
      runs: [],
    },
    {
      name: "uvicorn+starlette, 1 process",
      proc: await startProc({
        cmd: uvicornCommand(uPort, 1),
        url: `http://127.0.0.1:${uPort}/trivial`,
      }),
      url: `http://127.0.0.1:${uPort}${PATH}`,
      runs: [],
    },
  );
  const lua = join(ROOT, "bench", "peers", "realistic.lua");
  for (const s of servers) {
    await wrk(s.url, { threads: 1, connections: 64, duration: "2s", script: lua });
  }
  const capacity = await wrk(servers[1].url, {
    threads: 1,
    connections: 64,
    duration: "3s",
    script: lua,
  });
  rate = capacity.rps * load;
  console.error(
    `uvicorn+starlette capacity ${Math.round(capacity.rps)} req/s; driving at ${Math.round(rate)}`,
  );
  for (let r = 1; r <= rounds; r++) {
    for (const s of servers) {
      const run = await driveJson(s.url, {
        duration,
        connections: 64,
        threads: 1,
        rate,
        method: "POST",
        headers: [...HEADERS],
        body: BODY,
      });
      if (run.errors > 0) throw new Error(`${s.name}: ${run.errors} errors`);
      s.runs.push(run);
    }
    console.error(
      `round ${r}/${rounds}: ` +
        servers.map((s) => `${s.name.split(",")[0]} p99 ${s.runs.at(-1)!.latency_ms.p99} ms`).join(
          ", ",
        ),
    );
  }
} finally {
  await Promise.all(servers.map((s) => s.proc.stop()));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const at = (s: (typeof servers)[number], k: keyof DriveJson["latency_ms"]) =>
  median(s.runs.map((r) => r.latency_ms[k]));
console.log(
  `\n## Realistic request at ${Math.round(rate)} req/s, open loop (${load} × uvicorn+starlette's ` +
    `capacity), ${rounds} alternating rounds of ${duration}, medians\n`,
);
console.log("| server | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | req/s |");
console.log("|---|---|---|---|---|---|---|");
for (const s of servers) {
  console.log(
    `| ${s.name} | ${at(s, "p50")} | ${at(s, "p90")} | ${at(s, "p99")} | ${at(s, "p999")} | ` +
      `${at(s, "max")} | ${Math.round(median(s.runs.map((r) => r.rps)))} |`,
  );
}
console.log(
  `\np99 siphon-deno ÷ uvicorn+starlette: ${
    (at(servers[0], "p99") / at(servers[1], "p99")).toFixed(2)
  }`,
);
