/**
 * The Pyodide memory snapshot cache: one file per (Pyodide version, siphon package, preload
 * list), built on the host at first start by a short-lived worker and reused afterwards.
 *
 * Why on the host and never shipped: every restore of one snapshot starts with the same hash and
 * RNG state, so each installation makes its own (see FACTS.md, "Memory snapshots").
 *
 * @module
 */
import { join } from "node:path";
import type { Logger } from "../log.ts";
import type { FromSnapshotBuilder, ToSnapshotBuilder } from "../protocol.ts";
import { PYODIDE_DIR, pyodideVersion, readSiphonPackage, snapshotKey } from "../pyodide/assets.ts";

/** What every worker starts its interpreter from. */
export interface PythonStart {
  /** Memory snapshot bytes (shared), or null for a cold load. */
  snapshot: Uint8Array | null;
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
  const wasm = compileWasm(options.log);
  const snapshot = await obtainSnapshot({ ...options, wasm });
  return { snapshot, wasm: await wasm };
}

async function compileWasm(log: Logger): Promise<WebAssembly.Module | null> {
  try {
    return await WebAssembly.compile(await Deno.readFile(PYODIDE_DIR + "pyodide.asm.wasm"));
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
  /** Pyodide's wasm compiled, for the builder. */
  wasm?: Promise<WebAssembly.Module | null>;
}

/**
 * The default cache folder.
 *
 * @param env the environment to read
 * @returns an absolute folder path
 */
export function defaultCacheDir(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): string {
  if (env.SIPHON_CACHE_DIR) return env.SIPHON_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || join(env.HOME || "/tmp", ".cache");
  return join(base, "siphon-deno");
}

/**
 * Reads the cached snapshot, building and caching it first when missing. Returns null (the
 * workers then load cold) when `SIPHON_SNAPSHOT=off` or the build fails; a failure is logged
 * as a warning, never fatal.
 *
 * @param options logger, cache folder, build timeout
 * @returns the snapshot bytes in shared memory (one copy for every worker), or null for a
 *   cold start
 */
export async function obtainSnapshot(options: SnapshotOptions): Promise<Uint8Array | null> {
  if (Deno.env.get("SIPHON_SNAPSHOT") === "off") {
    options.log.info("SIPHON_SNAPSHOT=off: workers load Pyodide cold");
    return null;
  }
  const dir = options.cacheDir ?? defaultCacheDir();
  const path = join(dir, await snapshotKey(await pyodideVersion(), await readSiphonPackage()));
  try {
    return await readShared(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      options.log.warning(`Cannot read the snapshot cache ${path}: ${(e as Error).message}`);
    }
  }
  try {
    const t0 = performance.now();
    const bytes = await build(options.buildTimeoutMs ?? 180000, (await options.wasm) ?? null);
    await Deno.mkdir(dir, { recursive: true });
    const tmp = `${path}.${Deno.pid}.tmp`;
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
    options.log.info(
      `built the Python snapshot in ${Math.round(performance.now() - t0)} ms: ${path}`,
    );
    return shared(bytes);
  } catch (e) {
    options.log.warning(
      `Cannot build the Python snapshot (${(e as Error).message}); workers load Pyodide cold. ` +
        `Check that ${dir} is writable, or set SIPHON_CACHE_DIR.`,
    );
    return null;
  }
}

/**
 * Reads a file straight into shared memory: one pass over 30 MiB instead of a read and a copy
 * (each first touch of a page costs, and this is on the way to the first response).
 */
async function readShared(path: string): Promise<Uint8Array> {
  using file = await Deno.open(path);
  const size = (await file.stat()).size;
  const out = new Uint8Array(new SharedArrayBuffer(size));
  for (let at = 0; at < size;) {
    const n = await file.read(out.subarray(at));
    if (n === null) throw new Error(`${path} ended after ${at} of ${size} bytes`);
    at += n;
  }
  return out;
}

function shared(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  out.set(bytes);
  return out;
}

async function build(timeoutMs: number, wasm: WebAssembly.Module | null): Promise<Uint8Array> {
  const worker = new Worker(new URL("../../workers/snapshot_worker.ts", import.meta.url), {
    type: "module",
  });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      worker.onmessage = (e: MessageEvent<FromSnapshotBuilder>) => {
        if (e.data.type === "snapshot") resolve(e.data.bytes);
        else reject(new Error(e.data.message));
      };
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(e.message));
      };
      worker.postMessage({ type: "build", wasm } satisfies ToSnapshotBuilder);
    });
  } finally {
    clearTimeout(timer);
    worker.terminate();
  }
}
