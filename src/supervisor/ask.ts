/**
 * The supervisor's request/answer exchange with worker threads: send each one a message and
 * wait for the answer of a given type, with a timeout. Each exchange has listeners of its own,
 * so several can overlap (a /metrics scrape while a reload waits for `prepared`).
 *
 * Boundary: supervisor-side; the messages are src/protocol.ts's.
 *
 * @module
 */
import type { FromWorker, ToWorker, WorkerControl } from "../protocol.ts";

/**
 * A worker thread the supervisor runs, and its private channel (./spawn.ts): what the worker
 * says arrives checked (src/protocol_check.ts); nothing else the thread posts is listened to.
 */
export interface Slot {
  id: number;
  worker: Worker;
  control: WorkerControl;
  /** Sends a message on the private channel. */
  send(message: ToWorker): void;
  /**
   * Hears the worker's checked messages.
   *
   * @param listener called with each
   * @returns stops hearing them
   */
  listen(listener: (message: FromWorker) => void): () => void;
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
        stop();
        s.worker.removeEventListener("error", onError);
      };
      const onMessage = (message: FromWorker) => {
        if (message.type === want) {
          cleanup();
          resolve(message);
        } else if (message.type.endsWith("_failed")) {
          cleanup();
          reject(new Error((message as { message: string }).message));
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
      const stop = s.listen(onMessage);
      s.worker.addEventListener("error", onError);
      options.send(s);
    })
  ));
}
