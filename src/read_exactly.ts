/**
 * Reading exactly `n` bytes from where a file stands: reads return what they have, so the big
 * files here (Pyodide's wasm, a snapshot's image) are read in a loop until the buffer is full.
 *
 * Boundary: shared by the supervisor and the workers.
 *
 * @module
 */

/**
 * Fills `into` from the file's current position.
 *
 * @param file an open file
 * @param into the bytes to fill
 * @param name the file's name, for the error
 * @throws {Error} when the file ends first
 */
export function readExactlySync(file: Deno.FsFile, into: Uint8Array, name: string): void {
  for (let at = 0; at < into.length;) {
    const n = file.readSync(into.subarray(at));
    if (n === null) throw endedEarly(name, at, into.length);
    at += n;
  }
}

/**
 * {@link readExactlySync}, without blocking the thread.
 *
 * @throws {Error} when the file ends first
 */
export async function readExactly(file: Deno.FsFile, into: Uint8Array, name: string) {
  for (let at = 0; at < into.length;) {
    const n = await file.read(into.subarray(at));
    if (n === null) throw endedEarly(name, at, into.length);
    at += n;
  }
}

function endedEarly(name: string, at: number, length: number): Error {
  return new Error(`${name} ended after ${at} of ${length} bytes (was it replaced meanwhile?)`);
}
