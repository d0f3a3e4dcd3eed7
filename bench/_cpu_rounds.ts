/**
 * CPU per request under wrk, servers taking turns: shared by bench:cpu and bench:asgi. Each
 * server gets a warm-up per route, then rounds in which every server is sampled on each route,
 * the order reversed every other round so no server always follows the same one. A sample is
 * the server's user+sys CPU (/proc, its children too where it forks) over wrk's requests.
 *
 * @module
 */
import { join } from "node:path";
import { freePort } from "../harness/launch.ts";
import { cpuSeconds, type Proc, ROOT, startProc, wrk } from "./_proc.ts";

/** What a server is driven on: a path, and wrk's Lua script for it if any, by name. */
export type Routes = Record<string, { path: string; script?: string }>;

/** The two routes every CPU benchmark drives, as bench/peers/realistic.lua sends them. */
export const ROUTES = {
  trivial: { path: "/trivial", script: undefined },
  realistic: {
    path: "/realistic/42?page=2&limit=50&sort=name",
    script: join(ROOT, "bench", "peers", "realistic.lua"),
  },
} as const;
export type RouteName = keyof typeof ROUTES;
export const ROUTE_NAMES = Object.keys(ROUTES) as RouteName[];

/** One wrk run against one server. */
export interface Sample {
  cpuUs: number;
  rps: number;
  p99ms: number;
}

/** A started server and its samples. */
export interface CpuServer {
  name: string;
  proc: Proc;
  base: string;
  /** uvicorn with --workers forks; count its children too. */
  children: boolean;
  /** What it is driven on. @default ROUTES */
  routes: Routes;
  samples: Record<string, Sample[]>;
}

/** The wrk settings of a run: `BENCH_ROUNDS`, `BENCH_DURATION`, `BENCH_CONNECTIONS`. */
export const RUN = {
  rounds: Number(Deno.env.get("BENCH_ROUNDS") ?? 5),
  duration: Deno.env.get("BENCH_DURATION") ?? "4s",
  connections: Number(Deno.env.get("BENCH_CONNECTIONS") ?? 64),
};

/**
 * A started server with no samples yet.
 *
 * @param children count its child processes' CPU too @default false
 * @param routes what it is driven on @default ROUTES
 */
export function cpuServer(
  name: string,
  proc: Proc,
  base: string,
  children = false,
  routes: Routes = ROUTES,
): CpuServer {
  const samples = Object.fromEntries(Object.keys(routes).map((r) => [r, [] as Sample[]]));
  return { name, proc, base, children, routes, samples };
}

/**
 * Starts a server on a free port and waits until its first route answers 200.
 *
 * @param name its name in the table
 * @param make its command line (and environment) for a port
 * @param options `children`: count its child processes' CPU too; `routes`: what it is driven on
 * @returns the server, no samples yet
 */
export async function startCpuServer(
  name: string,
  make: (port: number) => { cmd: string[]; env?: Record<string, string> },
  options: { children?: boolean; routes?: Routes } = {},
): Promise<CpuServer> {
  const routes = options.routes ?? ROUTES;
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const first = Object.values(routes)[0].path;
  const proc = await startProc({ ...make(port), url: base + first, timeoutMs: 120_000 });
  return cpuServer(name, proc, base, options.children ?? false, routes);
}

async function sample(server: CpuServer, route: string): Promise<Sample> {
  const { path, script } = server.routes[route];
  const pid = server.proc.child.pid;
  const before = await cpuSeconds(pid, { children: server.children });
  const w = await wrk(server.base + path, {
    threads: 1,
    connections: RUN.connections,
    duration: RUN.duration,
    script,
  });
  const after = await cpuSeconds(pid, { children: server.children });
  if (w.errors + w.non2xx > 0) {
    throw new Error(`${server.name} ${route}: ${w.errors} errors, ${w.non2xx} non-2xx`);
  }
  return { cpuUs: ((after - before) * 1e6) / w.requests, rps: w.rps, p99ms: w.p99ms };
}

/**
 * Warms every server up, then runs {@link RUN}.rounds rounds, printing each round's CPU per
 * request to stderr.
 *
 * @param servers the servers, their samples filled in
 * @param short a server's name in the progress line
 */
export async function runRounds(
  servers: CpuServer[],
  short: (name: string) => string,
): Promise<void> {
  for (const s of servers) {
    for (const { path, script } of Object.values(s.routes)) {
      await wrk(s.base + path, {
        threads: 1,
        connections: RUN.connections,
        duration: "2s",
        script,
      });
    }
  }
  for (let r = 1; r <= RUN.rounds; r++) {
    for (const route of Object.keys(servers[0].routes)) {
      for (const s of r % 2 ? servers : [...servers].reverse()) {
        s.samples[route].push(await sample(s, route));
      }
    }
    console.error(
      `round ${r}/${RUN.rounds}: ` +
        servers.map((s) =>
          `${short(s.name)} ${
            Object.values(s.samples).map((xs) => xs.at(-1)!.cpuUs.toFixed(1)).join("/")
          } µs`
        ).join(", "),
    );
  }
}

/** The median of one figure of a server's samples on a route. */
export function med(s: CpuServer, route: string, k: keyof Sample): number {
  const xs = s.samples[route].map((x) => x[k]).sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)];
}

/** With `BENCH_JSON` set, writes every sample there. */
export function writeSamples(servers: CpuServer[]): void {
  const json = Deno.env.get("BENCH_JSON");
  if (!json) return;
  Deno.writeTextFileSync(
    json,
    JSON.stringify(servers.map((s) => ({ name: s.name, samples: s.samples })), null, 2),
  );
}
