/**
 * What of the host file system Python sees: the script's own folder read-only at its real path
 * (it holds the script and usually the config: a script must not rewrite what it runs or what
 * it is granted), plus `python.mounts` (read-only unless `mode: rw`), plus the folder the
 * config's `python.packages` are installed in (read-only, on `sys.path`). Nothing else is
 * mounted, so the rest of the host is invisible to handlers; the worker's Deno permissions
 * (src/supervisor/permissions.ts) hold the same line for anything that reaches past Pyodide's
 * file system. Serving and the script test harness mount through here alike (the harness once
 * refused nothing under `siphon-deno test`: a copy had drifted).
 *
 * Boundary: worker-side, when a generation is built.
 *
 * @module
 */
import type { PyodideAPI } from "pyodide";
import type { Config } from "../config/load.ts";

/** What one interpreter has mounted, and which of it refuses writes. */
interface Mounts {
  folders: string[];
  readOnly: string[];
}

const mountsOf = new WeakMap<PyodideAPI, Mounts>();

/**
 * Mounts the script folder and the configured folders into Pyodide's file system. Folders this
 * interpreter already has (the test harness loads one script after another into it) stay as
 * they are.
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
  const site = config.python.site;
  const mounts = [
    { host: scriptDir, mode: "ro" },
    ...config.python.mounts,
    ...site ? [{ host: site, mode: "ro" }] : [],
  ];
  const seen = new Set<string>();
  for (const m of mounts) {
    if (seen.has(m.host)) throw mountError(m.host, config, "it is listed twice");
    seen.add(m.host);
    try {
      mountFolder(py, m.host, m.mode === "ro" ? "ro" : "rw");
    } catch (e) {
      throw mountError(m.host, config, describe(e));
    }
  }
  // The installed python.packages come after the script's folder, before the standard library;
  // the SyntaxWarnings Python 3.14 raises while compiling older packages (anyio's `return` in
  // `finally`) are theirs to fix, not the operator's to read at every start.
  if (site) {
    const path = JSON.stringify(site);
    py.runPython(
      `import re, sys, warnings\nif ${path} not in sys.path: sys.path.insert(1, ${path})\n` +
        `warnings.filterwarnings("ignore", category=SyntaxWarning, module=re.escape(${path}))`,
    );
  }
}

function mountError(host: string, config: Config, why: string): Error {
  return new Error(
    `Cannot mount ${host} for Python (${why}); check python.mounts in ${config.file}: each ` +
      `folder may be mounted once, and not the script's own folder again`,
  );
}

/**
 * Makes one host folder visible to Python at its own path (sub-folders come with it); `ro`
 * refuses writes below it at the file-system layer.
 *
 * @param py the interpreter
 * @param folder absolute host path
 * @param mode `rw` or `ro`
 * @throws {Error} when a folder inside it is mounted already (mount the outer one first)
 */
export function mountFolder(py: PyodideAPI, folder: string, mode: "ro" | "rw"): void {
  let mounts = mountsOf.get(py);
  if (!mounts) {
    mounts = { folders: [], readOnly: [] };
    mountsOf.set(py, mounts);
    refuseWrites(py, mounts.readOnly);
  }
  if (!mounts.folders.some((m) => folder === m || folder.startsWith(m + "/"))) {
    if (mounts.folders.some((m) => m.startsWith(folder + "/"))) {
      throw new Error(
        `a folder inside ${folder} is mounted already; keep the script and its tests under one ` +
          "folder, or start with the outer one",
      );
    }
    py.FS.mkdirTree(folder);
    py.mountNodeFS(folder, folder);
    mounts.folders.push(folder);
  }
  // After the mount point exists: making it is a write.
  if (mode === "ro" && !mounts.readOnly.includes(folder)) mounts.readOnly.push(folder);
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

/**
 * Emscripten's NODEFS has no read-only flag; refuse writes under `roots` at the FS layer. The
 * list is read at every call, so folders added later are covered too.
 */
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
