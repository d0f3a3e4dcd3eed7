/**
 * Builds a Pyodide memory snapshot with the siphon package and common stdlib modules imported,
 * then exits. Run by the supervisor when its cache has no snapshot for this Pyodide + package.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { createLogger } from "../src/log.ts";
import type { FromSnapshotBuilder, ToSnapshotBuilder } from "../src/protocol.ts";
import { readSiphonPackage } from "../src/pyodide/assets.ts";
import { loadPython } from "./host/python.ts";

self.onmessage = async (event: MessageEvent<ToSnapshotBuilder>) => {
  if (event.data.type !== "build") return;
  const post = (msg: FromSnapshotBuilder, transfer: Transferable[] = []) =>
    self.postMessage(msg, transfer);
  try {
    const t0 = performance.now();
    const { py } = await loadPython({
      files: await readSiphonPackage(),
      env: {},
      log: createLogger({ source: "snapshot" }),
      makeSnapshot: true,
      wasm: event.data.wasm,
    });
    const bytes = py.makeMemorySnapshot();
    post({ type: "snapshot", bytes, ms: performance.now() - t0 }, [bytes.buffer as ArrayBuffer]);
  } catch (e) {
    post({ type: "fatal", message: (e as Error).message });
  }
};
