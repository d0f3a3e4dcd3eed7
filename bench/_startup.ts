/**
 * One timed start for bench/startup.ts: spawn a server, poll until it answers 200, keep the
 * startup marks it logged (`[thread] startup: PHASE at EPOCH_MS`), stop it.
 *
 * @module
 */
import { ROOT } from "./_proc.ts";
import { epochNow } from "../src/start/marks.ts";

/** One start. */
export interface StartSample {
  /** Spawn → first 200, ms. */
  readyMs: number;
  /** Startup marks as `[thread, phase, ms after spawn]`, in the order logged. */
  marks: [string, string, number][];
}

/** Options for {@link startOnce}. */
export interface StartOnce {
  cmd: string[];
  env: Record<string, string>;
  port: number;
  /** Polled on 127.0.0.1:port. */
  path: string;
  /** Where to run it. @default the repository root */
  cwd?: string;
}

const MARK = /\[(\w+)\] startup: (.+) at (\d+(?:\.\d+)?)/;

/**
 * Spawns the server, polls every 5 ms until `path` answers 200, then stops it (SIGTERM) and
 * reads its log to the end.
 *
 * @returns when it answered and the marks it logged
 * @throws {Error} when it exits first or does not answer in 120 s
 */
export async function startOnce(options: StartOnce): Promise<StartSample> {
  const url = `http://127.0.0.1:${options.port}${options.path}`;
  const spawned = epochNow();
  const child = new Deno.Command(options.cmd[0], {
    args: options.cmd.slice(1),
    cwd: options.cwd ?? ROOT,
    env: options.env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log = new Response(child.stderr).text();
  let exited = false;
  child.status.then(() => exited = true);
  let readyMs = NaN;
  try {
    const deadline = spawned + 120000;
    while (Number.isNaN(readyMs)) {
      if (exited) throw new Error(`${options.cmd.join(" ")} exited:\n${await log}`);
      if (epochNow() > deadline) throw new Error(`${url} did not answer in 120 s`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        await res.body?.cancel();
        if (res.status === 200) readyMs = epochNow() - spawned;
      } catch { /* not yet */ }
      if (Number.isNaN(readyMs)) await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    if (!exited) child.kill("SIGTERM");
    const timer = setTimeout(() => !exited && child.kill("SIGKILL"), 15000);
    await child.status;
    clearTimeout(timer);
  }
  const marks: [string, string, number][] = [];
  for (const line of (await log).split("\n")) {
    const m = MARK.exec(line);
    if (m) marks.push([m[1], m[2], Number(m[3]) - spawned]);
  }
  return { readyMs, marks };
}

/** A start's phases: `thread\tphase` → ms after spawn (workers as `worker` when alone). */
export type Phases = Map<string, number>;

/**
 * A sample's marks keyed by thread and phase, in time order, with the client's first 200.
 *
 * @param sample one start
 * @returns the phases
 */
export function phasesOf(sample: StartSample): Phases {
  const out: Phases = new Map();
  const marks = [...sample.marks, ["client", "first 200", sample.readyMs] as const];
  for (const [thread, phase, at] of [...marks].sort((a, b) => a[2] - b[2])) {
    out.set(`${thread}\t${phase}`, at);
  }
  return out;
}

/**
 * The median of a list (the mean of the middle two for an even length).
 *
 * @param values numbers
 * @returns the median, NaN for none
 */
export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
