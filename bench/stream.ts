/**
 * Streamed bodies and the middleware chain, each against a baseline in the same run:
 *
 * - upload and download of 200 MiB through siphon-deno's streaming routes (`req.stream()`, a
 *   generator body) vs plain Deno.serve moving the same bytes without Python, MiB/s as the
 *   median of three, and siphon-deno's peak RSS growth meanwhile;
 * - a trivial route with no middleware vs one guard `fn(req)` vs one wrap-around
 *   `fn(req, call_next)`, servers side by side taking turns under wrk.
 *
 *   deno task bench:stream [--size-mb 200] [--rounds 5]
 */
import { parseArgs } from "node:util";
import { alternate, peakGrowth, type Proc, siphonCommand, startProc, toolArgs } from "./_proc.ts";
import { freePort } from "../harness/launch.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "size-mb": { type: "string", default: "200" },
    rounds: { type: "string", default: "5" },
  },
});
const sizeMb = Number(values["size-mb"]);
const MIB = 1024 * 1024;

/**
 * The upload body. A Uint8Array (sent with Content-Length, read by the server as a stream all
 * the same): a ReadableStream body from Deno's fetch is slow against a server that reads chunk by
 * chunk (~17 MiB/s here, while curl's chunked upload to the same route runs at ~300 MiB/s).
 */
const payload = new Uint8Array(sizeMb * MIB);

/** MiB/s of one transfer, and the server's peak RSS growth during it. */
async function transfer(proc: Proc, base: string, kind: "upload" | "download") {
  const t0 = performance.now();
  const [bytes, growth] = await peakGrowth(proc.child.pid, async () => {
    if (kind === "upload") {
      const res = await fetch(`${base}/stream/upload`, { method: "POST", body: payload });
      return Number(await res.text());
    }
    let n = 0;
    const res = await fetch(`${base}/stream/download/${sizeMb}`);
    for await (const part of res.body!) n += part.byteLength;
    return n;
  });
  const seconds = (performance.now() - t0) / 1000;
  if (bytes !== sizeMb * MIB) throw new Error(`${kind}: moved ${bytes} bytes`);
  return { mibps: sizeMb / seconds, growth };
}

const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function streams(name: string, proc: Proc, base: string) {
  const out: Record<string, { mibps: number; growth: number }> = {};
  for (const kind of ["upload", "download"] as const) {
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await transfer(proc, base, kind));
    out[kind] = {
      mibps: median(runs.map((r) => r.mibps)),
      growth: Math.max(...runs.map((r) => r.growth)),
    };
    console.error(`${name} ${kind}: ${runs.map((r) => r.mibps.toFixed(0)).join(" ")} MiB/s`);
  }
  return out;
}

const sPort = freePort();
const { cmd, env } = siphonCommand("bench/app/http.yaml");
const siphon = await startProc({
  cmd,
  env: { ...env, PORT: String(sPort) },
  url: `http://127.0.0.1:${sPort}/trivial`,
});
const pPort = freePort();
const plain = await startProc({
  cmd: toolArgs("serve", "bench/peers/plain_stream.ts", [String(pPort)]),
  url: `http://127.0.0.1:${pPort}/stream/download/0`,
});
let s, p;
try {
  s = await streams("siphon-deno", siphon, `http://127.0.0.1:${sPort}`);
  p = await streams("plain Deno.serve", plain, `http://127.0.0.1:${pPort}`);
} finally {
  await siphon.stop();
  await plain.stop();
}

const [none, guard, wrap] = await alternate({
  workers: 2,
  variants: [
    { name: "no middleware", switches: {} },
    { name: "one guard", switches: { MIDDLEWARE: "guard" } },
    { name: "one wrap-around", switches: { MIDDLEWARE: "wrap" } },
  ],
  rounds: Number(values.rounds),
  duration: "4s",
  connections: 64,
  threads: 1,
});

console.log(`\n## Streamed bodies, ${sizeMb} MiB, median of 3 (2 workers)\n`);
console.log(
  "| transfer | siphon-deno MiB/s | plain Deno.serve MiB/s | ratio | siphon-deno peak RSS growth |",
);
console.log("|---|---|---|---|---|");
for (const kind of ["upload", "download"] as const) {
  console.log(
    `| ${kind} | ${s[kind].mibps.toFixed(0)} | ${p[kind].mibps.toFixed(0)} | ` +
      `${(s[kind].mibps / p[kind].mibps).toFixed(2)}× | +${s[kind].growth.toFixed(1)} MiB |`,
  );
}
console.log(`\n## Middleware on the trivial route (median of ${values.rounds} × 4 s, wrk -c64)\n`);
console.log(`- no middleware: ${Math.round(none)} req/s`);
console.log(`- one guard fn(req): ${Math.round(guard)} req/s (${(guard / none).toFixed(3)})`);
console.log(
  `- one wrap-around fn(req, call_next): ${Math.round(wrap)} req/s (${(wrap / none).toFixed(3)})`,
);
