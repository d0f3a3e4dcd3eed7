/**
 * The route table: templates compiled once into a frozen segment trie.
 *
 * Boundary: wire-layer work. The router answers "which route, with which decoded parameter
 * values" or 400/404/405; converting `int` values to Python ints is Python's (the router only
 * guarantees they fit). Priority at each segment: static, then `int`/`uuid`, then `str`, then a
 * catch-all; a route that fits the path but not the method is passed over for one that fits both.
 *
 * @module
 */
import { percentDecode } from "../http/percent.ts";
import { parseTemplate, type Segment, shapeOf } from "./template.ts";

/** A route to compile. `id` is what {@link Router.match} returns; `source` names where it came from. */
export interface RouteDef {
  /** The path template, e.g. `/users/{id:int}`. */
  template: string;
  /** Upper-case HTTP methods. */
  methods: readonly string[];
  /** Caller's identifier for the route; returned on a match. */
  id: number;
  /** Where it was declared, for error messages: `http.yaml:12:5` or `app.py:10`. */
  source: string;
}

/** The outcome of {@link Router.match}. `params` are decoded values in template order. */
export type Match =
  | { status: 200; route: number; params: string[] }
  | { status: 404 }
  | { status: 405; allow: string }
  | { status: 400; reason: string };

/** Two routes that no request could tell apart. */
export class RouteConflictError extends Error {
  /**
   * @param first the route declared first
   * @param second the route that repeats it
   * @param method the method both claim
   */
  constructor(readonly first: RouteDef, readonly second: RouteDef, readonly method: string) {
    super(
      `Cannot add route ${method} ${second.template} (${second.source}): it can never be told ` +
        `apart from ${method} ${first.template} (${first.source}); change one path or method`,
    );
    this.name = "RouteConflictError";
  }
}

interface Terminal {
  byMethod: Map<string, number>;
  allow: string[];
}

interface TrieNode {
  statics: Map<string, TrieNode> | null;
  int: TrieNode | null;
  uuid: TrieNode | null;
  str: TrieNode | null;
  catchall: Terminal | null;
  end: Terminal | null;
}

const INT = /^-?[0-9]+$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const NOT_FOUND: Match = Object.freeze({ status: 404 });

/** A compiled, immutable route table. */
export class Router {
  readonly #root: TrieNode;

  private constructor(root: TrieNode) {
    this.#root = root;
  }

  /**
   * Compiles route definitions into a frozen matcher.
   *
   * @param defs the routes, in declaration order
   * @returns the router
   * @throws {TemplateError} for a malformed template
   * @throws {RouteConflictError} for two routes with the same shape and a common method
   * @example
   * ```ts
   * const r = Router.compile([{ template: "/u/{id:int}", methods: ["GET"], id: 0, source: "x" }]);
   * r.match("GET", "/u/7"); // { status: 200, route: 0, params: ["7"] }
   * ```
   */
  static compile(defs: readonly RouteDef[]): Router {
    const root = newNode();
    const seen = new Map<string, RouteDef>();
    for (const def of defs) {
      const segments = parseTemplate(def.template);
      const shape = shapeOf(segments);
      for (const method of def.methods) {
        const prior = seen.get(`${method} ${shape}`);
        if (prior) throw new RouteConflictError(prior, def, method);
        seen.set(`${method} ${shape}`, def);
      }
      insert(root, segments, def);
    }
    return new Router(deepFreeze(root));
  }

