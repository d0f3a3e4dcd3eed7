/**
 * Shared by the benchmark scripts: start a server process, wait until a URL answers, read its
 * RSS, stop it, and run wrk.
 *
 * @module
 */
import { join } from "node:path";
import { freePort, siphonCommand as launch, toolCommand } from "../harness/launch.ts";

export const ROOT = join(import.meta.dirname!, "..");

/** A started process. */
export interface Proc {
  child: Deno.ChildProcess;
  /** Milliseconds from spawn until `url` first answered 200. */
  readyMs: number;
  /** Lines written to stderr so far (with `countStderr`; else 0). */
  stderrLines(): number;
  stop(): Promise<void>;
}

/** Options for {@link startProc}. */
export interface StartOptions {
  cmd: string[];
  env?: Record<string, string>;
  /** Polled until it answers 200. */
  url: string;
  timeoutMs?: number;
  /** Read the server's stderr (and count its lines) instead of passing it through. */
  countStderr?: boolean;
  /** Where to run it. @default the repository root */
  cwd?: string;
}

/**
 * Spawns a command and polls `url` until it answers 200.
 *
 * @throws {Error} when it exits or does not answer in time
 */
export async function startProc(options: StartOptions): Promise<Proc> {
  const t0 = performance.now();
  const child = new Deno.Command(options.cmd[0], {
    args: options.cmd.slice(1),
    cwd: options.cwd ?? ROOT,
    env: options.env,
    stdin: "null",
    stdout: "null",
    stderr: options.countStderr ? "piped" : "inherit",
  }).spawn();
  let lines = 0;
  if (options.countStderr) {
    (async () => {
      for await (const chunk of child.stderr) {
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      }
    })();
  }
  let exited = false;
  child.status.then(() => exited = true);
  const deadline = Date.now() + (options.timeoutMs ?? 120000);
  while (true) {
    if (exited) throw new Error(`${options.cmd.join(" ")} exited before answering`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.url} did not answer in time`);
    }
    try {
      const res = await fetch(options.url, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (res.status === 200) break;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 20));
  }
  const readyMs = performance.now() - t0;
  return {
    child,
    readyMs,
    stderrLines: () => lines,
    stop: async () => {
      if (!exited) child.kill("SIGTERM");
      const timer = setTimeout(() => !exited && child.kill("SIGKILL"), 15000);
      await child.status;
      clearTimeout(timer);
    },
  };
}

export { cpuSeconds, peakGrowth, rssMiB } from "../harness/proc_stats.ts";

/** One wrk run's result. */
export interface WrkResult {
  rps: number;
  requests: number;
  non2xx: number;
  errors: number;
  p50ms: number;
  p99ms: number;
}

/**
 * Runs wrk against a URL (127.0.0.1 only) and parses its report.
 *
 * @param url target
 * @param options threads, connections, duration, optional Lua script
 * @returns parsed numbers
 */
export async function wrk(
  url: string,
  options: { threads: number; connections: number; duration: string; script?: string },
): Promise<WrkResult> {
  if (!new URL(url).hostname.startsWith("127.")) {
    throw new Error("benchmarks target 127.0.0.1 only");
  }
  const args = [
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.duration}`,
    "--latency",
    ...(options.script ? ["-s", options.script] : []),
    url,
  ];
  const out = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`wrk failed: ${new TextDecoder().decode(out.stderr)}`);
  const num = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  const ms = (re: RegExp) => {
    const m = re.exec(text);
    if (!m) return NaN;
    const v = Number(m[1]);
    return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
  };
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    errors: errors ? errors.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    p50ms: ms(/50%\s+([\d.]+)(us|ms|s)/),
    p99ms: ms(/99%\s+([\d.]+)(us|ms|s)/),
  };
}

/**
 * The command that runs siphon-deno the way `deno task serve` does (harness/launch.ts). Its
 * environment names a free port for the admin listener (`ADMIN_PORT`, which bench/app/http.yaml
 * reads), so servers side by side each have theirs.
 */
export function siphonCommand(config: string): { cmd: string[]; env: Record<string, string> } {
  const v8Flags = Deno.env.get("SIPHON_V8_FLAGS");
  const { cmd, args, env } = launch(["serve", "--config", config], v8Flags ? { v8Flags } : {});
  return { cmd: [cmd, ...args], env: { ...env, ADMIN_PORT: String(freePort()) } };
}

/**
 * Another deno program of this repository as one command line (harness/launch.ts's toolCommand).
 *
 * @returns executable and arguments
 */
export function toolArgs(...spec: Parameters<typeof toolCommand>): string[] {
  const { cmd, args } = toolCommand(...spec);
  return [cmd, ...args];
}

/**
 * The CPython peer: uvicorn (uvloop, httptools) serving bench/peers/starlette_app.py.
 *
 * @param port port to bind on 127.0.0.1
 * @param workers uvicorn worker processes
 * @returns the command line (PYTHON picks the interpreter; default Debian's /usr/bin/python3)
 */
