/**
 * Where Pyodide and the siphon Python package live, and the snapshot cache key.
 *
 * Every path is relative to `import.meta.dirname`, so the same code works under `deno run` and
 * inside a `deno compile` binary (where these files are embedded).
 *
 * @module
 */
import { join } from "node:path";
import { sha256Hex } from "../digest.ts";

const ROOT = join(import.meta.dirname!, "..", "..");

/** Folder holding `pyodide.asm.wasm`, `python_stdlib.zip` and `pyodide-lock.json`. */
export const PYODIDE_DIR = join(ROOT, "node_modules", "pyodide") + "/";

/**
 * The wheelhouse this checkout — or the executable, which embeds it — carries:
 * `python.wheelhouse: embedded` names it.
 */
export const EMBEDDED_WHEELHOUSE = join(ROOT, "deploy", "wheelhouse");

/** Where the siphon package is written inside Pyodide's file system. */
export const SIPHON_PYTHON_ROOT = "/lib/siphon";

/** Modules imported before a memory snapshot, so restored workers start with them loaded. */
export const PRELOAD_MODULES: readonly string[] = [
  "siphon",
  "siphon._bridge",
  "siphon._runtime",
  "asyncio",
  "json",
  "re",
  "base64",
  "hashlib",
  "hmac",
  "datetime",
  "uuid",
  "urllib.parse",
];

/** One file of the siphon package. */
export interface PackageFile {
  name: string;
  text: string;
}

/**
 * Reads the siphon package's `.py` files, sorted by name.
 *
 * @returns the files
 */
export function readSiphonPackage(): Promise<PackageFile[]> {
  return readPythonFolder("siphon");
}

/**
 * Reads the `.py` files of one folder under workers/python (`siphon`, `siphon_sdk`, `testing`).
 *
 * @param name the folder
 * @returns the files, sorted by name
 */
export async function readPythonFolder(name: string): Promise<PackageFile[]> {
  const dir = join(ROOT, "workers", "python", name);
  const files: PackageFile[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.isFile || !entry.name.endsWith(".py")) continue;
    files.push({ name: entry.name, text: await Deno.readTextFile(join(dir, entry.name)) });
  }
  return files.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The installed Pyodide version, from its package.json.
 *
 * @returns e.g. `314.0.7`
 */
export async function pyodideVersion(): Promise<string> {
  const pkg = JSON.parse(await Deno.readTextFile(join(PYODIDE_DIR, "package.json")));
  return String(pkg.version);
}

/**
 * The snapshot cache key: a snapshot only fits the exact Pyodide build, siphon package and
 * preload list that made it.
 *
 * @param version Pyodide version
 * @param site the folder of installed `python.packages` the snapshot imports, or null
 * @param files the siphon package
 * @returns a file name like `pyodide-314.0.7-1a2b3c4d5e6f7a8b.snapshot`
 */
export async function snapshotKey(
  version: string,
  files: readonly PackageFile[],
  site: string | null = null,
): Promise<string> {
  // The site folder's name is a hash of the wheels installed there (src/packages/install.ts).
  const packages = site ? `\x02${site.split("/").pop()}` : "";
  const text = [version, PRELOAD_MODULES.join(","), ...files.map((f) => `${f.name}\0${f.text}`)]
    .join("\x01") + packages;
  return `pyodide-${version}-${(await sha256Hex([text])).slice(0, 16)}.snapshot`;
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
