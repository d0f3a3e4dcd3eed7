/**
 * Installs resolved wheels once per host: their files are unpacked into a folder of the cache
 * named after the wheels' contents (`<cache>/packages/<hash>/`), which every worker then mounts
 * read-only and puts on `sys.path`. A changed wheel is a new folder; an unchanged set is never
 * unpacked again.
 *
 * Boundary: main thread or a worker, at config load.
 *
 * @module
 */
import { dirname, join, normalize } from "node:path";
import { unzipSync } from "fflate";
import { sha256Hex } from "../digest.ts";

/**
 * Unpacks the wheels into their folder of the cache, unless it is there already.
 *
 * @param wheels the resolved wheel files
 * @param cacheDir the cache folder
 * @returns the folder to put on `sys.path`
 * @throws {Error} when a wheel cannot be read or the cache cannot be written
 */
export async function installWheels(wheels: readonly string[], cacheDir: string): Promise<string> {
  const files = [...wheels].sort();
  const contents = files.map((f) => Deno.readFileSync(f));
  const site = join(cacheDir, "packages", await digest(files, contents));
  if (complete(site)) return site;
  const tmp = `${site}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const clean = () => Deno.removeSync(tmp, { recursive: true });
  try {
    Deno.mkdirSync(tmp, { recursive: true });
    files.forEach((file, i) => unpack(file, contents[i], tmp));
    Deno.writeTextFileSync(join(tmp, ".complete"), files.join("\n") + "\n");
    Deno.renameSync(tmp, site);
  } catch (e) {
    try {
      clean();
    } catch { /* nothing left */ }
    // Another process may have installed the same set meanwhile: theirs is as good.
    if (!complete(site)) {
      throw new Error(`Cannot install the wheels into ${site}: ${(e as Error).message}`);
    }
  }
  return site;
}

function complete(site: string): boolean {
  try {
    return Deno.statSync(join(site, ".complete")).isFile;
  } catch {
    return false;
  }
}

/** The folder's name: a hash over the wheels' names and bytes. */
async function digest(files: string[], contents: Uint8Array[]): Promise<string> {
  const hex = await sha256Hex(files.flatMap((f, i) => [f.split("/").pop() + "\0", contents[i]]));
  return hex.slice(0, 16);
}

/** Writes a wheel's files under `into`; `*.data/purelib|platlib/` go to the top. */
function unpack(file: string, bytes: Uint8Array, into: string): void {
  for (const [name, data] of Object.entries(unzipSync(bytes))) {
    if (name.endsWith("/")) continue;
    const path = normalize(name.replace(/^[^/]+\.data\/(purelib|platlib)\//, ""));
    if (/^[^/]+\.data\//.test(path)) continue; // scripts, headers, data: not for Pyodide
    if (path.startsWith("..") || path.startsWith("/")) {
      throw new Error(`${file} has an entry outside its folder: ${name}`);
    }
    Deno.mkdirSync(dirname(join(into, path)), { recursive: true });
    Deno.writeFileSync(join(into, path), data);
  }
}
