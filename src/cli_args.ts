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
  config: { type: "string", short: "c", default: "http.yaml" },
  app: { type: "string" },
  "no-watch": { type: "boolean", default: false },
  "log-format": { type: "string" },
  "log-level": { type: "string" },
  "access-log": { type: "boolean" },
  url: { type: "string", default: "http://127.0.0.1:9091/healthz" },
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
