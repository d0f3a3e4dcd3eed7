/**
 * The command line's flags and where paths on it resolve: shared by the CLI (src/cli.ts) and by
 * `serve`'s head start (src/start/head_start.ts), which needs the config file's name before
 * the CLI's modules are loaded — one parser, so the two never read a command line differently.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";

/** Every flag of every command. */
export const OPTIONS = {
  config: { type: "string", short: "c" },
  app: { type: "string" },
  admin: { type: "string" },
  "no-watch": { type: "boolean", default: false },
  "log-format": { type: "string" },
  "log-level": { type: "string" },
  "access-log": { type: "boolean" },
  url: { type: "string" },
  out: { type: "string", default: "typings" },
  keyword: { type: "string", short: "k" },
  version: { type: "boolean", short: "V" },
  help: { type: "boolean", short: "h" },
} as const;

/**
 * Parses a command line.
 *
 * @param args the command line, without the program name
 * @returns the flags' values and the positionals (the command first)
 * @throws {TypeError} on an unknown flag or a flag without its value
 */
export function parseCommandLine(args: string[]) {
  return parseArgs({ args, allowPositionals: true, options: OPTIONS });
}

/**
 * The folder the user ran the command in: `deno task` runs tasks in the repository root and
 * passes that folder as INIT_CWD, so relative paths on the command line resolve against it.
 *
 * @returns an absolute folder
 */
export const userFolder = (): string => Deno.env.get("INIT_CWD") || Deno.cwd();

/**
 * A path from the command line, absolute.
 *
 * @param path as the user wrote it
 * @returns resolved against {@link userFolder}
 */
export const fromUser = (path: string): string => resolve(userFolder(), path);

/** The config a command reads when none is named. */
export const DEFAULT_CONFIG = "http.yaml";

/** The environment variable that sets the admin listener as `--admin` does. */
export const ADMIN_ENV = "SIPHON_ADMIN";

/**
 * The config file `serve` or `check` reads, as the user wrote it: `--config FILE`, or the one
 * positional after the command (`serve examples/hello/http.yaml`), else ./http.yaml.
 *
 * @param values the parsed flags
 * @param positionals the positionals, the command first
 * @returns the path, not yet resolved
 * @throws {TypeError} when the config is named twice, or another argument is left over
 */
export function configArgument(values: { config?: string }, positionals: string[]): string {
  const [, given, ...rest] = positionals;
  if (rest.length) throw new TypeError(`unexpected argument "${rest[0]}"`);
  if (given !== undefined && values.config !== undefined) {
    throw new TypeError(
      `the config is named twice ("${given}" and --config ${values.config}); give one`,
    );
  }
  return given ?? values.config ?? DEFAULT_CONFIG;
}

/**
 * The admin address the command line or the environment sets: `--admin`, else SIPHON_ADMIN.
 *
 * @param values the parsed flags
 * @param env the environment
 * @returns the value and where it was given, or undefined for neither
 */
export function adminArgument(
  values: { admin?: string },
  env: { get(name: string): string | undefined },
): { value: string; from: string } | undefined {
  if (values.admin !== undefined) return { value: values.admin, from: "--admin" };
  const fromEnv = env.get(ADMIN_ENV);
  return fromEnv ? { value: fromEnv, from: ADMIN_ENV } : undefined;
}
