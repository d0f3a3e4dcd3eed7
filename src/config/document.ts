/**
 * Positions in YAML config files: parsing with line counting, `${VAR}` expansion in place,
 * node lookup by field path, schema issues as `file:line:col: path: message` problems with
 * "did you mean". Both config formats (http.yaml, siphon.yaml) read through here.
 *
 * @module
 */
import { isMap, isScalar, LineCounter, type Node, parseDocument, visit } from "yaml";
import type { z } from "zod";
import { expandEnv, ExpandError } from "./expand.ts";
import { closest } from "./suggest.ts";

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

  /**
   * One problem with what a key points at outside the file (the script, the package cache),
   * reported at the file's start.
   *
   * @param file the config file
   * @param path the key, e.g. `python.packages`
   * @param message what is wrong and what to do
   * @returns the error
   */
  static about(file: string, path: string, message: string): ConfigError {
    return new ConfigError([{ file, line: 1, col: 1, path, message }]);
  }
}

/** A problem at an offset of the document, with its field path. */
export type At = (offset: number, path: string, message: string) => ConfigProblem;
/** The document's node at a field path, or null. */
export type NodeAt = (path: readonly PropertyKey[]) => Node | null;

/**
 * Finds the nearest node of a document along a field path.
 *
 * @param doc the parsed document
 * @returns the lookup: the node at the path, or at the longest prefix of it that exists
 */
export function nodeFinder(doc: ReturnType<typeof parseDocument>): NodeAt {
  return (path) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
      if (node?.range) return node;
    }
    return null;
  };
}

/**
 * The offset of the key at the end of a field path (`listen` in `listen:`), or of the nearest
 * node there is when it is not a key of a mapping.
 *
 * @param doc the parsed document
 * @param path the field path
 * @returns an offset into the text
 */
export function keyOffset(
  doc: ReturnType<typeof parseDocument>,
  path: readonly PropertyKey[],
): number {
  const parent = doc.getIn(path.slice(0, -1) as unknown[], true);
  const last = path.at(-1);
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
    if (pair && isScalar(pair.key) && pair.key.range) return pair.key.range[0];
  }
  return nodeFinder(doc)(path)?.range?.[0] ?? 0;
}

/** A parsed, expanded document with its position helpers. */
export interface ReadDocument {
  doc: ReturnType<typeof parseDocument>;
  /** The document as data: a mapping. */
  input: Record<string, unknown>;
  at: At;
  nodeAt: NodeAt;
}

/**
 * Parses config text keeping positions and expands `${VAR}` in its values.
 *
 * @param text the YAML source
 * @param file the file name to use in messages
 * @param env the variables for expansion
 * @returns the document, as data and with its position helpers
 * @throws {ConfigError} for syntax errors, bad references, or a top level that is no mapping
 */
export function readDocument(
  text: string,
  file: string,
  env: Readonly<Record<string, string>>,
): ReadDocument {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at: At = (offset, path, message) => {
    const pos = lines.linePos(offset);
    return { file, line: pos.line, col: pos.col, path, message };
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => at(e.pos[0], "", `YAML syntax error: ${e.message.split("\n")[0]}`)),
    );
  }
  const problems: ConfigProblem[] = [];
  expandScalars(doc.contents, env, (offset, path, msg) => problems.push(at(offset, path, msg)));
  if (problems.length) throw new ConfigError(problems);
  const input = doc.toJS() ?? {};
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new ConfigError([at(0, "", "expected a mapping of keys like script: and servers:")]);
  }
  return { doc, input, at, nodeAt: nodeFinder(doc) };
}

/**
 * Expands `${VAR}` in every scalar of a document, in place.
 *
 * @param root the document's contents
 * @param env the variables
 * @param report called for each reference that cannot be expanded
 */
export function expandScalars(
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

/**
 * One schema issue as positioned problems (an unknown key names the closest known one).
 *
 * @param issue the validation issue
 * @param input the document as data
 * @param doc the document
 * @param nodeAt node lookup
 * @param at problem maker
 * @param known the keys a mapping at a path accepts
 * @returns the problems
 */
export function describeIssue(
  issue: z.core.$ZodIssue,
  input: unknown,
  doc: ReturnType<typeof parseDocument>,
  nodeAt: NodeAt,
  at: At,
  known: (path: readonly PropertyKey[]) => string[],
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
      return at(keyOffset, formatPath([...issue.path, key]), unknownKey(key, known(issue.path)));
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

function unknownKey(key: string, known: string[]): string {
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

/**
 * Orders problems by position.
 *
 * @param problems the problems (sorted in place)
 * @returns the same array
 */
export function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.sort((a, b) => a.line - b.line || a.col - b.col);
}

/**
 * One problem as a line: `file:line:col: path: message`.
 *
 * @param p the problem
 * @returns the line
 */
export function formatProblem(p: ConfigProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.col}` : p.file; // line 0: a flag's value
  return `${where}: ${p.path ? p.path + ": " : ""}${p.message}`;
}

/**
 * Reads a config file.
 *
 * @param file the path
 * @param where the position a failure is reported at @default the file's first line
 * @returns the text
 * @throws {ConfigError} when it cannot be read
 */
export async function readConfigText(
  file: string,
  where: Omit<ConfigProblem, "message"> = { file, line: 1, col: 1, path: "" },
): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (e) {
    const missing = e instanceof Deno.errors.NotFound;
    const top = where.line === 1 && where.path === "";
    throw new ConfigError([{
      ...where,
      // the file named by the command line: its path once, and what to do
      ...(top ? { line: 0, col: 0 } : {}),
      message: missing
        ? (top ? "" : `${file}: `) +
          "no such config file; name one with --config path/to/http.yaml (or siphon.yaml), " +
          "or run the command in the folder that has http.yaml"
        : `cannot read the config file${top ? "" : ` ${file}`}: ${errorText(e)}`,
    }]);
  }
}

/** An error's message without Deno's trailing `: readfile '/path'` (the path is said already). */
function errorText(e: unknown): string {
  return (e as Error).message.replace(/: \w+ '[^']*'$/, "");
}
