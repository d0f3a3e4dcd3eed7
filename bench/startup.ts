/**
 * Cold start to the first Python response with 2 workers, 3 runs each:
 * snapshot not cached (it is built first), snapshot cached, and snapshots off (every worker
 * loads Pyodide cold). `deno task bench:startup`.
 */
import { freePortNear } from "./_ports.ts";
import { siphonCommand, startProc } from "./_proc.ts";

const runs = Number(Deno.env.get("RUNS") ?? 3);
const cases: { name: string; env: () => Record<string, string> }[] = [
  {
    name: "snapshot not cached (built, then restored)",
    env: () => ({ SIPHON_CACHE_DIR: Deno.makeTempDirSync() }),
  },
  { name: "snapshot cached", env: () => ({ SIPHON_CACHE_DIR: cached }) },
  { name: "no snapshot (SIPHON_SNAPSHOT=off)", env: () => ({ SIPHON_SNAPSHOT: "off" }) },
];
const cached = Deno.makeTempDirSync({ prefix: "siphon-startup-" });

async function once(env: Record<string, string>): Promise<number> {
  const port = freePortNear(8093);
  const { cmd, env: base } = siphonCommand("bench/app/http.yaml");
  const proc = await startProc({
    cmd,
    env: { ...base, ...env, PORT: String(port), WORKERS: "2" },
    url: `http://127.0.0.1:${port}/trivial`,
  });
  await proc.stop();
  return proc.readyMs;
}

await once({ SIPHON_CACHE_DIR: cached }); // fills the cache for the "cached" case
console.log(
  `\n## Start to first Python response, 2 workers, ${navigator.hardwareConcurrency} cores\n`,
);
console.log(
  "| case | " + Array.from({ length: runs }, (_, i) => `run ${i + 1} ms`).join(" | ") + " |",
);
console.log("|---|" + "---|".repeat(runs));
for (const c of cases) {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once(c.env()));
  console.log(`| ${c.name} | ${times.map((t) => Math.round(t)).join(" | ")} |`);
}
