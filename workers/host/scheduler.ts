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
 * Boundary: worker-side; installed into Python by siphon._runtime.attach.
 *
 * @module
 */

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
