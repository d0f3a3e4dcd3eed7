/**
 * `python.packages` for a loaded config: the wheels they resolved to (the config check resolved
 * them, and reported what does not resolve at its place) installed into the cache, so the config
 * names the folder workers put on `sys.path`.
 *
 * Boundary: config loading (src/config/files.ts); main thread or a worker.
 *
 * @module
 */
import type { Config } from "../config/load.ts";
import { ConfigError } from "../config/document.ts";
import { installWheels } from "./install.ts";

/**
 * Installs a config's `python.packages`.
 *
 * @param config a validated config
 * @param cacheDir the cache folder
 * @returns the config with `python.site` set (null when it names no packages)
 * @throws {ConfigError} when the cache cannot be written
 */
export async function installPackages(config: Config, cacheDir: string): Promise<Config> {
  const site = await installSite({ file: config.file, wheels: config.python.wheels, cacheDir });
  return site ? { ...config, python: { ...config.python, site } } : config;
}

/**
 * Installs wheels into the cache.
 *
 * @param what the config file (for the error), its resolved wheels and the cache folder
 * @returns the folder they are installed in, or null for no wheels
 * @throws {ConfigError} when the cache cannot be written
 */
export async function installSite(
  what: { file: string; wheels: string[]; cacheDir: string },
): Promise<string | null> {
  if (what.wheels.length === 0) return null;
  try {
    return await installWheels(what.wheels, what.cacheDir);
  } catch (e) {
    throw ConfigError.about(
      what.file,
      "python.packages",
      `${(e as Error).message}; check that ${what.cacheDir} is writable, or set SIPHON_CACHE_DIR`,
    );
  }
}
