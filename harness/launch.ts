/**
 * How tests and benchmarks launch siphon-deno, in one module: deno's flags (a permission set from
 * deno.json, never `-A`; V8 flags) and environment (the glibc tunable), and the helpers that start
 * the real server (`main.ts serve`, launched as `deno task serve` does) as a child process on
 * free 127.0.0.1 ports, wait for events it logs, and stop it. deno.json's `start`/`serve` tasks
 * spell out the same line, and tests/repo/permissions_test.ts checks that they agree; tests and
 * benchmarks start servers only through {@link siphonCommand}, so what is tested is what users run.
 *
 * The `serve` set grants read, write, net and env — never `run` or `ffi`: even code that escaped
 * the Python sandbox cannot start a process.
 *
 * @module
 */
import { join } from "node:path";

/** The repository root (where deno.json and main.ts are). */
export const ROOT: string = join(import.meta.dirname!, "..");

/** `deno run` flags of the server: quiet (no experimental-feature notice in the log), least privilege. */
export const SERVE_FLAGS: readonly string[] = ["-q", "-P=serve"];

/** V8 flags of the server: `gc()` for memory hygiene, a small young generation. */
export const V8_FLAGS = "--v8-flags=--expose-gc,--max-semi-space-size=4";

/** The environment the server starts with: glibc gives freed large buffers back
 * (docs/internals.md, "Memory"). */
export const SERVE_ENV: Readonly<Record<string, string>> = {
  GLIBC_TUNABLES: "glibc.malloc.mmap_threshold=131072",
};

