/**
 * Page-skipping snapshot restore, straight from the file. Pyodide restores a memory snapshot
 * with one `HEAP8.set(snapshot)`, which touches every page of the 30 MiB image, about half of
 * them zeros. Here Pyodide is given a stand-in (the header, then untouched zeros) and the write
 * of the image reads it from the snapshot file a chunk at a time, writing only the 4 KiB pages
 * that differ from the fresh (zeroed) wasm memory: the rest stays unbacked, so each worker is
 * resident for about 15 MiB less, no thread holds a copy of the snapshot, and memory afterwards
 * matches the snapshot byte for byte (src/snapshot/restore_test.ts checks it).
 *
 * This reaches into Pyodide internals (`Module.API.restoreSnapshot`), pinned to the version in
 * deno.json. When the hook cannot be installed the stand-in is filled from the file and the
 * stock restore runs (the caller warns: more memory, same behaviour); when Pyodide writes the
 * image some other way the restore fails and the caller loads Pyodide cold.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { PYODIDE_DIR } from "../pyodide/assets.ts";
import { mark } from "../start/marks.ts";
import type { SnapshotFile } from "./file.ts";
import { readExactlySync } from "../read_exactly.ts";

const PAGE = 4096;

/** Pyodide's Emscripten module (the JS half of pyodide.asm.wasm). */
export const ASM_URL = pathToFileURL(PYODIDE_DIR + "pyodide.asm.mjs").href;

/**
 * Copies `src` into `dest` at `offset`, skipping pages where both are all zeros. Pages to write
 * are copied in runs, one `set` each; pages are checked through 32-bit views, which V8 compiles
 * to a tight loop (this is on every worker's way to its first request).
 *
 * Reading a page the process never touched costs a page fault like writing one does (about
 * 10 µs on the VMs measured), so `zeroFrom` says where `dest` is known to be zeros: pages from
 * there on are not read.
 *
 * @param dest the wasm heap
 * @param src snapshot bytes
 * @param offset where in `dest` the copy starts (page aligned)
 * @param zeroFrom from this byte of `dest` on, nothing was ever written @default dest's end
 * @returns how many pages were written
 */
export function copyChangedPages(
  dest: Uint8Array,
  src: Uint8Array,
  offset = 0,
  zeroFrom = dest.byteLength,
): number {
  const srcWords = words(src);
  const destWords = words(dest);
  let written = 0;
  let run = -1; // where the pages waiting to be written begin
  const flush = (end: number) => {
    if (run !== -1) dest.set(src.subarray(run, end), offset + run);
    run = -1;
  };
  for (let start = 0; start < src.byteLength; start += PAGE) {
    const end = Math.min(start + PAGE, src.byteLength);
    if (
      zeros(src, srcWords, start, end) &&
      (offset + start >= zeroFrom || zeros(dest, destWords, offset + start, offset + end))
    ) {
      flush(start);
      continue;
    }
    if (run === -1) run = start;
    written++;
  }
  flush(src.byteLength);
  return written;
}

/** A 32-bit view of the same bytes, when they are aligned for one. */
function words(bytes: Uint8Array): Int32Array | null {
  return bytes.byteOffset % 4 === 0
    ? new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2)
    : null;
}

/** How many pages of `dest` at `offset` differ from `src` (a test's check of a restore). */
function differingPages(dest: Uint8Array, src: Uint8Array, offset: number): number {
  let differing = 0;
  for (let start = 0; start < src.byteLength; start += PAGE) {
    const end = Math.min(start + PAGE, src.byteLength);
    for (let i = start; i < end; i++) {
      if (dest[offset + i] !== src[i]) {
        differing++;
        break;
      }
    }
  }
  return differing;
}

