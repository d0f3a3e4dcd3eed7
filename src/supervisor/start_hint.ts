/**
 * Which snapshot the last start of a config used, kept in the cache folder (`starts.json`): the
 * head start (./head_start.ts) begins before the config is read, so for a config with
 * `python.packages` it would otherwise restore the plain snapshot in worker 1, only to drop it
 * when the config asks for the one with the packages imported.
 *
 * Boundary: main thread; read by the head start, written once a start or reload is serving.
 *
 * @module
 */
import { join } from "node:path";
import { defaultCacheDir } from "../pyodide/assets.ts";

/**
 * The folder of installed packages a config's last start used.
 *
 * @param configFile the config file, absolute
 * @param env the environment (its cache folder)
 * @returns the folder, or null (none, or unknown)
 */
export function lastSite(configFile: string, env: Record<string, string>): string | null {
  try {
    const file = join(defaultCacheDir(env), "starts.json");
    const site = JSON.parse(Deno.readTextFileSync(file))[configFile];
    return typeof site === "string" && Deno.statSync(join(site, ".complete")).isFile ? site : null;
  } catch {
    return null;
  }
}

/**
 * Notes the folder of installed packages a config is served with (best effort: a cache folder
 * that cannot be written only costs the next start its head start).
 *
 * @param configFile the config file, absolute
 * @param site its `python.site`
 * @param env the environment (its cache folder)
 */
export function rememberSite(
  configFile: string,
  site: string | null,
  env: Record<string, string>,
): void {
  const file = join(defaultCacheDir(env), "starts.json");
  try {
    let starts: Record<string, string> = {};
    try {
      starts = JSON.parse(Deno.readTextFileSync(file));
    } catch { /* first one */ }
    if ((starts[configFile] ?? null) === site) return;
    if (site) starts[configFile] = site; // only configs with packages have something to remember
    else delete starts[configFile];
    const tmp = `${file}.${Deno.pid}.tmp`;
    Deno.writeTextFileSync(tmp, JSON.stringify(starts, null, 1) + "\n");
    Deno.renameSync(tmp, file);
  } catch { /* see above */ }
}
