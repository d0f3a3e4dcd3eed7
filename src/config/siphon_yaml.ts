/**
 * siphon-http's own config files: a `siphon.yaml` whose `script.path` names the script, whose
 * `cache:` lists the caches and whose `extensions.http` names the http addon config (`servers`,
 * `clients`, and any of http.yaml's other keys). Relative paths resolve against the working
 * folder, as siphon-http resolves them. The siphon core's SIP settings (`listen`, `domain`,
 * `registrar` …) are accepted with a warning each; an unknown key is an error naming the
 * closest known one.
 *
 * Boundary: supervisor-side; the result is the same {@link Config} an http.yaml gives.
 *
 * @module
 */
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_VALUE_BYTES } from "../cache/memory_store.ts";
import { resolve } from "node:path";
import { z } from "zod";
import {
  ConfigError,
  type ConfigProblem,
  describeIssue,
  formatPath,
  keyOffset,
  readConfigText,
  readDocument,
  sortProblems,
} from "./document.ts";
import { type Config, type ConfigOverrides, parseConfig } from "./load.ts";
import { type CacheSettings, knownKeysAt, type RawConfig, wholeNumber } from "./schema.ts";

/** The siphon core's top-level settings, which an HTTP server has no use for. */
const SIP_CORE = [
  "listen",
  "domain",
  "registrar",
  "auth",
  "advertised_address",
  "tls",
  "security",
  "nat",
  "tracing",
  "metrics",
  "admin",
  "server",
  "transaction",
  "memory",
  "dialog",
  "media",
  "gateway",
  "session_timer",
  "b2bua",
  "cdr",
  "registrant",
  "lawful_intercept",
  "diameter",
  "ipsec",
  "stir",
  "isc",
  "sbi",
  "srs",
  "subscribe_state",
  "rf",
];

/** siphon's Python thread-pool settings: one interpreter per worker has none of them. */
const SCRIPT_POOLS = [
  "async_pool_size",
  "sync_pool_size",
  "sync_pool_max",
  "handler_stall_abort_secs",
  "executor_queue_capacity",
];

const ignored = z.unknown().optional();

const redisUrl = z.string().regex(/^rediss?:\/\/\S+$/, {
  error: "expected a Redis URL like redis://host:6379/0 (omit url for a process-local cache)",
});

const siphonSchema = z.strictObject({
  script: z.strictObject({
    path: z.string().min(1),
    reload: z.enum(["auto", "sighup"]).default("auto"),
    ...Object.fromEntries(SCRIPT_POOLS.map((k) => [k, ignored])),
  }),
  log: z.strictObject({
    level: z.enum(["debug", "info", "warn", "error"]).optional(),
    format: z.enum(["pretty", "json"]).optional(),
    file: ignored,
  }).optional(),
  cache: z.array(z.strictObject({
    name: z.string().min(1),
    url: redisUrl.optional(),
    local_ttl_secs: wholeNumber(1).optional(),
    local_max_entries: wholeNumber(1).optional(),
  })).default([]),
  extensions: z.record(z.string(), z.unknown()),
  ...Object.fromEntries(SIP_CORE.map((k) => [k, ignored])),
});

type SiphonYaml = z.output<typeof siphonSchema>;

/**
 * Whether parsed YAML is a siphon.yaml: an `extensions:` mapping, or `script:` as a mapping
 * (an http.yaml's `script:` is a path).
 *
 * @param data the parsed file
 * @returns true for siphon-http's main config
 */
export function isSiphonYaml(data: unknown): boolean {
  if (!data || typeof data !== "object" || Array.isArray(data)) return false;
  const top = data as Record<string, unknown>;
  return "extensions" in top || (typeof top.script === "object" && top.script !== null);
}

/**
 * Loads a siphon.yaml and the http addon config it names.
 *
 * @param file the siphon.yaml as the user named it
 * @param text its contents
 * @param options environment for `${VAR}`, the working folder relative paths start from, and
 *   the command line's overrides (`--app`, `--admin`)
 * @returns the config, with a warning per siphon setting that is accepted and not used
 * @throws {ConfigError} listing every problem of either file with its position
 */
