/**
 * The request worker thread's program: locks the thread down, starts loading Pyodide's
 * modules, and waits for the supervisor's `init`, which hands over a private channel; every
 * later message comes on that channel to the one {@link ServingWorker} (./thread/serving.ts),
 * which holds all of this thread's state.
 *
 * Boundary: the supervisor only sends src/protocol.ts messages; a script can post on the
 * thread's own channel, never on the private one.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { ToWorker } from "../src/protocol.ts";
import { preloadPyodide } from "../src/snapshot/restore.ts";
import { mark } from "../src/start/marks.ts";
import { errorText } from "./base/error_text.ts";
import { lockDown } from "./thread/lockdown.ts";
import { ServingWorker } from "./thread/serving.ts";

lockDown(); // before any Python: see ./thread/lockdown.ts
mark("worker module loaded");
// What loading Pyodide imports, imported while this worker waits for its snapshot and wasm.
preloadPyodide();

self.onmessage = (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  if (msg.type !== "init") return;
  self.onmessage = null;
  const worker = new ServingWorker(msg);
  msg.port.onmessage = (e: MessageEvent<ToWorker>) => worker.handle(e.data);
  // A Python exception escaping an asyncio callback must not kill the worker.
  self.addEventListener("error", (e) => {
    e.preventDefault();
    worker.uncaught(`uncaught error in worker: ${e.message}`);
  });
  self.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    worker.uncaught(`unhandled rejection in worker: ${errorText(e.reason)}`);
  });
};
