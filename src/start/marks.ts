/**
 * Startup marks: when each phase of a start ended, as epoch milliseconds (sub-millisecond), so
 * a process that spawned the server can line them up with its own clock. They are logged at
 * `debug` as `startup: PHASE at EPOCH_MS` — by the main thread (`[main]`) and each worker
 * (`[w1]` …) — once a logger exists; `bench:startup` reads them.
 *
 * @module
 */
import type { Logger } from "../log.ts";

const marks: [string, number][] = [];
/** Off once a thread's start has been logged for good (the supervisor's: see {@link logMarks}). */
let marking = true;

/**
 * The time now as epoch milliseconds, to a fraction of one (on the main thread and in workers
 * alike: each has its own `performance.timeOrigin`).
 *
 * @returns epoch ms
 */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Notes that a phase ended now (or at `at`).
 *
 * @param phase what ended, like `snapshot restored`
 * @param at epoch ms @default now
 */
export function mark(phase: string, at = epochNow()): void {
  if (marking) marks.push([phase, at]);
}

/**
 * Logs the marks noted so far at `debug` and forgets them. A worker logs them after every
 * generation it builds; the supervisor once, when it serves — with `last`, so the reloads and
 * recycles of a long-running process do not pile up marks that nobody logs.
 *
 * @param log the logger of this thread
 * @param options `last`: this thread notes no more marks
 */
export function logMarks(log: Logger, options: { last?: boolean } = {}): void {
  for (const [phase, at] of marks.splice(0)) log.debug(`startup: ${phase} at ${at.toFixed(1)}`);
  if (options.last) marking = false;
}
