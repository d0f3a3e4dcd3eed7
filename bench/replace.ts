/**
 * Time to replace a dead worker: `deno task bench:replace`. Kills a worker 5 times (a route
 * that calls os._exit) and reports the supervisor's replacement time and how long until both
 * workers answer again.
 */
import { join } from "node:path";
import { freePort, ROOT, startServer } from "../tests/_server.ts";

const runs = Number(Deno.env.get("RUNS") ?? 5);
const port = freePort();
const base = `http://127.0.0.1:${port}`;
const server = await startServer({
  config: join(ROOT, "tests", "fixtures", "isolation", "http.yaml"),
  env: {
    PORT: String(port),
    ADMIN_PORT: String(freePort()),
    STATE_DIR: Deno.makeTempDirSync({ prefix: "siphon-replace-" }),
  },
});

async function who(): Promise<string | null> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const r = await fetch(`${base}/who`, { client, signal: AbortSignal.timeout(2000) });
    return r.ok ? await r.text() : null;
  } catch {
    return null;
  } finally {
    client.close();
  }
}

console.log(`\n## Replacing a worker that died (os._exit), 2 workers, ${runs} runs\n`);
console.log("| run | supervisor: replaced in | kill → both workers answer |");
console.log("|---|---|---|");
try {
  for (let run = 1; run <= runs; run++) {
    const before = (server.logs().match(/replaced in (\d+) ms/g) ?? []).length;
    const t0 = performance.now();
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
    await fetch(`${base}/exit`, { client }).then((r) => r.body?.cancel());
    client.close();
    const seen = new Set<string>();
    while (seen.size < 2 || (server.logs().match(/replaced in (\d+) ms/g) ?? []).length <= before) {
      const w = await who();
      if (w) seen.add(w);
      if (performance.now() - t0 > 10000) throw new Error("no replacement within 10 s");
    }
    const all = [...server.logs().matchAll(/replaced in (\d+) ms/g)];
    console.log(
      `| ${run} | ${all[all.length - 1][1]} ms | ${Math.round(performance.now() - t0)} ms |`,
    );
  }
} finally {
  await server.stop();
}
