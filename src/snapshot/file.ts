/**
 * A Pyodide memory snapshot as the workers restore it: straight from its file. The supervisor
 * reads only the header (magic, offsets, build id, JSON; a few KiB); each worker reads the
 * memory image from the file into its wasm memory while Pyodide restores
 * (./sparse_restore.ts), so no thread holds a 30 MiB copy and the supervisor hands workers a
 * snapshot as soon as it knows where it is.
 *
 * Boundary: shared by the supervisor (src/snapshot/build.ts) and the workers.
 *
 * @module
 */
import { readExactly } from "../read_exactly.ts";

/** A snapshot file: where it is, how long, and its header. */
export interface SnapshotFile {
  path: string;
  /** The file's size: Pyodide sizes the wasm memory from it. */
  length: number;
  /** Its first bytes, up to where the memory image begins. */
  header: Uint8Array;
}

/**
 * The header of snapshot bytes already in hand (just built).
 *
 * @param path where they are written
 * @param bytes the whole snapshot
 * @returns the file's description
 * @throws {Error} when the bytes are not a Pyodide snapshot
 */
export function describeSnapshot(path: string, bytes: Uint8Array): SnapshotFile {
  const imageAt = imageOffset(bytes.subarray(0, 12), bytes.length, path);
  return { path, length: bytes.length, header: bytes.slice(0, imageAt) };
}

/**
 * Reads a snapshot file's header.
 *
 * @param path the snapshot file
 * @returns its description
 * @throws {Deno.errors.NotFound} when there is none; {Error} when it is not a snapshot
 */
export async function readSnapshotFile(path: string): Promise<SnapshotFile> {
  using file = await Deno.open(path);
  const length = (await file.stat()).size;
  const start = await readAt(file, 0, 12, path);
  const header = await readAt(file, 0, imageOffset(start, length, path), path);
  return { path, length, header };
}

/** Where the memory image begins: the second 32-bit word of Pyodide's header. */
function imageOffset(start: Uint8Array, length: number, path: string): number {
  const at = start.length === 12
    ? new DataView(start.buffer, start.byteOffset, 12).getUint32(4, true)
    : 0;
  if (at <= 12 || at >= length) {
    throw new Error(`${path} is not a Pyodide memory snapshot (image offset ${at} of ${length})`);
  }
  return at;
}

async function readAt(file: Deno.FsFile, from: number, n: number, path: string) {
  const out = new Uint8Array(n);
  await file.seek(from, Deno.SeekMode.Start);
  await readExactly(file, out, path);
  return out;
}
