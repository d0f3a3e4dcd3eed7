/**
 * Ending workers gracefully — at shutdown, and for the old workers when new ones took over a
 * reload: each stops accepting, closes its WebSockets (1001), lets its requests in flight finish
 * within the grace period, runs the `on_shutdown` hooks if it is the one asked to, and reports
 * `stopped`; then its thread ends.
 *
 * Boundary: supervisor-side; the worker's half is workers/worker.ts `stop`.
 *
 * @module
 */
import { askWorkers, type Slot } from "./ask.ts";

/**
 * Drains `slots` and ends their threads.
 *
 * @param slots the workers
 * @param options `graceMs` for requests in flight; `hooks`: the worker that runs `on_shutdown`
 *   (null: none); `onLate`: told when a worker did not report in time (it is ended anyway)
 */
export async function drain(
  slots: Slot[],
  options: { graceMs: number; hooks: Slot | null; onLate?: (e: Error) => void },
): Promise<void> {
  const { graceMs, hooks } = options;
  await askWorkers({
    slots,
    want: "stopped",
    send: (s) => s.send({ type: "stop", graceMs, runShutdownHooks: s === hooks }),
    timeoutMs: graceMs + 5000,
  }).catch((e) => options.onLate?.(e));
  for (const s of slots) s.worker.terminate();
}
