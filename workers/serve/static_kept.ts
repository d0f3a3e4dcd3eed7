/**
 * What a worker keeps of its static folders (./static_files.ts): for {@link TRUST_MS}, a path's
 * resolution (symlinks followed, checked inside the folder), a file's open handle and state
 * (size, mtime), a folder's names; and the bytes of small files while their size and mtime
 * hold. So a change to a folder shows within a second, and within it a small file costs no
 * file-system call at all: Deno checks a worker's read permission on every call about a file —
 * `fstat` on an open handle included — by resolving each component of its path (a readlink
 * apiece), which made up most of a request's CPU. Everything kept is bounded
 * ({@link KEPT_BOUNDS}); past a bound that part starts over.
 *
 * Every call is synchronous: a local file-system call costs microseconds on the worker's
 * thread, a trip through Deno's blocking-task pool tens.
 *
 * Boundary: worker-side; reads files only.
 *
 * @module
 */

/** How long what the file system said is trusted before it is asked again. */
export const TRUST_MS = 1000;

/** The bounds of what is kept. */
export const KEPT_BOUNDS = {
  /** Resolved request paths (missing ones too). */
  paths: 4096,
  /** Folders' names. */
  folders: 4096,
  /** Open files. */
  handles: 256,
  /** Bytes of small files. */
  bytes: 32 << 20,
} as const;

/** Names kept per folder (more: the file system is asked for each sibling). */
const MAX_NAMES = 10_000;

/** A file (or folder) inside a mount: its real path, its state, its kept handle. */
export interface Found {
  path: string;
  info: Deno.FileInfo;
  handle: Handle;
}

/** An open file and its state, kept for {@link TRUST_MS}, and its bytes while unchanged. */
interface Handle {
  file: Deno.FsFile;
  opened: number;
  info: Deno.FileInfo;
  /** The whole file as last read, with the size and mtime it had (small files only). */
  bytes: Uint8Array<ArrayBuffer> | null;
  size: number;
  mtime: number;
}

/** One worker's kept file-system answers. */
export class Kept {
  readonly #resolved = new Map<string, { real: string | null; at: number }>();
  readonly #handles = new Map<string, Handle>();
  readonly #listings = new Map<string, { names: Set<string> | null; at: number }>();
  #bytes = 0;

  /** How much is kept now (tests check {@link KEPT_BOUNDS} hold whatever clients ask for). */
  counts(): { paths: number; folders: number; handles: number; bytes: number } {
    return {
      paths: this.#resolved.size,
      folders: this.#listings.size,
      handles: this.#handles.size,
      bytes: this.#bytes,
    };
  }

  /**
   * `path`, when its real path is inside `root`: open (kept), with its state as of at most
   * {@link TRUST_MS} ago.
   *
   * @param root the mount's folder, real
   * @param path the file or folder asked for
   * @returns it, or null when it is missing or outside `root`
   */
  open(root: string, path: string): Found | null {
    const real = this.#realInside(root, path);
    if (real === null) return null;
    const now = performance.now();
    let h = this.#handles.get(real);
    if (h && now - h.opened >= TRUST_MS) {
      this.#drop(real, h);
      h = undefined;
    }
    if (!h) {
      let file: Deno.FsFile;
      try {
        file = Deno.openSync(real, { read: true });
      } catch {
        this.#resolved.delete(path); // gone: ask again next time
        return null;
      }
      let info: Deno.FileInfo;
      try {
        info = file.statSync();
      } catch {
        file.close();
        return null;
      }
      if (this.#handles.size >= KEPT_BOUNDS.handles) {
        for (const [k, v] of this.#handles) this.#drop(k, v);
      }
      h = { file, opened: now, info, bytes: null, size: -1, mtime: -1 };
      this.#handles.set(real, h);
    }
    return { path: real, info: h.info, handle: h };
  }

  /**
   * A file's whole bytes: the kept ones while its size and mtime hold, else read again (and
   * kept, within {@link KEPT_BOUNDS}.bytes).
   *
   * @param found the file
   * @returns its bytes (fewer than its size if it shrank while read)
   */
  bytesOf(found: Found): Uint8Array<ArrayBuffer> {
    const h = found.handle;
    const mtime = found.info.mtime?.getTime() ?? 0;
    if (h.bytes && h.size === found.info.size && h.mtime === mtime) return h.bytes;
    h.file.seekSync(0, Deno.SeekMode.Start);
    const bytes = readAll(h.file, found.info.size);
    if (h.bytes) this.#bytes -= h.bytes.byteLength;
    h.bytes = null;
    if (
      bytes.byteLength === found.info.size && this.#bytes + bytes.byteLength <= KEPT_BOUNDS.bytes
    ) {
      h.bytes = bytes;
      h.size = found.info.size;
      h.mtime = mtime;
      this.#bytes += bytes.byteLength;
    }
    return bytes;
  }

  /**
   * Whether `dir` may hold `name`, from its names as read at most {@link TRUST_MS} ago (for the
   * precompressed siblings, which most files lack: no failing call per request).
   */
  listed(dir: string, name: string): boolean {
    const now = performance.now();
    let listing = this.#listings.get(dir);
    if (!listing || now - listing.at >= TRUST_MS) {
      let names: Set<string> | null = new Set<string>();
      try {
        for (const e of Deno.readDirSync(dir)) {
          names.add(e.name);
          if (names.size > MAX_NAMES) {
            names = null;
            break;
          }
        }
      } catch {
        names = new Set();
      }
      if (this.#listings.size >= KEPT_BOUNDS.folders) this.#listings.clear();
      listing = { names, at: now };
      this.#listings.set(dir, listing);
    }
    return listing.names === null || listing.names.has(name); // null: let open() decide
  }

  /** `path` with symlinks resolved, when that is inside `root`; else null. */
  #realInside(root: string, path: string): string | null {
    const now = performance.now();
    const hit = this.#resolved.get(path);
    if (hit && now - hit.at < TRUST_MS) return hit.real;
    let real: string | null;
    try {
      real = Deno.realPathSync(path);
      if (real !== root && !real.startsWith(root + "/")) real = null;
    } catch {
      real = null;
    }
    if (this.#resolved.size >= KEPT_BOUNDS.paths) this.#resolved.clear();
    this.#resolved.set(path, { real, at: now });
    return real;
  }

  #drop(real: string, h: Handle): void {
    this.#handles.delete(real);
    if (h.bytes) this.#bytes -= h.bytes.byteLength;
    try {
      h.file.close();
    } catch { /* closed */ }
  }
}

/** Up to `size` bytes of an open file from where it stands (fewer if it shrank meanwhile). */
function readAll(file: Deno.FsFile, size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  let off = 0;
  while (off < size) {
    const n = file.readSync(bytes.subarray(off));
    if (n === null || n === 0) break;
    off += n;
  }
  return off === size ? bytes : bytes.slice(0, off);
}
