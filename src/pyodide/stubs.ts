/**
 * `siphon-deno stubs`: the `.pyi` type stubs of `siphon` and `siphon_sdk`, so an IDE completes
 * and type-checks scripts and their tests. They live in workers/python/stubs (embedded in the
 * compiled binary like every other Python file) and are checked against the runtime modules by
 * tests/stubs_test.ts.
 *
 * @module
 */
import { dirname, join, relative } from "node:path";

/** Where the stub files live. */
export const STUBS_DIR = join(import.meta.dirname!, "..", "..", "workers", "python", "stubs");

/**
 * Lists the stub files.
 *
 * @returns paths relative to {@link STUBS_DIR}, e.g. `siphon/http.pyi`, sorted
 */
export async function listStubs(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = join(dir, e.name);
      if (e.isDirectory) await walk(path);
      else if (e.name.endsWith(".pyi")) found.push(relative(STUBS_DIR, path));
    }
  };
  await walk(STUBS_DIR);
  return found.sort();
}

/**
 * Writes every stub under `out` (`out/siphon/http.pyi`, …), replacing older copies.
 *
 * @param out destination folder
 * @returns the files written, relative to `out`
 */
export async function copyStubs(out: string): Promise<string[]> {
  const files = await listStubs();
  for (const file of files) {
    await Deno.mkdir(dirname(join(out, file)), { recursive: true });
    await Deno.writeTextFile(join(out, file), await Deno.readTextFile(join(STUBS_DIR, file)));
  }
  return files;
}
