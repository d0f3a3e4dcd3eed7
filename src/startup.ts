/**
 * Startup marks: when each phase of a start ended, as epoch milliseconds (sub-millisecond), so
 * a process that spawned the server can line them up with its own clock. They are logged at
 * `debug` as `startup: PHASE at EPOCH_MS` — by the main thread (`[main]`) and each worker
 * (`[w1]` …) — once a logger exists; `bench:startup` reads them.
 *
 * @module
 */
import type { Logger } from "./log.ts";

const marks: [string, number][] = [];

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
  marks.push([phase, at]);
}

/**
 * Logs the marks noted so far at `debug` and forgets them.
 *
 * @param log the logger of this thread
 */
export function logMarks(log: Logger): void {
  for (const [phase, at] of marks.splice(0)) log.debug(`startup: ${phase} at ${at.toFixed(1)}`);
}
