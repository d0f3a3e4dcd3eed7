/**
 * Test helpers that start the real server (`main.ts serve`) as a child process on free
 * 127.0.0.1 ports, wait for it to say it is serving, and stop it.
 *
 * @module
 */
import { join } from "node:path";

export const ROOT = join(import.meta.dirname!, "..");
/** Shared snapshot cache for the test run, inside the repo (git-ignored). */
export const CACHE_DIR = join(ROOT, ".cache", "test-snapshots");

/** A port that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A running server process. */
export interface Server {
  /** The server's process id. */
  pid: number;
  /** Everything the server wrote to stderr so far. */
  logs(): string;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<{ code: number; logs: string }>;
}

/** Options for {@link startServer} and {@link runToExit}. */
export interface RunOptions {
  config: string;
  env?: Record<string, string>;
  /** Wait this long for "serving". @default 120000 */
  readyTimeoutMs?: number;
  command?: "serve" | "check";
  /** More command-line arguments, e.g. `["--log-format", "json"]`. */
  args?: string[];
  /** Launch as `deno task serve` does (V8 flags, glibc tunable), for memory measurements. */
  asTask?: boolean;
}

function spawn(options: RunOptions) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...options.asTask ? ["--v8-flags=--expose-gc,--max-semi-space-size=4"] : [],
      "main.ts",
      options.command ?? "serve",
      "--config",
      options.config,
      ...options.args ?? [],
    ],
    cwd: ROOT,
    env: {
      SIPHON_CACHE_DIR: CACHE_DIR,
      ...options.asTask ? { GLIBC_TUNABLES: "glibc.malloc.mmap_threshold=131072" } : {},
      ...options.env,
    },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function collect(stream: ReadableStream<Uint8Array>, sink: { text: string }) {
  const decoder = new TextDecoder();
  for await (const chunk of stream) sink.text += decoder.decode(chunk, { stream: true });
}

/**
 * Starts the server and resolves once it logs that it is serving.
 *
 * @throws {Error} with the server's output when it exits or does not get ready in time
 */
export async function startServer(options: RunOptions): Promise<Server> {
  const child = spawn(options);
  const err = { text: "" };
  const out = { text: "" };
  const pumps = Promise.all([collect(child.stderr, err), collect(child.stdout, out)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const deadline = Date.now() + (options.readyTimeoutMs ?? 120000);
  while (!/\] serving |"msg":"serving /.test(err.text)) {
    if (exited || Date.now() > deadline) {
      if (!exited) child.kill("SIGKILL");
      await status;
      await pumps;
      throw new Error(`server did not start:\n${err.text}${out.text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid,
    logs: () => err.text,
    stop: async () => {
      if (!exited) child.kill("SIGTERM");
      const s = await status;
      await pumps;
      return { code: s.code, logs: err.text };
    },
  };
}

/**
 * Runs the CLI to completion (for configs that must be refused).
 *
 * @returns exit code and stderr+stdout
 */
export async function runToExit(options: RunOptions): Promise<{ code: number; output: string }> {
  const child = spawn(options);
  const timer = setTimeout(() => child.kill("SIGKILL"), options.readyTimeoutMs ?? 120000);
  const result = await child.output();
  clearTimeout(timer);
  const d = new TextDecoder();
  return { code: result.code, output: d.decode(result.stderr) + d.decode(result.stdout) };
}

/**
 * A request on a connection of its own (no keep-alive), so the kernel may hand it to any
 * worker.
 *
 * @returns status, body text and headers
 */
export async function fresh(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; text: string; headers: Headers }> {
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  try {
    const res = await fetch(url, { ...init, client });
    return { status: res.status, text: await res.text(), headers: res.headers };
  } finally {
    client.close();
  }
}

/**
 * Resident memory of a process, from /proc.
 *
 * @param pid process id
 * @returns MiB
 */
export function rssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+)/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))?.[1];
  return Number(kb) / 1024;
}
