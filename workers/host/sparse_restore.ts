/**
 * Page-skipping snapshot restore. Pyodide restores a memory snapshot with one
 * `HEAP8.set(snapshot)`, which touches every page of the 30 MiB image, about half of them
 * zeros. Writing only the 4 KiB pages that differ from the fresh (zeroed) wasm memory leaves the
 * rest unbacked, so each worker is resident for about 15 MiB less, and memory afterwards matches
 * the snapshot byte for byte.
 *
 * This reaches into Pyodide internals (`Module.API.restoreSnapshot`), pinned to the version in
 * deno.json. {@link wrapCreateModule} reports whether the hook ran, so the caller can warn and
 * carry on with the stock restore when a Pyodide upgrade moves things.
 *
 * @module
 */
import { pathToFileURL } from "node:url";
import { PYODIDE_DIR } from "../../src/pyodide/assets.ts";
import { mark } from "../../src/startup.ts";

const PAGE = 4096;

/**
 * Copies `src` into `dest` at `offset`, skipping pages where both are all zeros.
 *
 * @param dest the wasm heap
 * @param src snapshot bytes
 * @param offset where in `dest` the copy starts (page aligned)
 * @returns how many pages were written
 */
export function copyChangedPages(dest: Uint8Array, src: Uint8Array, offset = 0): number {
  let written = 0;
  for (let start = 0; start < src.byteLength; start += PAGE) {
    const end = Math.min(start + PAGE, src.byteLength);
    const from = src.subarray(start, end);
    if (isZero(from) && isZero(dest.subarray(offset + start, offset + end))) continue;
    dest.set(from, offset + start);
    written++;
  }
  return written;
}

function isZero(bytes: Uint8Array): boolean {
  if (bytes.byteOffset % 8 === 0 && bytes.byteLength % 8 === 0) {
    const words = new BigUint64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
    for (let i = 0; i < words.length; i++) if (words[i] !== 0n) return false;
    return true;
  }
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Whether the page-skipping restore ran, and how many pages it wrote. */
export interface RestoreReport {
  hooked: boolean;
  pagesWritten: number;
}

/**
 * A `createPyodideModule` for `loadPyodide` that installs the page-skipping restore.
 *
 * @param report filled in when the restore runs
 * @returns the factory to pass as `createPyodideModule`
 */
export async function wrapCreateModule(
  report: RestoreReport,
): Promise<(settings: unknown) => Promise<unknown>> {
  const url = pathToFileURL(PYODIDE_DIR + "pyodide.asm.mjs").href;
  const create = (await import(url)).default as (settings: unknown) => Promise<unknown>;
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
    if (typeof api?.restoreSnapshot !== "function") return module;
    const stock = api.restoreSnapshot;
    api.restoreSnapshot = function (snapshot: Uint8Array) {
      mark("runtime initialised, snapshot restore begins");
      const heap: Uint8Array = module.HEAP8;
      const set = heap.set;
      heap.set = function (src: ArrayLike<number>, offset?: number) {
        if (
          !(src instanceof Uint8Array || src instanceof Int8Array) || src.byteLength < PAGE * 16
        ) {
          return set.call(this, src, offset);
        }
        const bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
        const dest = new Uint8Array(this.buffer, this.byteOffset, this.byteLength);
        report.pagesWritten += copyChangedPages(dest, bytes, offset ?? 0);
        report.hooked = true;
      };
      try {
        return stock.call(this, snapshot);
      } finally {
        delete (heap as { set?: unknown }).set;
        mark("snapshot memory written");
      }
    };
    return module;
  };
}
