/**
 * Starts a request worker thread (workers/worker.ts) and tells it who it is: its number, what
 * its interpreter starts from (snapshot, compiled wasm), the shared memory the watchdog and the
 * caches use, the environment. The thread starts loading its modules at once; it is told the
 * rest when that is ready, so the two overlap.
 *
 * Everything after that goes over a private channel: a MessagePort handed over in the first
 * message, which the worker keeps where Python cannot reach it. Each message that arrives on it
 * is checked (src/protocol_check.ts); one that fails, or anything the thread posts on its own
 * global channel (which only the user's Python could do once the worker started), is reported
 * to `onInvalid` — the supervisor replaces such a worker.
 *
 * Boundary: supervisor-side; the serving supervisor and `check` start workers only through here.
 *
 * @module
 */
import { CHANNEL_BYTES } from "../cache/channel.ts";
import type { FromWorker, ToWorker } from "../protocol.ts";
import { checkFromWorker } from "../protocol_check.ts";
import type { WorkerPermissions } from "./permissions.ts";
import type { Slot } from "./ask.ts";
import type { PythonStart } from "../snapshot/build.ts";

/** Options for {@link spawnWorker}. */
export interface SpawnOptions {
  /** 1…N; the thread is named `w<id>` and Python sees it as SIPHON_WORKER. */
  id: number;
  /** The snapshot and compiled wasm, or the promise of them: then await it before sending the
   * worker anything, so its init comes first. */
  python: PythonStart | Promise<PythonStart>;
  /** The thread's Deno permissions (./permissions.ts). */
  permissions: WorkerPermissions;
}

/** A started worker: its {@link Slot}, and where a message that did not check out is reported. */
export type Spawned = Slot & {
  /** Called with why, for each message refused. */
  onInvalid: (why: string) => void;
};

/**
 * Starts one worker.
 *
 * @param options id, snapshot, permissions
 * @returns the worker with its shared control memory and private channel
 */
export function spawnWorker(options: SpawnOptions): Spawned {
  const { id, permissions } = options;
  const worker = new Worker(new URL("../../workers/worker.ts", import.meta.url), {
    type: "module",
    name: `w${id}`,
    deno: { permissions },
  } as WorkerOptions);
  const control = {
    interrupt: new SharedArrayBuffer(8),
    clock: new SharedArrayBuffer(32),
    cache: new SharedArrayBuffer(CHANNEL_BYTES),
  };
  const { port1, port2 } = new MessageChannel();
  const listeners = new Set<(message: FromWorker) => void>();
  const slot: Spawned = {
    id,
    worker,
    control,
    send: (message) => port1.postMessage(message),
    listen(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onInvalid: () => {},
  };
  port1.onmessage = (e: MessageEvent<unknown>) => {
    const checked = checkFromWorker(e.data, id);
    if (!checked.ok) {
      return slot.onInvalid(`it sent a message that does not check out: ${checked.why}`);
    }
    for (const listener of [...listeners]) listener(checked.message);
  };
  worker.onmessage = (e: MessageEvent<unknown>) => {
    const type = (e.data as { type?: unknown } | null)?.type;
    slot.onInvalid(
      `it posted ${typeof type === "string" ? `a "${type.slice(0, 64)}" message` : "a message"} ` +
        "on its thread's own channel, which only its Python could do",
    );
  };
  const init = ({ snapshot, wasm }: PythonStart) =>
    worker.postMessage(
      { type: "init", id, snapshot, wasm, control, port: port2 } satisfies ToWorker,
      [port2],
    );
  // Known already (a replacement): at once, so it comes before the prepare that follows.
  if (options.python instanceof Promise) options.python.then(init);
  else init(options.python);
  return slot;
}
