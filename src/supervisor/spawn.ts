/**
 * Starts a request worker thread (workers/worker.ts) and tells it who it is: its number, the
 * Python snapshot, the shared memory the watchdog and the caches use, the environment.
 *
 * Boundary: supervisor-side; the serving supervisor and `check` start workers only through here.
 *
 * @module
 */
import { CHANNEL_BYTES } from "../cache/channel.ts";
import type { ToWorker } from "../protocol.ts";
import type { Slot } from "./ask.ts";

/** Options for {@link spawnWorker}. */
export interface SpawnOptions {
  /** 1…N; the thread is named `w<id>` and Python sees it as SIPHON_WORKER. */
  id: number;
  /** Memory snapshot bytes (shared), or null for a cold load. */
  snapshot: Uint8Array | null;
  /** What Python's os.environ holds. */
  env: Record<string, string>;
}

/**
 * Starts one worker.
 *
 * @param options id, snapshot, environment
 * @returns the worker with its shared control memory
 */
export function spawnWorker(options: SpawnOptions): Slot {
  const { id, snapshot, env } = options;
  const worker = new Worker(new URL("../../workers/worker.ts", import.meta.url), {
    type: "module",
    name: `w${id}`,
  });
  const control = {
    interrupt: new SharedArrayBuffer(8),
    clock: new SharedArrayBuffer(16),
    cache: new SharedArrayBuffer(CHANNEL_BYTES),
  };
  worker.postMessage({ type: "init", id, snapshot, control, env } satisfies ToWorker);
  return { id, worker, control };
}
