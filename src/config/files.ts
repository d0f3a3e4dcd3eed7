/**
 * Reads a config file of either format: an http.yaml, or siphon-http's siphon.yaml with the
 * http addon config it names (told apart by their top-level keys).
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import { defaultCacheDir } from "../pyodide/assets.ts";
import { installPackages } from "../packages/packages.ts";
import { readConfigText } from "./document.ts";
import { type Config, ConfigError, type ConfigOverrides, parseConfig } from "./load.ts";
import { isSiphonYaml, loadSiphonYaml } from "./siphon_yaml.ts";

/** What {@link loadConfig} may be given besides the file. */
export interface LoadConfigOptions {
  /** Environment for `${VAR}` expansion. @default Deno.env */
  env?: Readonly<Record<string, string>>;
  /** Where a siphon.yaml's relative paths start (`deno task` passes the user's folder as
   * INIT_CWD). @default INIT_CWD, else the working folder */
  cwd?: string;
  /** Installs `python.packages` into the cache (the script-test thread, which may not write
   * the cache, asks the main thread to). @default installPackages */
  install?: (config: Config, cacheDir: string) => Promise<Config>;
  /** What the command line and environment set over the file (`--app`, `--admin`). */
  overrides?: ConfigOverrides;
}

/**
 * Reads and validates a config file: an http.yaml, or a siphon.yaml with its addon config.
 *
 * @param file path to the file
 * @param options environment, folder, installer and the command line's overrides
 * @returns the validated config
 * @throws {ConfigError} listing every problem with its position
 * @example
 * ```ts
 * const config = await loadConfig("examples/hello/http.yaml");
 * ```
 */
export async function loadConfig(file: string, options: LoadConfigOptions = {}): Promise<Config> {
  const env = options.env ?? Deno.env.toObject();
  const cwd = options.cwd ?? (Deno.env.get("INIT_CWD") || Deno.cwd());
  const { install = installPackages, overrides } = options;
  const text = await readConfigText(file);
  const config = looksLikeSiphonYaml(text)
    ? await loadSiphonYaml(file, text, { env, cwd, overrides })
    : parseConfig(text, {
      file,
      dir: resolve(file, ".."),
      env,
      sources: [resolve(file)],
      overrides,
    });
  const installed = await install(config, defaultCacheDir(env));
  return { ...installed, code: await readCode(installed) };
}

/** The most of the script's folder read with it; past it, modules are read when imported. */
export const MAX_CODE_BYTES = 16 << 20;

/**
 * The script and the `.py` files beside it, as they are now (a generation runs these texts).
 *
 * @param config the config (its script path)
 * @returns text by absolute path; the script always, the others while they fit
 *   {@link MAX_CODE_BYTES}
 * @throws {ConfigError} when the script cannot be read
 */
async function readCode(config: Config): Promise<Record<string, string>> {
  const code: Record<string, string> = {};
  try {
    code[config.script] = await Deno.readTextFile(config.script);
  } catch (e) {
    throw ConfigError.about(
      config.file,
      "script",
      `cannot read the script ${config.script}: ${(e as Error).message}`,
    );
  }
  let total = code[config.script].length;
  const folder = dirname(config.script);
  try {
    for await (const entry of Deno.readDir(folder)) {
      const path = join(folder, entry.name);
      if (!entry.isFile || !entry.name.endsWith(".py") || path in code) continue;
      const text = await Deno.readTextFile(path).catch(() => null);
      if (text === null || total + text.length > MAX_CODE_BYTES) continue;
      total += text.length;
      code[path] = text;
    }
  } catch { /* the folder cannot be listed: the script alone */ }
  return code;
}

/** A siphon.yaml (siphon-http's main config) rather than an http.yaml. */
function looksLikeSiphonYaml(text: string): boolean {
  try {
    return isSiphonYaml(parse(text));
  } catch {
    return false; // parseConfig reports the syntax error with its position
  }
}
