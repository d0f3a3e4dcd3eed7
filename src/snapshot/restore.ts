/**
 * Starting one Pyodide interpreter inside a worker: from a memory snapshot when one is given
 * (about 0.15–0.6 s), otherwise cold (about 2–6 s), then the siphon package written to its file
 * system and the retained load buffers dropped.
 *
 * Boundary: worker-side; knows nothing about requests or the user's script.
 *
 * @module
 */
import { loadPyodide, type PyodideAPI } from "pyodide";
import {
  type PackageFile,
  PRELOAD_MODULES,
  PYODIDE_DIR,
  SIPHON_PYTHON_ROOT,
} from "../pyodide/assets.ts";
import type { Logger } from "../log.ts";
import { ASM_URL, type RestoreReport, standIn, wrapCreateModule } from "./sparse_restore.ts";
import type { SnapshotFile } from "./file.ts";
import { mark } from "../start/marks.ts";

/** Options for {@link loadPython}. */
export interface LoadOptions {
  /** The siphon package to install. */
  files: readonly PackageFile[];
  /** Environment the interpreter starts with. */
  env: Record<string, string>;
  /** Where Python's stdout/stderr lines and warnings go. */
  log: Logger;
  /** Restore from this snapshot file; null for a cold load. */
  snapshot?: SnapshotFile | null;
  /** Prepare for `makeMemorySnapshot()` (snapshot builder only). */
  makeSnapshot?: boolean;
  /** Pyodide's wasm compiled already (by the supervisor, once for every worker). */
  wasm?: WebAssembly.Module | null;
  /** Compare memory with the snapshot right after the restore (tests; reads every page). */
  verifyRestore?: boolean;
}

/**
 * Starts importing what {@link loadPython} will: Pyodide's Emscripten module and the Node
 * modules Pyodide loads in Deno. A worker calls it while it waits for its snapshot, so the load
 * does not wait for these later. Failures are left to the load to report.
 */
export function preloadPyodide(): void {
  for (const specifier of [ASM_URL, "node:fs", "node:fs/promises", "node:vm", "node:url"]) {
    import(specifier).catch(() => {});
  }
}

/** A started interpreter and how it was started. */
export interface Python {
  py: PyodideAPI;
  mode: "snapshot" | "cold";
  /** How the snapshot was written into memory (with a snapshot). */
  restore?: RestoreReport;
}

/**
 * Starts Pyodide with the siphon package importable. A snapshot that fails to restore falls
 * back to a cold load with a warning.
 *
 * @param options package files, environment, logger and snapshot
 * @returns the interpreter
 */
export async function loadPython(options: LoadOptions): Promise<Python> {
  const restoreInstantiate = options.wasm ? instantiateFrom(options.wasm) : () => {};
  try {
    return await load(options);
  } finally {
    restoreInstantiate();
  }
}

/** The patch {@link instantiateFrom} installs, while any load needs it. */
let patch: { original: typeof WebAssembly.instantiate; loads: number } | null = null;

/**
 * Makes `WebAssembly.instantiate(bytes, imports)` — how Pyodide starts its wasm — instantiate
 * `compiled` instead of compiling the bytes again. Loads may overlap (a worker drops its head
 * start's interpreter and loads another): the patch stays until the last of them is done, and
 * all of them use the module the first one brought (a process compiles Pyodide's wasm once).
 *
 * @returns puts the original back, once every load that asked for it is done
 */
export function instantiateFrom(compiled: WebAssembly.Module): () => void {
  if (!patch) {
    const original = WebAssembly.instantiate;
    patch = { original, loads: 0 };
    // deno-lint-ignore no-explicit-any
    (WebAssembly as any).instantiate = (source: unknown, imports?: WebAssembly.Imports) =>
      source instanceof WebAssembly.Module
        ? original(source, imports)
        : original(compiled, imports).then((instance) => ({ instance, module: compiled }));
  }
  patch.loads++;
  return () => {
    if (patch && --patch.loads === 0) {
      WebAssembly.instantiate = patch.original;
      patch = null;
    }
  };
}

async function load(options: LoadOptions): Promise<Python> {
  const base = {
    indexURL: PYODIDE_DIR,
    env: options.env,
    stdout: (line: string) => options.log.info(`[python stdout] ${line}`),
    stderr: (line: string) => options.log.warning(`[python stderr] ${line}`),
  };
  let py: PyodideAPI | null = null;
  let mode: Python["mode"] = "cold";
  const report: RestoreReport = { hooked: false, pagesWritten: 0 };
  if (options.snapshot) {
    try {
      const image = standIn(options.snapshot);
      const createPyodideModule = await wrapCreateModule(report, {
        file: options.snapshot,
        image,
        verify: options.verifyRestore,
      });
      mark("pyodide.asm.mjs imported");
      py = await loadPyodide(
        { ...base, _loadSnapshot: image, createPyodideModule } as typeof base,
      );
      mode = "snapshot";
      if (!report.hooked) {
        options.log.warning(
          "the page-skipping snapshot restore did not run (Pyodide internals changed?); " +
            "workers use more memory but work normally",
        );
      } else options.log.debug(`snapshot restored writing ${report.pagesWritten} pages`);
    } catch (e) {
      options.log.warning(
        `Cannot restore the Python memory snapshot (${(e as Error).message}); loading ` +
          "Pyodide cold instead, which is slower. Delete the snapshot cache to rebuild it.",
      );
    }
  }
  if (!py) {
    py = await loadPyodide({ ...base, _makeSnapshot: options.makeSnapshot } as typeof base);
  }
  writePackage(py, options.files);
  if (mode === "cold") py.runPython(PRELOAD_MODULES.map((m) => `import ${m}`).join("\n"));
  dropLoadBuffers(py);
  return { py, mode, ...mode === "snapshot" ? { restore: report } : {} };
}

/** Files do not survive a snapshot restore, so the package is (re)written on every start. */
function writePackage(py: PyodideAPI, files: readonly PackageFile[]): void {
  const dir = `${SIPHON_PYTHON_ROOT}/siphon`;
  py.FS.mkdirTree(dir);
  for (const f of files) py.FS.writeFile(`${dir}/${f.name}`, f.text);
  py.runPython(
    `import sys\nif ${JSON.stringify(SIPHON_PYTHON_ROOT)} not in sys.path: ` +
      `sys.path.insert(0, ${JSON.stringify(SIPHON_PYTHON_ROOT)})`,
  );
}

/**
 * Pyodide keeps the snapshot bytes and the wasm bytes reachable after load; let them go. The
 * collection that gives their memory back is the caller's to run once it is serving (a full
 * collection takes tens of ms, and the first request should not wait for it).
 */
function dropLoadBuffers(py: PyodideAPI): void {
  // deno-lint-ignore no-explicit-any
  const internals = py as any;
  const config = internals._api?.config ?? internals._module?.API?.config;
  if (config && "_loadSnapshot" in config) config._loadSnapshot = undefined;
  if (internals._module && "instantiateWasm" in internals._module) {
    internals._module.instantiateWasm = undefined;
  }
}

/**
 * Whether an interpreter still runs Python (after `os._exit` or a wasm trap it does not).
 *
 * @param py the interpreter
 * @returns true while it answers
 */
export function interpreterAlive(py: PyodideAPI): boolean {
  try {
    py.runPython("None");
    return true;
  } catch {
    return false;
  }
}
