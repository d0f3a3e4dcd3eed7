/**
 * An interpreter on its way: a worker starts loading Pyodide (from its snapshot, or cold) before
 * it knows what it will serve, and the log lines of that load wait for the generation's logger.
 *
 * Boundary: worker-side; the serving worker (./serving.ts) takes one per generation.
 *
 * @module
 */
import { createHeldLogger, type HeldLogger } from "../../src/log.ts";
import type { ToWorker } from "../../src/protocol.ts";
import { readSiphonPackage } from "../../src/pyodide/assets.ts";
import type { SnapshotFile } from "../../src/snapshot/file.ts";
import { loadPython } from "../../src/snapshot/restore.ts";
import { mark } from "../../src/start/marks.ts";

/** An interpreter on its way, and the logger its load (and later its stdout) writes to. */
export interface PythonStart {
  python: ReturnType<typeof loadPython>;
  log: HeldLogger;
  snapshot: SnapshotFile | null;
}

/**
 * Starts loading an interpreter; its lines wait for the generation's log.
 *
 * @param init the worker's first message (the wasm module it was handed)
 * @param snapshot the snapshot to restore, or null for a cold start
 * @returns the load on its way
 */
export function startPython(
  init: Extract<ToWorker, { type: "init" }>,
  snapshot: SnapshotFile | null,
): PythonStart {
  const log = createHeldLogger();
  const python = readSiphonPackage().then((files) =>
    loadPython({ files, env: {}, log, snapshot, wasm: init.wasm })
  ).then((loaded) => {
    mark(loaded.mode === "snapshot" ? "python restored from the snapshot" : "python loaded cold");
    return loaded;
  });
  python.catch(() => {}); // awaited (and reported) by the prepare that takes it
  return { python, log, snapshot };
}
