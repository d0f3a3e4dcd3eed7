/**
 * WebSockets: `deno task bench:ws`. Echo messages per second, siphon-deno with 2 workers against
 * uvicorn+starlette with 2 processes (Debian's python3-websockets) and plain Deno.serve echoing in
 * JS from 2 workers (the floor of this wire path), rounds alternating between them, medians, the
 * server's CPU per message; and, first, memory per idle socket with BENCH_SOCKETS (10,000)
 * sockets held open on each. Everything on 127.0.0.1; the load client
 * (bench/ws_client.ts) is a process of its own and stops itself.
 *
 * Env: BENCH_ROUNDS (5), BENCH_DURATION (5 s), BENCH_CONNECTIONS (64), BENCH_SOCKETS (10000),
 * PYTHON (uvicorn's interpreter, default /usr/bin/python3), BENCH_BASELINE (another checkout of
 * siphon-deno, e.g. a `git worktree` of an older commit: it runs beside the others, so a change
 * is measured before and after in one run).
 *
 * @module
 */
import { BASELINE, baselineServer } from "./_baseline.ts";
import {
  cpuSeconds,
  type Proc,
  rssMiB,
  siphonCommand,
  startProc,
  toolArgs,
  uvicornCommand,
} from "./_proc.ts";
import { freePort, V8_FLAGS } from "../harness/launch.ts";

const rounds = Number(Deno.env.get("BENCH_ROUNDS") ?? 5);
const seconds = Number(Deno.env.get("BENCH_DURATION") ?? 5);
const connections = Number(Deno.env.get("BENCH_CONNECTIONS") ?? 64);
const idleSockets = Number(Deno.env.get("BENCH_SOCKETS") ?? 10000);

interface Server {
  name: string;
  proc: Proc;
  url: string;
  children: boolean;
  rates: number[];
  cpuUs: number[];
}

/** Runs the load client and returns its JSON line(s). */
function client(args: string[]) {
  const [cmd, ...rest] = toolArgs("drive", "bench/ws_client.ts", args);
  return new Deno.Command(cmd, {
    args: rest,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

async function echo(s: Server, secs: number): Promise<{ rate: number; cpuUs: number }> {
  const pid = s.proc.child.pid;
  const before = await cpuSeconds(pid, { children: s.children });
  const child = client(["echo", s.url, String(connections), String(secs)]);
  child.stdin.close();
  const out = await child.output();
  const after = await cpuSeconds(pid, { children: s.children });
  const r = JSON.parse(new TextDecoder().decode(out.stdout));
  if (r.errors > 0) throw new Error(`${s.name}: ${r.errors} echo errors`);
  return { rate: r.messages / r.seconds, cpuUs: ((after - before) * 1e6) / r.messages };
}

/** RSS growth per socket, KiB, with `idleSockets` open and idle. */
async function perSocket(s: Server): Promise<{ kib: number; base: number; held: number }> {
  const pid = s.proc.child.pid;
  await new Promise((r) => setTimeout(r, 1000));
  const base = await rssMiB(pid, { children: s.children });
  const child = client(["hold", s.url, String(idleSockets)]);
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let line = "";
  while (!line.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${s.name}: the hold client ended early`);
    line += value;
  }
  const opened = JSON.parse(line.trim()).open;
  await new Promise((r) => setTimeout(r, 3000)); // settle
  const held = await rssMiB(pid, { children: s.children });
  const writer = child.stdin.getWriter();
  await writer.close(); // the client closes its sockets and exits
  reader.releaseLock();
  await child.stdout.cancel().catch(() => {});
  await child.status;
  return { kib: ((held - base) * 1024) / opened, base, held };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function start(
  name: string,
  cmd: (port: number) => {
    cmd: string[];
    cwd?: string;
    env?: Record<string, string>;
  },
  children: boolean,
): Promise<Server> {
  const port = freePort();
  const spec = cmd(port);
  const proc = await startProc({ ...spec, url: `http://127.0.0.1:${port}/trivial` });
  return {
    name,
    proc,
    url: `ws://127.0.0.1:${port}/ws/echo`,
    children,
    rates: [],
    cpuUs: [],
  };
}

const servers: Server[] = [];
try {
  const siphon = siphonCommand("bench/app/http.yaml");
  servers.push(
    await start("siphon-deno, 2 workers", (port) => ({
      cmd: siphon.cmd,
      env: { ...siphon.env, PORT: String(port), WORKERS: "2", METRICS: "false" },
    }), false),
    await start(
      "uvicorn+starlette (websockets), 2 processes",
      (port) => ({ cmd: uvicornCommand(port, 2) }),
      true,
    ),
    await start("plain Deno.serve, 2 workers, echo in JS", (port) => ({
      cmd: toolArgs("serve", "bench/peers/plain_ws.ts", [String(port), "2"]),
    }), false),
  );
  if (BASELINE) {
    servers.push(
      await start("siphon-deno (baseline checkout), 2 workers", (port) =>
        baselineServer(
          { ...siphon.env, PORT: String(port), WORKERS: "2", METRICS: "false" },
          V8_FLAGS,
        ), false),
    );
  }
  // Memory first, on servers that have served nothing yet: the echo rounds leave garbage that
  // would blur the idle baseline.
  const memory: Awaited<ReturnType<typeof perSocket>>[] = [];
  for (const s of servers) memory.push(await perSocket(s));
  for (const s of servers) await echo(s, 2); // warm-up
  for (let r = 1; r <= rounds; r++) {
    // Alternate the order, so no server always follows the same one.
    for (const s of r % 2 ? servers : [...servers].reverse()) {
      const { rate, cpuUs } = await echo(s, seconds);
      s.rates.push(rate);
      s.cpuUs.push(cpuUs);
    }
    console.error(
      `round ${r}/${rounds}: ` +
        servers.map((s) => `${s.name.split(",")[0]} ${Math.round(s.rates.at(-1)!)} msg/s`)
          .join(", "),
    );
  }
  const [ours, peer, plain] = servers;
  console.log(
    `\nEcho, ${connections} connections each sending a 32-byte text message and awaiting its ` +
      `echo; ${rounds} rounds of ${seconds} s, alternating; medians\n`,
  );
  console.log(
    "| server | messages/s | CPU µs per message | RSS idle → with " +
      `${idleSockets} idle sockets | per idle socket |`,
  );
  console.log("| --- | ---: | ---: | ---: | ---: |");
  servers.forEach((s, i) => {
    const m = memory[i];
    console.log(
      `| ${s.name} | ${Math.round(median(s.rates))} | ${median(s.cpuUs).toFixed(1)} | ` +
        `${m.base.toFixed(0)} → ${m.held.toFixed(0)} MiB | ${m.kib.toFixed(1)} KiB |`,
    );
  });
  console.log(
    `\nsiphon-deno / uvicorn: ${(median(ours.rates) / median(peer.rates)).toFixed(2)}× the ` +
      `echo rate (target ≥ 1.5×), ${(median(ours.cpuUs) / median(peer.cpuUs)).toFixed(2)}× the ` +
      `CPU per message; ${memory[0].kib.toFixed(1)} KiB per idle socket (target ≤ 16 KiB); ` +
      `plain Deno.serve's echo costs ${median(plain.cpuUs).toFixed(1)} µs per message here` +
      (BASELINE
        ? `; ÷ the baseline checkout: ${
          (median(ours.rates) / median(servers[3].rates)).toFixed(2)
        }× the rate, ${(median(ours.cpuUs) / median(servers[3].cpuUs)).toFixed(2)}× the CPU`
        : ""),
  );
} finally {
  for (const s of servers) await s.proc.stop();
}
