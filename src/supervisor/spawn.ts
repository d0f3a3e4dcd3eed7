/**
 * Starts a request worker thread (workers/worker.ts) and tells it who it is: its number, what
 * its interpreter starts from (snapshot, compiled wasm), the shared memory the watchdog and the
 * caches use, the environment. The thread starts loading its modules at once; it is told the
 * rest when that is ready, so the two overlap.
 *
 * Boundary: supervisor-side; the serving supervisor and `check` start workers only through here.
 *
 * @module
 */
import { CHANNEL_BYTES } from "../cache/channel.ts";
import type { ToWorker } from "../protocol.ts";
import type { Slot } from "./ask.ts";
import type { PythonStart } from "./snapshot.ts";

/** Options for {@link spawnWorker}. */
export interface SpawnOptions {
  /** 1…N; the thread is named `w<id>` and Python sees it as SIPHON_WORKER. */
  id: number;
  /** The snapshot and compiled wasm, or the promise of them: then await it before sending the
   * worker anything, so its init comes first. */
  python: PythonStart | Promise<PythonStart>;
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
  const { id, env } = options;
  const worker = new Worker(new URL("../../workers/worker.ts", import.meta.url), {
    type: "module",
    name: `w${id}`,
  });
  const control = {
    interrupt: new SharedArrayBuffer(8),
    clock: new SharedArrayBuffer(16),
    cache: new SharedArrayBuffer(CHANNEL_BYTES),
  };
  const init = ({ snapshot, wasm }: PythonStart) =>
    worker.postMessage({ type: "init", id, snapshot, wasm, control, env } satisfies ToWorker);
  // Known already (a replacement): at once, so it comes before the prepare that follows.
  if (options.python instanceof Promise) options.python.then(init);
  else init(options.python);
  return { id, worker, control };
}
