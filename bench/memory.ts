/**
 * RSS per additional worker, idle and after 100k requests, for 1, 2 and 4 workers:
 * `deno task bench:memory`. Launches like `deno task serve` (GLIBC_TUNABLES set); with
 * MEMORY_STOCK=1 it also measures without the glibc tunable for comparison.
 */
import { rssMiB, siphonCommand, startProc, wrk } from "./_proc.ts";
import { freePort } from "../harness/launch.ts";

const counts = (Deno.env.get("WORKER_COUNTS") ?? "1,2,4").split(",").map(Number);
const target = Number(Deno.env.get("REQUESTS") ?? 100000);
const variants = Deno.env.get("MEMORY_STOCK") ? [true, false] : [true];

interface Sample {
  workers: number;
  idle: number;
  loaded: number;
  requests: number;
}

async function measure(workers: number, tunable: boolean): Promise<Sample> {
  const port = freePort();
  const { cmd, env } = siphonCommand("bench/app/http.yaml");
  const proc = await startProc({
    cmd,
    env: {
      ...(tunable ? env : { ADMIN_PORT: env.ADMIN_PORT }),
      PORT: String(port),
      WORKERS: String(workers),
    },
    // Ready when every worker accepts (the first one answers earlier).
    url: `http://127.0.0.1:${env.ADMIN_PORT}/readyz`,
  });
  try {
    await new Promise((r) => setTimeout(r, 1500));
    const idle = await rssMiB(proc.child.pid);
    let requests = 0;
    while (requests < target) {
      const r = await wrk(`http://127.0.0.1:${port}/realistic/42?page=2&limit=50&sort=name`, {
        threads: 1,
        connections: 32,
        duration: "2s",
        script: "bench/peers/realistic.lua",
      });
      if (r.errors || r.non2xx) throw new Error(`errors under load: ${JSON.stringify(r)}`);
      requests += r.requests;
    }
    await new Promise((r) => setTimeout(r, 1000));
    return { workers, idle, loaded: await rssMiB(proc.child.pid), requests };
  } finally {
    await proc.stop();
  }
}

for (const tunable of variants) {
  const samples: Sample[] = [];
  for (const n of counts) samples.push(await measure(n, tunable));
  const base = samples[0];
  console.log(
    `\n## RSS, ${tunable ? "with" : "without"} GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072\n`,
  );
  console.log(
    "| workers | RSS idle MiB | RSS after load MiB | requests | per extra worker idle | per extra worker loaded |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const s of samples) {
    const extra = s.workers - base.workers;
    const per = (a: number, b: number) => extra ? ((a - b) / extra).toFixed(1) : "-";
    console.log(
      `| ${s.workers} | ${s.idle.toFixed(1)} | ${s.loaded.toFixed(1)} | ${s.requests} | ` +
        `${per(s.idle, base.idle)} | ${per(s.loaded, base.loaded)} |`,
    );
  }
}