export function uvicornCommand(port: number, workers: number): string[] {
  return [
    Deno.env.get("PYTHON") ?? "/usr/bin/python3",
    ...["-m", "uvicorn", "starlette_app:app", "--app-dir", "bench/peers", "--host", "127.0.0.1"],
    ...["--port", String(port), "--workers", String(workers), "--log-level", "warning"],
    ...["--no-access-log", "--loop", "uvloop", "--http", "httptools"],
  ];
}

/** What `deno task drive --json` reports, as far as the benchmarks read it. */
export interface DriveJson {
  rps: number;
  errors: number;
  latency_ms: { p50: number; p90: number; p99: number; p999: number; max: number };
}

/** Options for {@link driveJson}. */
export interface DriveJsonOptions {
  duration: string;
  connections: number;
  threads: number;
  /** Open loop: requests per second on a schedule (`--rate`). */
  rate?: number;
  method?: string;
  headers?: [string, string][];
  body?: string;
}

/**
 * Runs the load driver (harness/main.ts) as its own process and reads its `--json` summary.
 *
 * @param url target (127.0.0.1 only), with its query
 * @param options duration, connections, driver threads; open-loop rate; method, headers, body
 * @returns the parsed summary
 */
export async function driveJson(url: string, options: DriveJsonOptions): Promise<DriveJson> {
  const target = new URL(url);
  if (!target.hostname.startsWith("127.")) throw new Error("benchmarks target 127.0.0.1 only");
  const json = await Deno.makeTempFile({ suffix: ".json" });
  const body = options.body === undefined ? undefined : await Deno.makeTempFile();
  if (body) await Deno.writeTextFile(body, options.body!);
  const out = await new Deno.Command(Deno.execPath(), {
    args: toolCommand("drive", "harness/main.ts", [
      ...["--port", target.port, "--path", target.pathname + target.search],
      ...["--duration", options.duration, "--concurrency", String(options.connections)],
      ...["--threads", String(options.threads), "--json", json],
      // the benchmarks read the errors from the summary themselves
      ...["--max-errors", String(Number.MAX_SAFE_INTEGER)],
      ...options.rate ? ["--rate", String(Math.round(options.rate))] : [],
      ...options.method ? ["--method", options.method] : [],
      ...(options.headers ?? []).flatMap(([k, v]) => ["--header", `${k}: ${v}`]),
      ...body ? ["--body-file", body] : [],
    ]).args,
    cwd: ROOT,
    stdout: "null",
  }).output();
  if (!out.success) throw new Error("deno task drive failed");
  return JSON.parse(await Deno.readTextFile(json));
}

/**
 * The baseline: plain Deno.serve "ok" (bench/peers/plain.ts).
 *
 * @param port port to bind on 127.0.0.1
 * @param workers 0 for the main thread, N for N reusePort workers
 * @returns the command line
 */
export function plainCommand(port: number, workers = 0): string[] {
  return toolArgs("serve", "bench/peers/plain.ts", [String(port), String(workers)]);
}

/** A setting of bench/app/http.yaml to compare: its environment. */
export interface Variant {
  name: string;
  switches: Record<string, string>;
}

/** Options for {@link alternate}. */
export interface AlternateOptions {
  workers: number;
  variants: Variant[];
  rounds: number;
  /** Each wrk run, e.g. `4s`. */
  duration: string;
  connections: number;
  threads: number;
  /** The route to load. @default "/trivial" */
  path?: string;
}

/**
 * Starts one siphon-deno per variant side by side, then lets them take turns under wrk, so
 * drift on a shared box hits every variant alike.
 *
 * @returns per variant, the median req/s over the rounds
 */
export async function alternate(options: AlternateOptions): Promise<number[]> {
  const procs: Proc[] = [];
  const urls: string[] = [];
  const { variants } = options;
  const load = { threads: options.threads, connections: options.connections };
  try {
    for (const v of variants) {
      const port = freePort();
      const { cmd, env } = siphonCommand("bench/app/http.yaml");
      const url = `http://127.0.0.1:${port}${options.path ?? "/trivial"}`;
      procs.push(
        await startProc({
          cmd,
          env: { ...env, ...v.switches, PORT: String(port), WORKERS: String(options.workers) },
          url,
          countStderr: v.switches.ACCESS_LOG === "true",
        }),
      );
      urls.push(url);
      await wrk(url, { ...load, duration: "2s" }); // warm-up
    }
    const rps: number[][] = variants.map(() => []);
    for (let r = 0; r < options.rounds; r++) {
      for (let i = 0; i < variants.length; i++) {
        const w = await wrk(urls[i], { ...load, duration: options.duration });
        if (w.errors + w.non2xx > 0) throw new Error(`${variants[i].name}: ${w.errors} errors`);
        rps[i].push(w.rps);
      }
    }
    variants.forEach((v, i) => {
      const logged = procs[i].stderrLines() ? ` (${procs[i].stderrLines()} log lines read)` : "";
      console.error(
        `${options.workers} worker(s), ${v.name}: ${rps[i].map(Math.round).join(" ")} req/s` +
          logged,
      );
    });
    return rps.map((list) => list.sort((a, b) => a - b)[Math.floor(list.length / 2)]);
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
  }
}
