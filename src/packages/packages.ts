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
  const { wheels } = config.python;
  if (wheels.length === 0) return config;
  try {
    const site = await installWheels(wheels, cacheDir);
    return { ...config, python: { ...config.python, site } };
  } catch (e) {
    throw ConfigError.about(
      config.file,
      "python.packages",
      `${(e as Error).message}; check that ${cacheDir} is writable, or set SIPHON_CACHE_DIR`,
    );
  }
}