/** Whether `bytes[start..end)` are all zeros (through `view` when both ends are aligned). */
function zeros(bytes: Uint8Array, view: Int32Array | null, start: number, end: number): boolean {
  if (view !== null && start % 4 === 0 && end % 4 === 0) {
    for (let i = start >> 2, last = end >> 2; i < last; i++) if (view[i] !== 0) return false;
    return true;
  }
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Whether the page-skipping restore ran, and how many pages it wrote. */
export interface RestoreReport {
  hooked: boolean;
  pagesWritten: number;
  /** With `verify`: pages of memory that differ from the snapshot right after the restore. */
  pagesDiffering?: number;
}

/**
 * Where the interpreter may have written before the restore: up to the top of its heap (`sbrk`)
 * or of its stack, whichever is higher. Beyond that the wasm memory is as the engine made it,
 * zeros. Without the exports to tell, nothing is assumed.
 */
// deno-lint-ignore no-explicit-any
function writtenUpTo(module: any, heapBytes: number): number {
  const probes = [module._sbrk?.bind(null, 0), module._emscripten_stack_get_base];
  if (probes.some((f) => typeof f !== "function")) return heapBytes;
  const top = Math.max(...probes.map((f) => Number(f()) >>> 0));
  return Math.min(heapBytes, Math.ceil(top / PAGE) * PAGE);
}

/**
 * What Pyodide is given as `_loadSnapshot`: the header, then zeros standing in for the memory
 * image (allocated, never touched: no memory is used for them). The restore reads the image from
 * the file instead, so no thread ever holds the 30 MiB.
 *
 * @param file the snapshot file
 * @returns the stand-in
 */
export function standIn(file: SnapshotFile): Uint8Array {
  const image = new Uint8Array(file.length);
  image.set(file.header);
  return image;
}

/** What {@link wrapCreateModule} restores from. */
export interface RestoreOptions {
  file: SnapshotFile;
  /** The stand-in given to Pyodide as `_loadSnapshot` ({@link standIn}). */
  image: Uint8Array;
  /** Compare memory with the snapshot after the restore; fail the restore when they differ. */
  verify?: boolean;
}

/**
 * A `createPyodideModule` for `loadPyodide` that installs the page-skipping restore, reading
 * the memory image from the snapshot file when Pyodide writes the stand-in.
 *
 * @param report filled in when the restore runs
 * @param options the file, the stand-in, whether to verify (tests)
 * @returns the factory to pass as `createPyodideModule`
 */
export async function wrapCreateModule(
  report: RestoreReport,
  options: RestoreOptions,
): Promise<(settings: unknown) => Promise<unknown>> {
  const create = (await import(ASM_URL)).default as (settings: unknown) => Promise<unknown>;
  const { file, image } = options;
  return async (settings: unknown) => {
    // deno-lint-ignore no-explicit-any
    const instantiate = (settings as any).instantiateWasm;
    if (typeof instantiate === "function") {
      // deno-lint-ignore no-explicit-any
      (settings as any).instantiateWasm = (imports: unknown, done: (...a: unknown[]) => void) =>
        instantiate(imports, (...a: unknown[]) => {
          mark("wasm instance ready");
          done(...a);
        });
    }
    // deno-lint-ignore no-explicit-any
    const module = await create(settings) as any;
    const api = module?.API;
    if (typeof api?.restoreSnapshot !== "function") {
      // No hook: the stock restore copies the whole stand-in, so it must hold the image.
      readFileInto(file.path, 0, image);
      return module;
    }
    hookRestore(module, report, options);
    return module;
  };
}

/**
 * Replaces `Module.API.restoreSnapshot` with one whose write of the stand-in's image reads the
 * image from the file, page-skipping (see {@link wrapCreateModule}).
 */
function hookRestore(
  // deno-lint-ignore no-explicit-any
  module: any,
  report: RestoreReport,
  options: RestoreOptions,
): void {
  const { file, image } = options;
  const api = module.API;
  const stock = api.restoreSnapshot;
  api.restoreSnapshot = function (snapshot: Uint8Array) {
    mark("runtime initialised, snapshot restore begins");
    const heap: Uint8Array = module.HEAP8;
    const set = heap.set;
    heap.set = function (src: ArrayLike<number>, offset?: number) {
      if (
        !(src instanceof Uint8Array || src instanceof Int8Array) || src.buffer !== image.buffer
      ) {
        return set.call(this, src, offset);
      }
      const at = offset ?? 0;
      // A snapshot larger than the wasm file's initial memory (30 MiB: python.packages imported,
      // say) needs the memory grown first — the stock restore fails there (pyodide#6254).
      if (at + src.byteLength > this.byteLength) module.growMemory?.(at + src.byteLength);
      const view: Int8Array = module.HEAP8;
      const dest = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
      const zeroFrom = writtenUpTo(module, dest.byteLength);
      report.pagesWritten += copyFileChangedPages(dest, file.path, src, at, zeroFrom);
      report.hooked = true;
      if (options.verify) {
        const bytes = new Uint8Array(src.byteLength);
        readFileInto(file.path, src.byteOffset, bytes);
        report.pagesDiffering = differingPages(dest, bytes, at);
        // Running on from memory that is not the snapshot could do anything, hanging included.
        if (report.pagesDiffering > 0) {
          throw new Error(`the restore left ${report.pagesDiffering} pages unlike the snapshot`);
        }
      }
    };
    try {
      const result = stock.call(this, snapshot);
      // Pyodide wrote something else than the stand-in's image (internals changed): the
      // memory holds zeros where the image should be, so this interpreter must not run.
      if (!report.hooked) throw new Error("Pyodide restored without writing the memory image");
      return result;
    } finally {
      delete (heap as { set?: unknown }).set;
      mark("snapshot memory written");
    }
  };
}

/** Reads through a buffer of this size: large enough for few reads, small enough to stay cached. */
const CHUNK = 1 << 20;

/**
 * {@link copyChangedPages} with the source read from the snapshot file, a chunk at a time.
 *
 * @param dest the wasm heap
 * @param path the snapshot file
 * @param image where in the file (and the stand-in) the image lies: its `byteOffset` and length
 * @param offset where in `dest` it goes
 * @param zeroFrom as for {@link copyChangedPages}
 * @returns how many pages were written
 */
function copyFileChangedPages(
  dest: Uint8Array,
  path: string,
  image: Uint8Array | Int8Array,
  offset: number,
  zeroFrom: number,
): number {
  const chunk = new Uint8Array(CHUNK);
  let written = 0;
  using file = Deno.openSync(path);
  file.seekSync(image.byteOffset, Deno.SeekMode.Start);
  for (let at = 0; at < image.byteLength; at += CHUNK) {
    const part = chunk.subarray(0, Math.min(CHUNK, image.byteLength - at));
    readExactlySync(file, part, `the snapshot ${path}`);
    written += copyChangedPages(dest, part, offset + at, zeroFrom);
  }
  return written;
}

/** Reads `into.length` bytes of `path` from `from`. */
function readFileInto(path: string, from: number, into: Uint8Array): void {
  using file = Deno.openSync(path);
  file.seekSync(from, Deno.SeekMode.Start);
  readExactlySync(file, into, `the snapshot ${path}`);
}
