/**
 * What a reload moves to: the config file as it is now — valid, its new addresses free — and
 * the interpreter start it needs: the serving one, or, when its `python.packages` differ, a
 * snapshot with the new ones imported (built beside the serving generation when the cache has
 * none).
 *
 * Boundary: supervisor-side, called by {@link Supervisor.reload}.
 *
 * @module
 */
import {
  type Config,
  ConfigError,
  type ConfigOverrides,
  type LogOverrides,
  withLogOverrides,
} from "../config/load.ts";
import { loadConfig } from "../config/files.ts";
import type { Logger } from "../log.ts";
import { AddressInUseError, assertAddressesFree } from "./ports.ts";
import { preparePython, type PythonStart } from "../snapshot/build.ts";

/** Options for {@link nextGeneration}. */
export interface NextOptions {
  configFile: string;
  env: Record<string, string>;
  /** Command-line log settings (`--log-level` …), over the file's. @default {} */
  logOverrides?: LogOverrides;
  /** The command line's `--app` and `--admin` (or SIPHON_ADMIN), over the file's. */
  configOverrides?: ConfigOverrides;
  /** The serving config. */
  current: Config;
  /** The serving interpreter start. */
  python: PythonStart | Promise<PythonStart>;
  /** How many workers serve (a change of `workers:` waits for a restart). */
  workers: number;
  log: Logger;
}

/**
 * Reads and checks the next config and finds its interpreter start.
 *
 * @param options the file, environment, what serves now
 * @returns the config and the start
 * @throws {Error} with the config's problems (file:line:col) or the taken address
 */
export async function nextGeneration(
  options: NextOptions,
): Promise<{ config: Config; python: PythonStart }> {
  const { current, log } = options;
  let config: Config;
  try {
    config = withLogOverrides(
      await loadConfig(options.configFile, {
        env: options.env,
        overrides: options.configOverrides,
      }),
      options.logOverrides ?? {},
    );
    assertAddressesFree(config, new Set(current.servers.map((s) => s.listen.text)));
  } catch (e) {
    if (e instanceof ConfigError || e instanceof AddressInUseError) throw new Error(e.message);
    throw e;
  }
  if (config.workers !== options.workers) {
    log.warning(
      `workers: ${options.workers} → ${config.workers} takes effect on restart; ` +
        `reloading with ${options.workers}`,
    );
  }
  const serving = await options.python;
  if (config.python.site === current.python.site) return { config, python: serving };
  const wasm = Promise.resolve(serving.wasm);
  return { config, python: await preparePython({ log, site: config.python.site, wasm }) };
}
