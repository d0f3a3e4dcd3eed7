/**
 * The event-loop scheduler for Python's asyncio (Pyodide's WebLoop) in a worker.
 *
 * Pyodide schedules every `call_soon` with `setTimeout(fn, 0)` when it runs in Deno (its
 * MessageChannel path is switched off for Deno). Timers that schedule timers are clamped to
 * 4 ms from the fifth level on, so a chain of ready callbacks — an upload read chunk by chunk
 * while the data is already there, or an async handler awaiting in a loop — crawls at one step
 * per 4 ms (a 200 MiB streamed upload ran at 17 MiB/s). A MessageChannel message is a task
 * too, so I/O still interleaves, but it is never clamped.
 *
 * Boundary: worker-side; installed into Python by siphon._runtime.start (workers/bridge/contract.ts `attach`).
 *
 * @module
 */
import type { DeadlineClock } from "../base/deadlines.ts";

/**
 * Makes a scheduler with Pyodide's `scheduleCallback(callback, delayMs)` signature: no delay
 * (up to 2 ms, as Pyodide's own fast path) goes through a MessageChannel, longer ones through
 * setTimeout.
 *
 * @returns the scheduler
 * @example
 * ```ts
 * const schedule = fastScheduler();
 * schedule(() => console.log("next task"), 0);
 * ```
 */
export function fastScheduler(): (callback: () => void, delayMs?: number) => void {
  const channel = new MessageChannel();
  const ready: (() => void)[] = [];
  channel.port1.onmessage = () => ready.shift()?.();
  return (callback, delayMs = 0) => {
    if (delayMs > 2) {
      setTimeout(callback, delayMs);
      return;
    }
    ready.push(callback);
    channel.port2.postMessage(0);
  };
}

/**
 * The same scheduler, each callback run under a deadline: asyncio's steps outside a request —
 * a WebSocket handler between messages, a background task — that block the event loop past
 * `limitMs` are interrupted by the watchdog (KeyboardInterrupt) as an overrunning request is.
 * (A step inside a request is under that request's own deadline too; the earliest wins.)
 *
 * @param schedule the scheduler to wrap
 * @param bound the worker's deadline clock and interrupt flag (cleared before each step: a
 *   stale interrupt must not land in the next one), the longest one step may block, and
 *   whether the generation serves yet (`on_startup`, before it does, is unbounded, as at boot)
 * @returns the scheduler
 */
export function underDeadline(
  schedule: (callback: () => void, delayMs?: number) => void,
  bound: StepBound,
): (callback: () => void, delayMs?: number) => void {
  const { clock, interrupt, limitMs, serving } = bound;
  return (callback, delayMs) =>
    schedule(() => {
      if (!serving()) return callback();
      interrupt[0] = 0;
      const token = clock.begin(Date.now() + limitMs);
      try {
        callback();
      } finally {
        clock.end(token);
      }
    }, delayMs);
}

/** What bounds an asyncio step outside a request ({@link underDeadline}). */
export interface StepBound {
  clock: DeadlineClock;
  interrupt: Int32Array;
  limitMs: number;
  serving: () => boolean;
}
