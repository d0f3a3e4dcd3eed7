/**
 * Moving workers to a config — the one way it is done, at boot, on reload, when a dead worker
 * is replaced and when a worker is recycled: every worker `prepare`s the new generation beside
 * the one it serves; only when all have it do they `commit`. A prepare that fails makes every
 * worker `abort` what it prepared, so the serving generation stays untouched.
 *
 * Boundary: supervisor-side; the messages are src/protocol.ts's, the worker's half is
 * workers/worker.ts.
 *
 * @module
 */
import type { Config } from "../config/load.ts";
import type { FromWorker, ToWorker } from "../protocol.ts";
import { mark } from "../startup.ts";
import { askWorkers, type Slot } from "./ask.ts";

/** Options for {@link advance}. */
export interface AdvanceOptions {
  slots: Slot[];
  config: Config;
  /** Give up on a worker that does not answer a step in this long. */
  timeoutMs: number;
}

/**
 * Prepares `config` on every slot, then commits it on every slot.
 *
 * @param options the workers, the config, the timeout per step
 * @returns each worker's `prepared` answer (how its interpreter started)
 * @throws {Error} with the worker's message when a prepare or a commit fails; after a failed
 *   prepare every worker was told to abort
 */
export async function advance(options: AdvanceOptions): Promise<FromWorker[]> {
  const { slots, config, timeoutMs } = options;
  const send = (message: ToWorker) => (s: Slot) => s.worker.postMessage(message);
  let prepared: FromWorker[];
  try {
    prepared = await askWorkers({
      slots,
      want: "prepared",
      send: send({ type: "prepare", config }),
      timeoutMs,
    });
  } catch (e) {
    await askWorkers({ slots, want: "aborted", send: send({ type: "abort" }), timeoutMs: 5000 })
      .catch(() => {});
    throw e;
  }
  mark("workers prepared");
  await askWorkers({ slots, want: "committed", send: send({ type: "commit" }), timeoutMs });
  mark("workers listening");
  return prepared;
}
