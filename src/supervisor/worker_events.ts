/**
 * What the supervisor does with what a worker tells it, unasked: answer its memory-cache calls,
 * relay its pubsub messages to the others, log a failed mutual-TLS handshake, note a listener
 * down or back up, and have it replaced when it died, crashed or sent a message that does not
 * check out (src/protocol_check.ts) — or recycled when it asks. Answers to the supervisor's own
 * questions (`prepared`, `metrics` …) are read where they were asked (./ask.ts).
 *
 * Boundary: supervisor-side; the worker's half is workers/worker.ts.
 *
 * @module
 */
import { answer } from "../cache/channel.ts";
import type { Caches } from "../cache/caches.ts";
import type { Logger } from "../log.ts";
import type { Slot } from "./ask.ts";
import type { HandshakeLogs } from "./handshake_log.ts";
import type { Readiness } from "./readiness.ts";
import type { Spawned } from "./spawn.ts";

/** Where a worker's news goes. */
export interface WorkerEventsHost {
  caches: Caches;
  handshakes: HandshakeLogs;
  readiness: Readiness;
  log: Logger;
  /** The serving workers (a pubsub message goes to the others). */
  slots: () => Slot[];
  /** Whether this worker serves now (news of one that does not is old news). */
  serving: (slot: Slot) => boolean;
  /** Replace it (it died, crashed, or cannot be trusted). */
  replace: (id: number, cause: string) => void;
  /** Give it a fresh interpreter. */
  recycle: (slot: Slot, reason: string) => void;
}

/**
 * Listens to one worker for the rest of its life.
 *
 * @param slot the worker
 * @param host where its news goes
 */
export function followWorker(slot: Spawned, host: WorkerEventsHost): void {
  const { id, worker, control } = slot;
  slot.listen((msg) => {
    if (msg.type === "cache") {
      const { ok, json } = host.caches.run(msg.name, msg.call);
      answer(control.cache, ok, json);
    } else if (msg.type === "publish") {
      for (const s of host.slots()) {
        if (s !== slot) s.send({ ...msg, type: "published" });
      }
    } else if (msg.type === "handshake_failed") {
      host.handshakes.failed(msg.failure);
    } else if (msg.type === "listener") {
      host.readiness.listener(slot, msg.listen, msg.up);
    } else if (msg.type === "died" && host.serving(slot)) {
      host.replace(id, msg.cause);
    } else if (msg.type === "recycle" && host.serving(slot)) {
      host.recycle(slot, msg.reason);
    }
  });
  // A worker's Python can post on the thread's own channel, or break a message: such a worker
  // is replaced, and nothing it sent is acted on.
  slot.onInvalid = (why) => {
    if (!host.serving(slot)) return;
    host.log.error(`worker ${id}: ${why}`);
    host.replace(id, "it sent a message that does not check out");
  };
  worker.addEventListener("error", (e) => {
    e.preventDefault();
    if (host.serving(slot)) host.replace(id, `thread crashed: ${e.message}`);
  });
}
