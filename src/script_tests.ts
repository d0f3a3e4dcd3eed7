/**
 * `siphon-deno test FILE|DIR…`: runs users' script tests (pytest-style `test_*.py`) in the same
 * Pyodide runtime and request path as `serve`. This is the main-thread side: it finds the test
 * files, starts the test thread (workers/test_worker.ts) from the cached snapshot, watches it
 * for handlers that block past their deadline (the same watchdog as serving workers) and holds
 * the memory caches, then reports the counts.
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { Caches } from "./cache/caches.ts";
import { answer, CHANNEL_BYTES } from "./cache/channel.ts";
import type { Logger } from "./log.ts";
import type { TestCounts, TestReport, TestStart, WorkerControl } from "./protocol.ts";
import { obtainSnapshot } from "./snapshot/build.ts";
import { Watchdog } from "./supervisor/watchdog.ts";
import { installSite } from "./packages/packages.ts";

/** The tests to run: files, and per file the names asked for (`file.py::name`). */
export interface TestSelection {
  files: string[];
  /** Files given as `file.py::name` run only those tests. */
  only: Record<string, string[]>;
}

/**
 * Finds the test files: each argument is a file, `file.py::name` (one test, a class, or
 * `Class::method`), or a folder searched (recursively, skipping hidden folders and node_modules)
 * for `test_*.py` and `*_test.py`.
 *
 * @param paths files, `file::name`s and folders, absolute or relative to `base`
 * @param base the folder relative paths start from @default Deno.cwd()
 * @returns absolute paths, sorted within each folder, and the names asked for
 * @throws {Error} naming a path (as given) that does not exist, or when nothing was found
 */
export async function findTestFiles(paths: string[], base = Deno.cwd()): Promise<TestSelection> {
  const found: string[] = [];
  const only: Record<string, string[]> = {};
  const walk = async (dir: string) => {
    const entries = [];
    for await (const e of Deno.readDir(dir)) entries.push(e);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory && !e.name.startsWith(".") && e.name !== "node_modules") await walk(path);
      else if (e.isFile && /^test_.*\.py$|_test\.py$/.test(e.name)) found.push(path);
    }
  };
  for (const p of paths) {
    const cut = p.indexOf("::");
    const path = resolve(base, cut === -1 ? p : p.slice(0, cut));
    let info;
    try {
      info = await Deno.stat(path);
    } catch {
      throw new Error(`Cannot test ${p}: no such file or folder`);
    }
    if (cut !== -1) {
      if (info.isDirectory) {
        throw new Error(`Cannot test ${p}: ::name follows a file, not a folder`);
      }
      (only[path] ??= []).push(p.slice(cut + 2));
    }
    if (info.isDirectory) await walk(path);
    else found.push(path);
  }
  if (found.length === 0) {
    throw new Error(`no test files (test_*.py or *_test.py) in ${paths.join(", ")}`);
  }
  return { files: [...new Set(found)], only };
}

/**
 * Runs the selected tests, printing a line per test to stdout.
 *
 * @param selection test files, names asked for, and `-k`
 * @param log for the watchdog and the snapshot
 * @param cwd the user's folder: paths in the report are relative to it
 * @returns the counts
 * @throws {Error} when the test thread itself fails (not when a test fails)
 */
export async function runScriptTests(
  selection: TestSelection & { keyword?: string | null },
  log: Logger,
  cwd = Deno.cwd(),
): Promise<TestCounts> {
  const snapshot = await obtainSnapshot({ log });
  const control: WorkerControl = {
    interrupt: new SharedArrayBuffer(8),
    clock: new SharedArrayBuffer(16),
    cache: new SharedArrayBuffer(CHANNEL_BYTES),
  };
  const caches = new Caches();
  const worker = testThread(cwd, selection.files);
  let hung = () => {};
  // A generous grace before the kill step: making the interpreter exit ends the whole run, so
  // only do it to a handler that really ignores its interrupt, not to a thread starved of CPU.
  const watchdog = new Watchdog({ log, onHung: () => hung(), graceMs: 10000 });
  watchdog.add(1, control);
  watchdog.start();
  try {
    return await new Promise<TestCounts>((resolve, reject) => {
      hung = () => reject(new Error("a handler stayed blocked after its interrupt; run stopped"));
      worker.onmessage = (e: MessageEvent<TestReport>) => {
        const msg = e.data;
        if (msg.type === "done") resolve(msg);
        else if (msg.type === "error") reject(new Error(msg.message));
        else if (msg.type === "install") install(msg, control);
        else serveCaches(msg, caches, control);
      };
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`the test thread failed: ${e.message}`));
      };
      worker.postMessage(
        {
          type: "start",
          files: selection.files,
          only: selection.only,
          keyword: selection.keyword ?? null,
          cwd,
          control,
          env: Deno.env.toObject(),
          snapshot,
        } satisfies TestStart,
      );
    });
  } finally {
    watchdog.stop();
    caches.close();
    worker.terminate();
  }
}

/**
 * The memory caches the test thread's Python uses: a call answered through shared memory, or a
 * harness that loaded a script and gets fresh, empty stores (its config has every cache in
 * memory).
 */
function serveCaches(
  msg: Extract<TestReport, { type: "cache" | "caches" | "cache_data" }>,
  caches: Caches,
  control: WorkerControl,
): void {
  if (msg.type === "cache") {
    const { ok, json } = caches.run(msg.name, msg.call);
    answer(control.cache, ok, json);
    return;
  }
  if (msg.type === "cache_data") {
    caches.fill(msg.name, msg.entries);
    return;
  }
  caches.sync({ ...msg.config, cache: {} });
  caches.sync(msg.config);
}

/**
 * The thread tests run in, with Deno permissions of its own: it reads what the tests name
 * (scripts, configs and mounts found as they go: any file), writes only in the folder the run
 * started from and the test files' folders (never the caches: packages are installed here, on
 * its behalf), and has no network (script tests mock clients), environment (handed over; the
 * config loader's library looks up two debug switches), processes or native code.
 *
 * @param cwd the folder the run started from
 * @param files the test files
 * @returns the thread
 */
function testThread(cwd: string, files: string[]): Worker {
  return new Worker(new URL("../workers/test_worker.ts", import.meta.url), {
    type: "module",
    name: "test",
    deno: {
      permissions: {
        read: true,
        write: [...new Set([cwd, ...files.map((f) => dirname(f))])],
        net: false,
        env: ["LOG_TOKENS", "LOG_STREAM"], // the yaml library's debug switches, nothing else
        run: false,
        ffi: false,
        sys: false,
        import: false,
      },
    },
  } as WorkerOptions);
}

/** Installs a loaded config's `python.packages` for the test thread; answers their folder. */
async function install(
  msg: Extract<TestReport, { type: "install" }>,
  control: WorkerControl,
): Promise<void> {
  try {
    answer(control.cache, true, JSON.stringify(await installSite(msg)));
  } catch (e) {
    answer(control.cache, false, JSON.stringify((e as Error).message));
  }
}
