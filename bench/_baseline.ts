/**
 * Before/after in one run: with `BENCH_BASELINE=<checkout>` (e.g. a `git worktree` of an older
 * commit) a benchmark runs its own script in that checkout and in this one, round by round,
 * each as a process of its own, so both meet the same state of the box.
 *
 * @module
 */
import { ROOT } from "./_proc.ts";
import { freePort } from "../harness/launch.ts";

/** The older checkout to compare with, when given. */
export const BASELINE: string | undefined = Deno.env.get("BENCH_BASELINE");

/**
 * Runs `script` of the checkout at `dir` (under that checkout's `measure` permission set).
 *
 * @param dir the checkout
 * @param script path inside it, e.g. `bench/reload.ts`
 * @param env added to the environment (BENCH_BASELINE is removed)
 * @returns what it printed on stdout
 * @throws {Error} with its stderr when it fails
 */
export async function runIn(
  dir: string,
  script: string,
  env: Record<string, string>,
): Promise<string> {
  const environment = { ...Deno.env.toObject(), ...env };
  delete environment.BENCH_BASELINE;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-q", "-P=measure", script],
    cwd: dir,
    env: environment,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${dir}/${script} failed:\n${new TextDecoder().decode(out.stderr)}${text}`);
  }
  return text;
}

/** The two checkouts, the older first. */
export function checkouts(): { name: string; dir: string }[] {
  return [{ name: "before (BENCH_BASELINE)", dir: BASELINE! }, {
    name: "this checkout",
    dir: ROOT,
  }];
}

/**
 * The command that serves bench/app/http.yaml from the baseline checkout, as its code ran then:
 * an older checkout may predate the permission sets, so it runs with `-A`, and it reads its own
 * bench/app/http.yaml.
 *
 * @param env the server's environment (PORT, WORKERS …); its admin port is made its own
 * @param v8Flags the V8 flags this checkout's server runs with
 * @returns command line, folder and environment for `startProc`
 */
export function baselineServer(
  env: Record<string, string>,
  v8Flags: string,
): { cmd: string[]; cwd: string; env: Record<string, string> } {
  return {
    cmd: [
      Deno.execPath(),
      "run",
      "-A",
      v8Flags,
      "main.ts",
      "serve",
      "--config",
      "bench/app/http.yaml",
    ],
    cwd: BASELINE!,
    env: {
      ...env,
      ADMIN_PORT: String(freePort()), // its own: the server beside it holds env's
      INIT_CWD: BASELINE!, // its own bench/app/http.yaml, as its code reads it
    },
  };
}