  /**
   * Finds the route for a request.
   *
   * @param method the request method (upper case); HEAD falls back to a GET route
   * @param rawPath the path as it arrived, still percent-encoded, without the query
   * @returns the route and decoded parameter values, or a 400/404/405 outcome
   */
  match(method: string, rawPath: string): Match {
    if (rawPath.charCodeAt(0) !== 47) return NOT_FOUND;
    let decoded: string[] | null = null;
    if (rawPath.indexOf("%") !== -1) {
      // Encoded paths are split and decoded first (a %2F must not split a segment).
      decoded = rawPath.slice(1).split("/");
      for (let i = 0; i < decoded.length; i++) {
        const d = percentDecode(decoded[i]);
        if (d === null) {
          return {
            status: 400,
            reason: `invalid percent-encoding in path segment "${decoded[i]}"`,
          };
        }
        decoded[i] = d;
      }
    }
    const ctx: Walk = { path: rawPath, decoded, method, params: [], allow: null };
    const route = walk(this.#root, decoded ? 0 : 1, ctx);
    if (route >= 0) return { status: 200, route, params: ctx.params };
    if (ctx.allow === null) return NOT_FOUND;
    return { status: 405, allow: [...ctx.allow].sort().join(", ") };
  }
}

function newNode(): TrieNode {
  return { statics: null, int: null, uuid: null, str: null, catchall: null, end: null };
}

function insert(root: TrieNode, segments: readonly Segment[], def: RouteDef): void {
  let node = root;
  let terminal: Terminal | null = null;
  for (const seg of segments) {
    if (seg.kind === "static") {
      node.statics ??= new Map();
      let next = node.statics.get(seg.value);
      if (!next) node.statics.set(seg.value, next = newNode());
      node = next;
    } else if (seg.kind === "param") {
      node = node[seg.type] ??= newNode();
    } else {
      terminal = node.catchall ??= { byMethod: new Map(), allow: [] };
    }
  }
  terminal ??= node.end ??= { byMethod: new Map(), allow: [] };
  for (const m of def.methods) terminal.byMethod.set(m, def.id);
  terminal.allow = allowList(terminal.byMethod);
}

function allowList(byMethod: Map<string, number>): string[] {
  const methods = new Set(byMethod.keys());
  if (methods.has("GET")) methods.add("HEAD");
  return [...methods];
}

function pick(t: Terminal, ctx: Walk): number {
  const m = ctx.method;
  const id = t.byMethod.get(m) ?? (m === "HEAD" ? t.byMethod.get("GET") : undefined);
  if (id !== undefined) return id;
  ctx.allow ??= new Set();
  for (const a of t.allow) ctx.allow.add(a);
  return -1;
}

/**
 * Per-match state, so the recursive walk passes one object instead of five values. A cursor is
 * a character index into `path` (plain paths, walked without splitting) or, when the path had
 * escapes, an index into `decoded`.
 */
interface Walk {
  path: string;
  decoded: string[] | null;
  method: string;
  params: string[];
  /** Methods of routes that fit the path but not the method; created on the first one. */
  allow: Set<string> | null;
}

function walk(node: TrieNode, at: number, ctx: Walk): number {
  const { path, decoded } = ctx;
  let seg: string;
  let next: number;
  if (decoded) {
    if (at === decoded.length) return node.end ? pick(node.end, ctx) : -1;
    seg = decoded[at];
    next = at + 1;
  } else {
    if (at > path.length) return node.end ? pick(node.end, ctx) : -1;
    let end = path.indexOf("/", at);
    if (end === -1) end = path.length;
    seg = path.substring(at, end);
    next = end + 1;
  }
  const child = node.statics?.get(seg);
  let found = child ? walk(child, next, ctx) : -1;
  if (found >= 0) return found;
  if (node.int && INT.test(seg)) {
    found = tryParam(node.int, seg, next, ctx);
    if (found >= 0) return found;
  }
  if (node.uuid && seg.length === 36 && UUID.test(seg)) {
    found = tryParam(node.uuid, seg.toLowerCase(), next, ctx);
    if (found >= 0) return found;
  }
  if (node.str && seg !== "") {
    found = tryParam(node.str, seg, next, ctx);
    if (found >= 0) return found;
  }
  if (node.catchall) {
    const rest = decoded ? decoded.slice(at).join("/") : path.substring(at);
    if (rest !== "") {
      found = pick(node.catchall, ctx);
      if (found >= 0) ctx.params.push(rest);
    }
  }
  return found;
}

function tryParam(node: TrieNode, value: string, next: number, ctx: Walk): number {
  ctx.params.push(value);
  const found = walk(node, next, ctx);
  if (found < 0) ctx.params.pop();
  return found;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    if (value instanceof Map) { for (const v of value.values()) deepFreeze(v); }
    else for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
