/**
 * The load driver against wrk, both on the same mock server in one run:
 * `deno run -P=measure bench/driver_vs_wrk.ts` (needs Debian's wrk). Env: BENCH_DURATION (5s),
 * BENCH_CONNECTIONS (64), MOCK_THREADS (1).
 */
import { driveJson, startProc, toolArgs, wrk } from "./_proc.ts";
import { freePort } from "../harness/launch.ts";

const duration = Deno.env.get("BENCH_DURATION") ?? "5s";
const connections = Deno.env.get("BENCH_CONNECTIONS") ?? "64";
const port = freePort();
const mock = await startProc({
  cmd: toolArgs("drive", "harness/main.ts", [
    ...["serve", "--port", String(port)],
    ...["--threads", Deno.env.get("MOCK_THREADS") ?? "1"],
  ]),
  url: `http://127.0.0.1:${port}/`,
});
try {
  const w = await wrk(`http://127.0.0.1:${port}/`, {
    threads: 1,
    connections: Number(connections),
    duration,
  });
  const d = await driveJson(`http://127.0.0.1:${port}/`, {
    duration,
    connections: Number(connections),
    threads: 1,
  });
  console.log(
    `\n## Driver vs wrk, mock server, ${connections} connections, ${duration}, one load thread each\n`,
  );
  console.log("| load generator | req/s | p50 ms | p99 ms | errors |");
  console.log("|---|---|---|---|---|");
  console.log(
    `| wrk | ${Math.round(w.rps)} | ${w.p50ms.toFixed(3)} | ${w.p99ms.toFixed(3)} | ${
      w.errors + w.non2xx
    } |`,
  );
  console.log(
    `| deno task drive | ${
      Math.round(d.rps)
    } | ${d.latency_ms.p50} | ${d.latency_ms.p99} | ${d.errors} |`,
  );
  console.log(`\ndrive / wrk = ${(d.rps / w.rps).toFixed(2)}`);
} finally {
  await mock.stop();
}
