/**
 * Loads http.yaml: parse (keeping positions), expand `${VAR:-default}`, validate with the schema,
 * resolve paths against the file's own folder, and check what the schema cannot (files exist,
 * templates parse, listeners and routes do not collide).
 *
 * Boundary: supervisor-side. Every problem becomes one line `file:line:col: field.path: message`;
 * the server never starts on a config with a problem.
 *
 * @module
 */
import { isAbsolute, resolve } from "node:path";
import { isMap, isScalar, LineCounter, type Node, parseDocument, visit } from "yaml";
import type { z } from "zod";
import { expandEnv, ExpandError } from "./expand.ts";
import { configSchema, knownKeysAt, type RawConfig } from "./schema.ts";
import { closest } from "./suggest.ts";
import { checkSemantics } from "./semantics.ts";

/** One problem in a config file. `line` and `col` are 1-based. */
export interface ConfigProblem {
  file: string;
  line: number;
  col: number;
  /** Field path like `servers[0].listen`; empty for a syntax error. */
  path: string;
  message: string;
}

/** A config that cannot be used; `message` has one line per problem. */
export class ConfigError extends Error {
  /**
   * @param problems every problem found, in file order
   */
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
  }
}

/** A route declared in http.yaml, with where it was declared. */
export type ConfigRoute = RawConfig["routes"][number] & { source: string };

/** A validated config with absolute paths. */
export type Config = Omit<RawConfig, "workers" | "routes"> & {
  /** The config file as the user named it (used in messages). */
  file: string;
  /** Absolute folder of the config file; relative paths resolve against it. */
  dir: string;
  /** Worker count with `auto` resolved. */
  workers: number;
  routes: ConfigRoute[];
};

/** What {@link parseConfig} needs besides the text. */
export interface ParseOptions {
  /** The file name to use in messages. */
  file: string;
  /** Folder that relative paths resolve against. */
  dir: string;
  /** Environment for `${VAR}` expansion. */
  env: Readonly<Record<string, string>>;
  /** Core count for `workers: auto`. @default navigator.hardwareConcurrency */
  cores?: number;
}

/**
 * Reads and validates a config file.
 *
 * @param file path to http.yaml
 * @param env environment for `${VAR}` expansion
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
): Promise<Config> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw new ConfigError([{
      file,
      line: 1,
      col: 1,
      path: "",
      message: `Cannot read the config file: ${(e as Error).message}`,
    }]);
  }
  return parseConfig(text, { file, dir: resolve(file, ".."), env });
}

/** Command-line settings that win over http.yaml's `log:`, on start and on every reload. */
export type LogOverrides = Partial<Config["log"]>;

/**
 * Applies command-line log settings to a loaded config.
 *
 * @param config the config as loaded
 * @param overrides `--log-level`, `--log-format`, `--access-log`; unset keys keep http.yaml's
 * @returns the config with those settings
 * @example
 * ```ts
 * const config = withLogOverrides(await loadConfig("http.yaml"), { format: "json" });
 * ```
 */
export function withLogOverrides(config: Config, overrides: LogOverrides): Config {
  const set = Object.entries(overrides).filter(([, v]) => v !== undefined);
  return set.length ? { ...config, log: { ...config.log, ...Object.fromEntries(set) } } : config;
}

/**
 * Validates config text.
 *
 * @param text the YAML source
 * @param options file name, folder and environment
 * @returns the validated config
 * @throws {ConfigError} listing every problem with its position
 */
export function parseConfig(text: string, options: ParseOptions): Config {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number, path: string, message: string): ConfigProblem => {
    const pos = lines.linePos(offset);
    return { file: options.file, line: pos.line, col: pos.col, path, message };
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => at(e.pos[0], "", `YAML syntax error: ${e.message.split("\n")[0]}`)),
    );
  }
  const problems: ConfigProblem[] = [];
  expandScalars(
    doc.contents,
    options.env,
    (offset, path, msg) => problems.push(at(offset, path, msg)),
  );
  if (problems.length) throw new ConfigError(problems);

  const input = doc.toJS() ?? {};
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new ConfigError([at(0, "", "expected a mapping of keys like script: and servers:")]);
  }
  const result = configSchema.safeParse(input);
  const nodeAt = (path: readonly PropertyKey[]): Node | null => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
      if (node?.range) return node;
    }
    return null;
  };
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push(...describeIssue(issue, input, doc, nodeAt, at));
    }
    throw new ConfigError(sortProblems(problems));
  }
  const config = resolvePaths(result.data, options);
  checkSemantics(config, nodeAt, at, problems);
  if (problems.length) throw new ConfigError(sortProblems(problems));
  return config;
}

/** A problem at an offset of the document, with its field path. */
export type At = (offset: number, path: string, message: string) => ConfigProblem;
/** The document's node at a field path, or null. */
export type NodeAt = (path: readonly PropertyKey[]) => Node | null;

