/**
 * The Pyodide memory snapshot cache: one file per (Pyodide version, siphon package, preload
 * list), built on the host at first start by a short-lived worker and reused afterwards.
 *
 * Why on the host and never shipped: every restore of one snapshot starts with the same hash and
 * RNG state, so each installation makes its own (docs/internals.md, "Memory snapshots").
 *
 * @module
 */
import { join } from "node:path";
import type { Logger } from "../log.ts";
import { mark } from "../start/marks.ts";
import { readExactlySync } from "../read_exactly.ts";
import type { FromSnapshotBuilder, ToSnapshotBuilder } from "../protocol.ts";
import {
  defaultCacheDir,
  PYODIDE_DIR,
  pyodideVersion,
  readSiphonPackage,
  snapshotKey,
} from "../pyodide/assets.ts";
import { describeSnapshot, readSnapshotFile, type SnapshotFile } from "./file.ts";
import { workerPermissions } from "../supervisor/permissions.ts";

/** What every worker starts its interpreter from. */
export interface PythonStart {
  /** The memory snapshot file (each worker reads its image), or null for a cold load. */
  snapshot: SnapshotFile | null;
  /** Pyodide's wasm, compiled once for every worker; null to let each compile it. */
  wasm: WebAssembly.Module | null;
}

/**
 * Compiles Pyodide's wasm (in V8's background threads) while the snapshot is read or built.
 *
 * @param options as for {@link obtainSnapshot}
 * @returns the snapshot and the compiled module
 */
export async function preparePython(options: SnapshotOptions): Promise<PythonStart> {
  const wasm = options.wasm ?? compileWasm(options.log).finally(() => mark("wasm compiled"));
  const snapshot = await obtainSnapshot({ ...options, wasm });
  mark(snapshot ? "snapshot found" : "no snapshot: cold load");
  return { snapshot, wasm: await wasm };
}

async function compileWasm(log: Logger): Promise<WebAssembly.Module | null> {
  try {
    // Read into a buffer of the file's size: half the time of Deno.readFile's growing reads.
    using file = Deno.openSync(PYODIDE_DIR + "pyodide.asm.wasm");
    const bytes = new Uint8Array(file.statSync().size);
    readExactlySync(file, bytes, "pyodide.asm.wasm");
    return await WebAssembly.compile(bytes);
  } catch (e) {
    log.warning(`Cannot compile Pyodide's wasm ahead (${(e as Error).message}); each worker will`);
    return null;
  }
}

/** Options for {@link obtainSnapshot}. */
export interface SnapshotOptions {
  log: Logger;
  /** Cache folder. @default $SIPHON_CACHE_DIR, else $XDG_CACHE_HOME/siphon-deno, else ~/.cache/siphon-deno */
  cacheDir?: string;
  /** Give up building after this long. @default 180000 */
  buildTimeoutMs?: number;
  /** Pyodide's wasm compiled already (else {@link preparePython} compiles it). */
  wasm?: Promise<WebAssembly.Module | null>;
  /** Called when there is no cached snapshot and building one begins (it takes seconds). */
  onBuild?: () => void;
  /** Installed `python.packages` (./src/packages) to import before the snapshot is taken. */
  site?: string | null;
}

/**
 * Reads the cached snapshot, building and caching it first when missing. Returns null (the
 * workers then load cold) when `SIPHON_SNAPSHOT=off` or the build fails; a failure is logged
 * as a warning, never fatal.
 *
 * @param options logger, cache folder, build timeout
 * @returns the snapshot file (each worker reads its image from there), or null for a cold start
 */
export async function obtainSnapshot(options: SnapshotOptions): Promise<SnapshotFile | null> {
  if (Deno.env.get("SIPHON_SNAPSHOT") === "off") {
    options.log.info("SIPHON_SNAPSHOT=off: workers load Pyodide cold");
    return null;
  }
  const dir = options.cacheDir ?? defaultCacheDir();
  const site = options.site ?? null;
  const key = await snapshotKey(await pyodideVersion(), await readSiphonPackage(), site);
  const path = join(dir, key);
  try {
    return await readSnapshotFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      options.log.warning(`Cannot read the snapshot cache ${path}: ${(e as Error).message}`);
    }
  }
  try {
    const t0 = performance.now();
    options.onBuild?.();
    const wasm = (await options.wasm) ?? null;
    const bytes = await build(options.buildTimeoutMs ?? 180000, wasm, site, options.log);
    await Deno.mkdir(dir, { recursive: true });
    const tmp = `${path}.${Deno.pid}.tmp`;
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
    options.log.info(
      `built the Python snapshot in ${Math.round(performance.now() - t0)} ms: ${path}`,
    );
    return describeSnapshot(path, bytes);
  } catch (e) {
    if (site) {
      options.log.warning(
        `Cannot build the Python snapshot with python.packages imported ` +
          `(${(e as Error).message}); workers import them as they start instead.`,
      );
      return await obtainSnapshot({ ...options, site: null });
    }
    options.log.warning(
      `Cannot build the Python snapshot (${(e as Error).message}); workers load Pyodide cold. ` +
        `Check that ${dir} is writable, or set SIPHON_CACHE_DIR.`,
    );
    return null;
  }
}

async function build(
  timeoutMs: number,
  wasm: WebAssembly.Module | null,
  site: string | null,
  log: Logger,
): Promise<Uint8Array> {
  const worker = new Worker(new URL("./builder_worker.ts", import.meta.url), {
    type: "module",
    // Reads Pyodide and the installed packages; hands the image back, writes nothing itself.
    deno: {
      permissions: workerPermissions(null, { cacheDir: site, role: "snapshot" }),
    },
  } as WorkerOptions);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      worker.onmessage = (e: MessageEvent<FromSnapshotBuilder>) => {
        if (e.data.type === "snapshot") {
          for (const why of e.data.skipped) {
            log.warning(`python.packages: ${why}; workers import it when the script does`);
          }
          resolve(e.data.bytes);
        } else reject(new Error(e.data.message));
      };
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
      worker.postMessage({ type: "build", wasm, site } satisfies ToSnapshotBuilder);
    });
  } finally {
    clearTimeout(timer);
    worker.terminate();
  }
}
