/**
 * What Deno.serve charges for each thing the request path may do: `deno task bench:wire`. One
 * plain server per variant (bench/peers/wire_costs.ts) — reading the headers, reading the peer
 * address, answering with bytes or with text — takes turns under wrk; the CPU per request of
 * each, against `plain` ("ok" as a string) in the same run, prices the lever (docs/performance.md).
 *
 * Env: BENCH_ROUNDS (10), BENCH_DURATION (2s), BENCH_CONNECTIONS (64).
 */
import { cpuSeconds, type Proc, startProc, toolArgs, wrk } from "./_proc.ts";
import { freePort } from "../harness/launch.ts";

const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 10);
const duration = Deno.env.get("BENCH_DURATION") ?? "2s";
const connections = Number(Deno.env.get("BENCH_CONNECTIONS") ?? 64);
const VARIANTS = [
  "plain",
  "headers",
  "peer",
  "bytes",
  "text",
  "text_init",
  "json_bytes",
  "json_text",
];

const servers: { variant: string; proc: Proc; url: string; cpu: number[] }[] = [];
try {
  for (const variant of VARIANTS) {
    const port = freePort();
    const url = `http://127.0.0.1:${port}/`;
    const proc = await startProc({
      cmd: toolArgs("serve", "bench/peers/wire_costs.ts", [variant, String(port)]),
      url,
    });
    servers.push({ variant, proc, url, cpu: [] });
  }
  for (const s of servers) await wrk(s.url, { threads: 1, connections, duration: "1s" });
  for (let r = 1; r <= rounds; r++) {
    // Alternate the order, so no variant always follows the same one.
    for (const s of r % 2 ? servers : [...servers].reverse()) {
      const before = await cpuSeconds(s.proc.child.pid);
      const w = await wrk(s.url, { threads: 1, connections, duration });
      s.cpu.push(((await cpuSeconds(s.proc.child.pid)) - before) * 1e6 / w.requests);
    }
    console.error(`round ${r}/${rounds} done`);
  }
} finally {
  await Promise.all(servers.map((s) => s.proc.stop()));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const plain = median(servers[0].cpu);
console.log(
  `\n## What Deno.serve charges, wrk -t1 -c${connections} -d${duration}, ${rounds} alternating ` +
    "rounds, medians (CPU µs per request)\n",
);
console.log("| variant | µs/req | against plain |");
console.log("|---|---|---|");
for (const s of servers) {
  const m = median(s.cpu);
  console.log(
    `| ${s.variant} | ${m.toFixed(2)} | ${(m - plain >= 0 ? "+" : "") + (m - plain).toFixed(2)} |`,
  );
}