function expandScalars(
  root: unknown,
  env: Readonly<Record<string, string>>,
  report: (offset: number, path: string, message: string) => void,
): void {
  visit(root as Node, {
    Scalar(key, node, ancestors) {
      if (key === "key" || typeof node.value !== "string" || !node.range) return;
      try {
        node.value = expandEnv(node.value, env);
      } catch (e) {
        if (!(e instanceof ExpandError)) throw e;
        const quoted = node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE" ? 1 : 0;
        report(node.range[0] + quoted + e.offset, pathOf(ancestors, node), e.message);
      }
    },
  });
}

/** Builds `servers[0].listen` from the yaml visitor's ancestor chain. */
function pathOf(ancestors: readonly unknown[], node: unknown): string {
  const parts: PropertyKey[] = [];
  let child = node;
  for (let i = ancestors.length - 1; i >= 0; i--) {
    const a = ancestors[i] as { key?: unknown; value?: unknown; items?: unknown[] };
    if (a && "key" in a && "value" in a && a.value === child) {
      parts.unshift(isScalar(a.key) ? String(a.key.value) : String(a.key));
    } else if (a?.items && !isMap(a)) {
      const index = a.items.indexOf(child);
      if (index >= 0) parts.unshift(index);
    }
    child = a;
  }
  return formatPath(parts);
}

/** Formats a field path: `["servers", 0, "listen"]` → `servers[0].listen`. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : (i ? "." : "") + String(p)).join("");
}

function describeIssue(
  issue: z.core.$ZodIssue,
  input: unknown,
  doc: ReturnType<typeof parseDocument>,
  nodeAt: NodeAt,
  at: At,
): ConfigProblem[] {
  const node = nodeAt(issue.path);
  const offset = node?.range?.[0] ?? 0;
  if (issue.code === "unrecognized_keys") {
    const map = doc.getIn(issue.path as unknown[], true);
    return issue.keys.map((key) => {
      const pair = isMap(map)
        ? map.items.find((p) => isScalar(p.key) && p.key.value === key)
        : null;
      const keyOffset = (pair && isScalar(pair.key) && pair.key.range?.[0]) || offset;
      return at(keyOffset, formatPath([...issue.path, key]), unknownKey(key, issue.path));
    });
  }
  const value = valueAt(input, issue.path);
  const path = formatPath(issue.path);
  if (value === undefined) {
    return [at(offset, path, "required key is missing")];
  }
  switch (issue.code) {
    case "invalid_type":
      return [at(offset, path, `expected ${issue.expected}, got ${describe(value)}`)];
    case "invalid_value":
      return [
        at(offset, path, `expected one of ${issue.values.join(", ")}, got ${describe(value)}`),
      ];
    case "too_small":
      return [
        at(
          offset,
          path,
          Array.isArray(value) ? `expected at least ${issue.minimum} item` : "must not be empty",
        ),
      ];
    case "invalid_format":
      return [at(offset, path, `${issue.message}, got ${describe(value)}`)];
    default:
      return [at(offset, path, issue.message)];
  }
}

function unknownKey(key: string, parent: readonly PropertyKey[]): string {
  const known = knownKeysAt(parent);
  const guess = closest(key, known);
  return guess
    ? `unknown key "${key}"; did you mean "${guess}"?`
    : `unknown key "${key}"; known keys here: ${known.join(", ")}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v = root;
  for (const p of path) v = (v as Record<PropertyKey, unknown> | undefined)?.[p];
  return v;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "a mapping";
  return typeof v === "string" ? JSON.stringify(v) : `${typeof v} ${String(v)}`;
}

function resolvePaths(raw: RawConfig, options: ParseOptions): Config {
  const abs = (p: string) => isAbsolute(p) ? p : resolve(options.dir, p);
  return {
    ...raw,
    file: options.file,
    dir: options.dir,
    script: abs(raw.script),
    workers: raw.workers === "auto"
      ? (options.cores ?? navigator.hardwareConcurrency)
      : raw.workers,
    servers: raw.servers.map((s) =>
      s.tls
        ? {
          ...s,
          tls: {
            cert_path: abs(s.tls.cert_path),
            key_path: abs(s.tls.key_path),
            client_ca: s.tls.client_ca && abs(s.tls.client_ca),
          },
        }
        : s
    ),
    routes: raw.routes.map((r) => ({ ...r, source: "" })),
    clients: Object.fromEntries(
      Object.entries(raw.clients).map(([name, c]) => [name, {
        ...c,
        verify: c.verify && abs(c.verify),
        cert: c.cert && abs(c.cert),
        key: c.key && abs(c.key),
      }]),
    ),
    python: { mounts: raw.python.mounts.map((m) => ({ ...m, host: abs(m.host) })) },
  };
}

function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.col - b.col);
}

function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}:${p.col}: ${p.path ? p.path + ": " : ""}${p.message}`;
}
