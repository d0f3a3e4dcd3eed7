/**
 * How a siphon-deno process is launched: deno's flags (a permission set from deno.json, never
 * `-A`; V8 flags) and environment (the glibc tunable). deno.json's `start`/`serve` tasks spell
 * out the same line, and tests/permissions_test.ts checks that they agree; tests and benchmarks
 * start servers only through {@link siphonCommand}, so what is tested is what users run.
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
