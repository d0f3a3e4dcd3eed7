/**
 * What of the host file system Python sees: the script's own folder read-write at its real
 * path, plus `python.mounts` (read-only unless `mode: rw`). Nothing else is mounted, so the rest
 * of the host is invisible to handlers.
 *
 * Boundary: worker-side, once at boot.
 *
 * @module
 */
import type { PyodideAPI } from "pyodide";
import type { Config } from "../src/config/load.ts";

/**
 * Mounts the script folder and the configured folders into Pyodide's file system.
 *
 * @param py the interpreter
 * @param config the validated config
 * @param describe turns a thrown value into text (Emscripten throws non-Error objects)
 * @throws {Error} naming the folder when a mount fails
 */
export function mountFolders(
  py: PyodideAPI,
  config: Config,
  describe: (e: unknown) => string,
): void {
  const scriptDir = config.script.slice(0, config.script.lastIndexOf("/")) || "/";
  const mounts = [{ host: scriptDir, mode: "rw" }, ...config.python.mounts];
  const readOnly: string[] = [];
  for (const m of mounts) {
    try {
      py.FS.mkdirTree(m.host);
      py.mountNodeFS(m.host, m.host);
    } catch (e) {
      throw new Error(
        `Cannot mount ${m.host} for Python (${describe(e)}); check python.mounts in ` +
          `${config.file}: each folder may be mounted once, and not the script's own folder again`,
      );
    }
    if (m.mode === "ro") readOnly.push(m.host);
  }
  if (readOnly.length) refuseWrites(py, readOnly);
}

/**
 * Resolves `.` and `..` in an absolute path.
 *
 * @param path absolute path
 * @returns the normalised path
 */
export function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return "/" + out.join("/");
}

const EROFS = 69; // Emscripten uses WASI errno numbers
const O_ACCMODE = 3, O_CREAT = 64, O_TRUNC = 512, O_APPEND = 1024;

/** Emscripten's NODEFS has no read-only flag; refuse writes under `roots` at the FS layer. */
function refuseWrites(py: PyodideAPI, roots: string[]): void {
  // deno-lint-ignore no-explicit-any
  const FS = py.FS as any;
  const blocked = (path: unknown): boolean => {
    if (typeof path !== "string") return false;
    const abs = normalize(path.startsWith("/") ? path : `${FS.cwd()}/${path}`);
    return roots.some((r) => abs === r || abs.startsWith(r + "/"));
  };
  const guard = (name: string, writes: (...args: unknown[]) => boolean) => {
    const original = FS[name].bind(FS);
    FS[name] = (...args: unknown[]) => {
      if (writes(...args)) throw new FS.ErrnoError(EROFS);
      return original(...args);
    };
  };
  guard("open", (path, flags) => {
    const f = typeof flags === "string" ? FS.modeStringToFlags(flags) : Number(flags ?? 0);
    return blocked(path) && ((f & O_ACCMODE) !== 0 || (f & (O_CREAT | O_TRUNC | O_APPEND)) !== 0);
  });
  for (const name of ["mkdir", "mknod", "unlink", "rmdir", "chmod", "truncate", "utime"]) {
    guard(name, (path) => blocked(path));
  }
  guard("symlink", (_target, link) => blocked(link));
  guard("rename", (from, to) => blocked(from) || blocked(to));
}
