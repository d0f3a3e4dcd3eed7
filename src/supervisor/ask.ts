/**
 * The supervisor's request/answer exchange with worker threads: send each one a message and
 * wait for the answer of a given type, with a timeout. Each exchange has listeners of its own,
 * so several can overlap (a /metrics scrape while a reload waits for `prepared`).
 *
 * Boundary: supervisor-side; the messages are src/protocol.ts's.
 *
 * @module
 */
import type { FromWorker, WorkerControl } from "../protocol.ts";

/** A worker thread the supervisor runs. */
export interface Slot {
  id: number;
  worker: Worker;
  control: WorkerControl;
}

/** Options for {@link askWorkers}. */
export interface AskOptions {
  slots: Slot[];
  /** The answer to wait for; an answer whose type ends in `_failed` rejects. */
  want: FromWorker["type"];
  /** Sends the question to one slot. */
  send: (slot: Slot) => void;
  timeoutMs: number;
}

/**
 * Asks every slot and waits for all answers.
 *
 * @param options slots, the answer wanted, how to ask, timeout
 * @returns the answers, in slot order
 * @throws {Error} naming the worker, when one reports failure, crashes or stays silent
 */
export function askWorkers(options: AskOptions): Promise<FromWorker[]> {
  const { want, timeoutMs } = options;
  return Promise.all(options.slots.map((s) =>
    new Promise<FromWorker>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        s.worker.removeEventListener("message", onMessage);
        s.worker.removeEventListener("error", onError);
      };
      const onMessage = (e: MessageEvent<FromWorker>) => {
        if (e.data.type === want) {
          cleanup();
          resolve(e.data);
        } else if (e.data.type.endsWith("_failed")) {
          cleanup();
          reject(new Error((e.data as { message: string }).message));
        }
      };
      const onError = (e: ErrorEvent) => {
        e.preventDefault();
        cleanup();
        reject(new Error(`worker ${s.id} crashed: ${e.message}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`worker ${s.id} did not report "${want}" within ${timeoutMs} ms`));
      }, timeoutMs);
      s.worker.addEventListener("message", onMessage);
      s.worker.addEventListener("error", onError);
      options.send(s);
    })
  ));
}
