/**
 * What the last start of a config used, kept in the cache folder (`starts.json`): the folder of
 * its installed `python.packages` (whose snapshot worker 1 restores) and its workers' Deno
 * permissions. The head start (./head_start.ts) begins worker 1 before the config is read; a
 * thread's permissions are fixed when it starts, so without the last start's it cannot start
 * one, and with `python.packages` it would otherwise restore the plain snapshot only to drop it.
 *
 * Boundary: main thread; read by the head start, written once a start or reload is serving.
 *
 * @module
 */
import { join } from "node:path";
import { defaultCacheDir } from "../pyodide/assets.ts";
import type { WorkerPermissions } from "../supervisor/permissions.ts";

/** What a config's last start used. */
export interface StartHint {
  /** Its installed packages' folder, or null. */
  site: string | null;
  /** Its request workers' permissions. */
  permissions: WorkerPermissions;
}

/**
 * What a config's last start used.
 *
 * @param configFile the config file, absolute
 * @param env the environment (its cache folder)
 * @returns the hint, or null (none, or unusable)
 */
export function lastStart(configFile: string, env: Record<string, string>): StartHint | null {
  try {
    const file = join(defaultCacheDir(env), "starts.json");
    const hint = JSON.parse(Deno.readTextFileSync(file))[configFile];
    if (!hint || typeof hint !== "object" || typeof hint.permissions !== "object") return null;
    const site = typeof hint.site === "string" &&
        Deno.statSync(join(hint.site, ".complete")).isFile
      ? hint.site
      : null;
    return { site, permissions: hint.permissions };
  } catch {
    return null;
  }
}

/**
 * Notes what a config is served with (best effort: a cache folder that cannot be written only
 * costs the next start its head start).
 *
 * @param configFile the config file, absolute
 * @param hint its `python.site` and its workers' permissions
 * @param env the environment (its cache folder)
 */
export function rememberStart(
  configFile: string,
  hint: StartHint,
  env: Record<string, string>,
): void {
  const file = join(defaultCacheDir(env), "starts.json");
  try {
    let starts: Record<string, unknown> = {};
    try {
      starts = JSON.parse(Deno.readTextFileSync(file));
    } catch { /* first one */ }
    if (JSON.stringify(starts[configFile]) === JSON.stringify(hint)) return;
    starts[configFile] = hint;
    const tmp = `${file}.${Deno.pid}.tmp`;
    Deno.writeTextFileSync(tmp, JSON.stringify(starts, null, 1) + "\n");
    Deno.renameSync(tmp, file);
  } catch { /* see above */ }
}
