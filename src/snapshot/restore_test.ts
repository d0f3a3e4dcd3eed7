/**
 * The interpreter as workers start it: restored from the snapshot, from the wasm compiled once
 * on the main thread, through the page-skipping restore — and its memory right after the
 * restore equals the snapshot's image, pages skipped included.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createLogger } from "../log.ts";
import { readSiphonPackage } from "../pyodide/assets.ts";
import { preparePython } from "./build.ts";
import { instantiateFrom, loadPython } from "./restore.ts";

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

Deno.test("loadPython(): overlapping loads leave WebAssembly.instantiate as it was", async () => {
  const log = createLogger({ level: "error" });
  const start = await preparePython({ log, cacheDir: CACHE_DIR });
  const original = WebAssembly.instantiate;
  const files = await readSiphonPackage();
  const load = () =>
    loadPython({ files, env: {}, log, snapshot: start.snapshot, wasm: start.wasm });
  // A worker that drops its head start's interpreter loads another while that one finishes.
  const [a, b] = await Promise.all([load(), load()]);
  assert.equal(WebAssembly.instantiate, original);
  assert.deepEqual([a.mode, b.mode], ["snapshot", "snapshot"]);
  assert.equal(a.py.runPython("1 + 1") + b.py.runPython("2 + 2"), 6);
});

Deno.test("instantiateFrom(): the patch goes when the last overlapping load is done, in any order", () => {
  const original = WebAssembly.instantiate;
  const module = new WebAssembly.Module(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]));
  for (const order of [[0, 1], [1, 0]]) {
    const done = [instantiateFrom(module), instantiateFrom(module)];
    assert.notEqual(WebAssembly.instantiate, original);
    done[order[0]]();
    assert.notEqual(WebAssembly.instantiate, original, "the other load still needs it");
    done[order[1]]();
    assert.equal(WebAssembly.instantiate, original, `order ${order}`);
  }
});
