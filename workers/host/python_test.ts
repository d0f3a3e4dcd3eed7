/**
 * The interpreter as workers start it: restored from the snapshot, from the wasm compiled once
 * on the main thread, through the page-skipping restore — and its memory right after the
 * restore equals the snapshot's image, pages skipped included.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger } from "../../src/log.ts";
import { readSiphonPackage } from "../../src/pyodide/assets.ts";
import { preparePython } from "../../src/supervisor/snapshot.ts";
import { loadPython } from "./python.ts";

const CACHE_DIR = join(import.meta.dirname!, "..", "..", ".cache", "test-snapshots");

Deno.test("loadPython() restores the snapshot byte for byte, from the precompiled wasm", async () => {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", write: (line) => lines.push(line) });
  const start = await preparePython({ log, cacheDir: CACHE_DIR });
  assert.ok(start.snapshot, `no snapshot: ${lines.join("")}`);
  assert.ok(start.wasm instanceof WebAssembly.Module, "the wasm was compiled ahead");
  // Pyodide instantiates its wasm from bytes; every instantiation from bytes over 1 MB is a
  // compile of it.
  const compiledAgain: number[] = [];
  const instantiate = WebAssembly.instantiate;
  // deno-lint-ignore no-explicit-any
  (WebAssembly as any).instantiate = (source: any, imports?: WebAssembly.Imports) => {
    if (!(source instanceof WebAssembly.Module) && source.byteLength > 1 << 20) {
      compiledAgain.push(source.byteLength);
    }
    return instantiate(source, imports);
  };
  try {
    const python = await loadPython({
      files: await readSiphonPackage(),
      env: {},
      log,
      snapshot: start.snapshot,
      wasm: start.wasm,
      verifyRestore: true,
    });
    assert.equal(python.mode, "snapshot", lines.join(""));
    assert.equal(python.restore?.hooked, true);
    assert.ok(python.restore!.pagesWritten > 1000, `${python.restore!.pagesWritten} pages`);
    assert.equal(python.restore!.pagesDiffering, 0, "memory after the restore is the snapshot");
    assert.equal(python.py.runPython("sum(range(10))"), 45);
  } finally {
    WebAssembly.instantiate = instantiate;
  }
  assert.deepEqual(compiledAgain, [], "the worker compiled the wasm again");
});
