/**
 * Before/after in one run: with `BENCH_BASELINE=<checkout>` (e.g. a `git worktree` of an older
 * commit) a benchmark runs its own script in that checkout and in this one, round by round,
 * each as a process of its own, so both meet the same state of the box.
 *
 * @module
 */
import { ROOT } from "./_proc.ts";

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