/** A command line to spawn. */
export interface Launch {
  /** The executable (this deno). */
  cmd: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * The command that runs `main.ts` as `deno task serve` does.
 *
 * @param args siphon-deno's own arguments, e.g. `["serve", "--config", "http.yaml"]`
 * @param options `v8Flags` replaces {@link V8_FLAGS} (benchmarks compare settings)
 * @returns executable, arguments and environment (add your own to `env`)
 */
export function siphonCommand(args: string[], options: { v8Flags?: string } = {}): Launch {
  return {
    cmd: Deno.execPath(),
    args: ["run", ...SERVE_FLAGS, options.v8Flags ?? V8_FLAGS, join(ROOT, "main.ts"), ...args],
    // Relative paths on the command line are the user's (deno task passes INIT_CWD); spawned
    // from here they are the repository's, whatever folder the test run started in.
    env: { ...SERVE_ENV, INIT_CWD: ROOT },
  };
}

/**
 * The command that runs another deno program of this repository under a named permission set
 * of deno.json (the load driver: `drive`; a peer server: `serve`).
 *
 * @param set the permission set
 * @param script path relative to the repository root
 * @param args the program's arguments
 * @returns executable, arguments and environment
 */
export function toolCommand(set: "drive" | "serve", script: string, args: string[]): Launch {
  return {
    cmd: Deno.execPath(),
    args: ["run", "-q", `-P=${set}`, join(ROOT, script), ...args],
    env: {},
  };
}

/** Shared snapshot cache for the test run, inside the repo (git-ignored). */
export const CACHE_DIR = join(ROOT, ".cache", "test-snapshots");

/** A port that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** How long a test waits for an event before it calls the run hung (not a performance bound). */
export const PATIENCE_MS = 90_000;

/**
 * Polls `check` until it holds. Tests wait for events (a log line, a status, a file) this way,
 * never for a fixed time: the deadline only guards against hanging, so it is generous.
 *
 * @param check the event, as a condition (sync or async; a throw counts as "not yet")
 * @param what what was awaited, for the error
 * @param context more to show when it never happened (e.g. the server's log)
 * @param timeoutMs @default PATIENCE_MS
 * @throws {Error} naming `what`, with `context`, when the deadline passes
 */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  context: () => string = () => "",
  timeoutMs = PATIENCE_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await Promise.resolve().then(check).catch(() => false))) {
    if (Date.now() > deadline) {
      const more = context();
      throw new Error(`${what}: not seen within ${timeoutMs / 1000} s${more ? `\n${more}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A running server process. */
export interface Server {
  /** The server's process id. */
  pid: number;
  /** Everything the server wrote to stderr so far. */
  logs(): string;
  /**
   * Waits until the log matches `pattern` (at least `count` times).
   *
   * @returns the last match
   * @throws {Error} with the whole log when it never does
   */
  waitForLog(pattern: RegExp, count?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then wait for exit. */
  stop(): Promise<{ code: number; logs: string }>;
}

/** Options for {@link startServer} and {@link runToExit}. */
export interface RunOptions {
  config: string;
  env?: Record<string, string>;
  /** Wait this long for "serving". @default PATIENCE_MS */
  readyTimeoutMs?: number;
  command?: "serve" | "check";
  /** The log line that means "started". @default the "serving" line */
  readyPattern?: RegExp;
  /** More command-line arguments, e.g. `["--log-format", "json"]`. */
  args?: string[];
  /** The folder the command runs from, as `deno task` from there. @default ROOT */
  cwd?: string;
  /** Start it under `ulimit -n` of this many descriptors. @default the test's own limit */
  fileLimit?: number;
}

function spawn(options: RunOptions) {
  const { cmd, args, env } = siphonCommand([
    options.command ?? "serve",
    "--config",
    options.config,
    ...options.args ?? [],
  ]);
  const cwd = options.cwd ?? ROOT;
  const limited = options.fileLimit
    ? ["-c", `ulimit -n ${options.fileLimit} && exec "$0" "$@"`, cmd, ...args]
    : null;
  return new Deno.Command(limited ? "sh" : cmd, {
    args: limited ?? args,
    cwd,
    // ADMIN_PORT: a free port for configs that read it (every example does), unless the test
    // names its own.
    env: {
      ...env,
      INIT_CWD: cwd,
      SIPHON_CACHE_DIR: CACHE_DIR,
      ADMIN_PORT: String(freePort()),
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
  const deadline = Date.now() + (options.readyTimeoutMs ?? PATIENCE_MS);
  const ready = options.readyPattern ?? /\] serving |"msg":"serving /;
  while (!ready.test(err.text)) {
    if (exited || Date.now() > deadline) {
      const why = exited ? "it exited" : `no ${ready} line within ${PATIENCE_MS / 1000} s`;
      if (!exited) child.kill("SIGKILL");
      const { code } = await status;
      await pumps;
      throw new Error(`server did not start (${why}; exit code ${code}):\n${err.text}${out.text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const logs = () => err.text;
  return {
    pid: child.pid,
    logs,
    waitForLog: async (pattern, count = 1) => {
      const all = new RegExp(pattern.source, pattern.flags.replace("g", "") + "g");
      const matches = () => [...logs().matchAll(all)];
      await waitFor(
        () => matches().length >= count,
        `${count} × ${pattern} in the server log`,
        () => `server log:\n${logs()}`,
      );
      return matches().at(-1)!;
    },
    stop: async () => {
      if (!exited) child.kill("SIGTERM");
      // A server that never exits is killed, so a hang fails the test instead of the run.
      const guard = setTimeout(() => child.kill("SIGKILL"), PATIENCE_MS);
      const s = await status;
      clearTimeout(guard);
      await pumps;
      return { code: s.code, logs: err.text };
    },
  };
}

/** What a CLI run printed, and its exit code. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs any CLI command to completion as `deno task` runs it from `folder` (INIT_CWD), with the
 * tests' snapshot cache.
 *
 * @param args siphon-deno's arguments, e.g. `["test", "examples"]`
 * @param folder where the user runs it @default ROOT
 * @returns exit code, stdout and stderr
 */
export async function runCli(args: string[], folder: string = ROOT): Promise<CliRun> {
  const launch = siphonCommand(args);
  const result = await new Deno.Command(launch.cmd, {
    args: launch.args,
    cwd: folder,
    env: { ...launch.env, INIT_CWD: folder, SIPHON_CACHE_DIR: CACHE_DIR },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: result.code, out: d.decode(result.stdout), err: d.decode(result.stderr) };
}

/**
 * `deno task …` exactly as a user types it in `cwd` (deno task sets INIT_CWD to it; the test's
 * own INIT_CWD is removed), with the tests' snapshot cache.
 *
 * @param cwd the user's folder
 * @param args the task and its arguments, e.g. `["check", "http.yaml"]`
 * @returns exit code, stdout and stderr (`-q`: without deno task's own "Task …" line)
 */
export async function runTask(cwd: string, ...args: string[]): Promise<CliRun> {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "--config", join(ROOT, "deno.json"), ...args],
    cwd,
    env: { ...env, SIPHON_CACHE_DIR: CACHE_DIR },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, out: d.decode(out.stdout), err: d.decode(out.stderr) };
}

/**
 * Runs the CLI to completion (for configs that must be refused).
 *
 * @returns exit code and stderr+stdout
 */
export async function runToExit(options: RunOptions): Promise<{ code: number; output: string }> {
  const child = spawn(options);
  const timer = setTimeout(() => child.kill("SIGKILL"), options.readyTimeoutMs ?? PATIENCE_MS);
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