export async function loadSiphonYaml(
  file: string,
  text: string,
  options: { env: Readonly<Record<string, string>>; cwd: string; overrides?: ConfigOverrides },
): Promise<Config> {
  const { doc, input, at, nodeAt } = readDocument(text, file, options.env);
  const problem = (path: PropertyKey[], message: string): ConfigProblem =>
    at(nodeAt(path)?.range?.[0] ?? 0, formatPath(path), message);
  const result = siphonSchema.safeParse(input);
  if (!result.success) {
    const known = (path: readonly PropertyKey[]) => knownKeysAt(path, siphonSchema);
    throw new ConfigError(sortProblems(
      result.error.issues.flatMap((i) => describeIssue(i, input, doc, nodeAt, at, known)),
    ));
  }
  const siphon = result.data;
  const problems: ConfigProblem[] = [];
  const script = resolve(options.cwd, siphon.script.path);
  if (!isFile(script)) {
    problems.push(problem(
      ["script", "path"],
      `file not found: ${script} (relative paths resolve against the working folder, ` +
        `${options.cwd}, as in siphon-http)`,
    ));
  }
  const addon = siphon.extensions.http;
  if (typeof addon !== "string" || addon === "") {
    problems.push(problem(
      ["extensions", "http"],
      addon === undefined
        ? "required: the path of the http addon config (servers:, clients:), like http.yaml"
        : "expected the path of the http addon config; an inline mapping is not supported " +
          "(nor by siphon-http)",
    ));
  }
  const cache = translateCaches(siphon, problems, problem);
  if (problems.length) throw new ConfigError(sortProblems(problems));
  const addonFile = resolve(options.cwd, addon as string);
  const addonText = await readConfigText(addonFile, {
    ...problem(["extensions", "http"], ""),
  });
  const config = parseConfig(addonText, {
    file: addon as string,
    dir: options.cwd,
    env: options.env,
    sources: [resolve(options.cwd, file), addonFile],
    addon: { from: file, script, cache, log: translateLog(siphon.log) },
    overrides: options.overrides,
  });
  const warnings = unusedKeys(input, siphon)
    .map(([path, why]) => at(keyOffset(doc, path), formatPath(path), why));
  return {
    ...config,
    file,
    warnings: sortProblems(warnings),
    watch: siphon.script.reload === "auto",
  };
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * `cache: [{name, url, local_ttl_secs, local_max_entries}]` as http.yaml's caches: with a url a
 * redis cache (with a process-local copy when `local_ttl_secs` is set), without one a memory
 * cache (siphon-http's process-local LRU).
 */
function translateCaches(
  siphon: SiphonYaml,
  problems: ConfigProblem[],
  problem: (path: PropertyKey[], message: string) => ConfigProblem,
): Record<string, CacheSettings> {
  const out: Record<string, CacheSettings> = {};
  siphon.cache.forEach((c, i) => {
    if (out[c.name]) {
      problems.push(problem(["cache", i, "name"], `cache "${c.name}" is listed twice`));
    }
    out[c.name] = {
      backend: c.url ? "redis" : "memory",
      url: c.url,
      prefix: "",
      max_entries: c.local_max_entries ?? 10000,
      max_bytes: DEFAULT_MAX_BYTES,
      max_value_bytes: DEFAULT_MAX_VALUE_BYTES,
      local_ttl_secs: c.local_ttl_secs,
    };
  });
  return out;
}

function translateLog(log: SiphonYaml["log"]): Partial<RawConfig["log"]> {
  const out: Partial<RawConfig["log"]> = {};
  if (log?.level) out.level = log.level === "warn" ? "warning" : log.level;
  if (log?.format) out.format = log.format;
  return out;
}

/** Each key siphon accepts and this server does not use, with why. */
function unusedKeys(
  input: Record<string, unknown>,
  siphon: SiphonYaml,
): [PropertyKey[], string][] {
  const out: [PropertyKey[], string][] = [];
  for (const key of SIP_CORE) {
    if (key in input) {
      out.push([[key], "a siphon SIP-core setting; siphon-deno serves HTTP only and ignores it"]);
    }
  }
  const script = input.script as Record<string, unknown>;
  for (const key of SCRIPT_POOLS) {
    if (key in script) {
      out.push([
        ["script", key],
        "siphon's Python thread pools do not exist here (one interpreter per worker); " +
        "ignored — set workers: in the http addon config",
      ]);
    }
  }
  if (siphon.log?.file !== undefined) {
    out.push([["log", "file"], "ignored: siphon-deno logs to stderr; redirect it to a file"]);
  }
  siphon.cache.forEach((c, i) => {
    if (c.url && c.local_max_entries !== undefined && c.local_ttl_secs === undefined) {
      out.push([
        ["cache", i, "local_max_entries"],
        "ignored without local_ttl_secs (no local copy is kept), as in siphon-http",
      ]);
    }
  });
  for (const name of Object.keys(siphon.extensions)) {
    if (name !== "http") {
      out.push([["extensions", name], "siphon-deno has only the http extension; ignored"]);
    }
  }
  return out;
}
