/**
 * Reads a config file of either format: an http.yaml, or siphon-http's siphon.yaml with the
 * http addon config it names (told apart by their top-level keys).
 *
 * @module
 */
import { resolve } from "node:path";
import { parse } from "yaml";
import { defaultCacheDir } from "../pyodide/assets.ts";
import { installPackages } from "../packages/packages.ts";
import { readConfigText } from "./document.ts";
import { type Config, parseConfig } from "./load.ts";
import { isSiphonYaml, loadSiphonYaml } from "./siphon_yaml.ts";

/**
 * Reads and validates a config file: an http.yaml, or a siphon.yaml with its addon config.
 *
 * @param file path to the file
 * @param env environment for `${VAR}` expansion
 * @param cwd where a siphon.yaml's relative paths start (`deno task` passes the user's folder
 *   as INIT_CWD)
 * @returns the validated config
 * @throws {ConfigError} listing every problem with its position
 * @example
 * ```ts
 * const config = await loadConfig("examples/hello/http.yaml");
 * ```
 */
export async function loadConfig(
  file: string,
  env: Readonly<Record<string, string>> = Deno.env.toObject(),
  cwd: string = Deno.env.get("INIT_CWD") || Deno.cwd(),
): Promise<Config> {
  const text = await readConfigText(file);
  const config = looksLikeSiphonYaml(text)
    ? await loadSiphonYaml(file, text, { env, cwd })
    : parseConfig(text, { file, dir: resolve(file, ".."), env, sources: [resolve(file)] });
  return await installPackages(config, defaultCacheDir(env));
}

/** A siphon.yaml (siphon-http's main config) rather than an http.yaml. */
function looksLikeSiphonYaml(text: string): boolean {
  try {
    return isSiphonYaml(parse(text));
  } catch {
    return false; // parseConfig reports the syntax error with its position
  }
}
