/**
 * The http.yaml schema (zod). Keys carry their units; defaults live here and nowhere else.
 *
 * Boundary: shape and ranges only. Cross-field checks that need the file system or the route
 * parser (script exists, templates parse, listeners unique) are in `load.ts`.
 *
 * @module
 */
import { DEFAULT_ADMIN, DEFAULT_ADMIN_TEXT } from "./admin_default.ts";
import { z } from "zod";
import { MAX_BYTES_PER_SEC, MAX_LINE_BYTES } from "../log.ts";
import { CHANNEL_BYTES } from "../cache/channel.ts";
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_VALUE_BYTES } from "../cache/memory_store.ts";

/** `recycle.max_memory_mb` by default: one worker cannot take the host. */
const DEFAULT_MAX_MEMORY_MB = 1024;

/** The largest `max_value_bytes`: an answer (the value as JSON) must fit the cache channel. */
const MAX_VALUE_BYTES = CHANNEL_BYTES - 1024;

/**
 * A whole number; a numeric string (from `${VAR}` expansion) is accepted too.
 *
 * @param min the smallest allowed
 * @param max the largest allowed
 * @returns the schema
 */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.unknown().transform((v, ctx) => {
    const n = typeof v === "number"
      ? v
      : typeof v === "string" && /^\s*-?\d+\s*$/.test(v)
      ? Number(v)
      : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      ctx.addIssue({ code: "custom", message: `expected a whole number ${range}, got ${show(v)}` });
      return z.NEVER;
    }
    return n;
  });
}

/** A boolean; `"true"`/`"false"` strings (from `${VAR}` expansion) are accepted too. */
const flag = z.unknown().transform((v, ctx) => {
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "false") return v === "true";
  ctx.addIssue({ code: "custom", message: `expected true or false, got ${show(v)}` });
  return z.NEVER;
});

const LISTEN = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/;

/** `host:port` (`[v6]:port` for IPv6) with a port from `lowest` to 65535. */
const listenFrom = (lowest: 0 | 1) =>
  z.string().transform((v, ctx) => {
    const m = LISTEN.exec(v);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < lowest || port > 65535) {
      ctx.addIssue({
        code: "custom",
        message: `expected "host:port" with a port from ${lowest} to 65535, got ${show(v)}`,
      });
      return z.NEVER;
    }
    return { text: v, hostname: m[1].replace(/^\[|\]$/g, ""), port };
  });

/** A server's address: every worker binds it (port 0 would give each worker its own). */
const listen = listenFrom(1);
/** The admin listener's address: one listener, so port 0 (any free port, logged) is fine. */
const adminListen = listenFrom(0);

const METHOD = /^[A-Za-z]+$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

const tls = z.strictObject({
  cert_path: z.string().min(1),
  key_path: z.string().min(1),
  /** CA bundle client certificates must chain to (mutual TLS). */
  client_ca: z.string().min(1).optional(),
});

/** A URL prefix for static files: `/` or `/a/b`, no trailing slash, no template syntax. */
const STATIC_PREFIX = /^\/$|^(\/[A-Za-z0-9._~!$&'()+,;=:@-]+)+$/;

/**
 * A folder served as static files under a URL prefix, by Deno, without Python
 * (workers/serve/static_files.ts).
 */
const staticMount = z.strictObject({
  path: z.string().regex(STATIC_PREFIX, {
    error: 'expected a URL prefix like "/assets" (a leading /, no trailing / except for "/")',
  }),
  dir: z.string().min(1),
  /** The Cache-Control of every file served (and of its 304s). @default none */
  cache_control: z.string().regex(/^[\x20-\x7e]+$/, {
    error: 'expected a Cache-Control value like "public, max-age=3600"',
  }).optional(),
  /** A folder without index.html is listed (else 404). */
  listing: flag.default(false),
});

const server = z.strictObject({
  listen,
  /** Static folders of this listener, tried before the config's top-level `static:`. */
  static: z.array(staticMount).max(64).default([]),
  max_body_bytes: wholeNumber(0).default(1048576),
  request_timeout_ms: wholeNumber(1).default(30000),
  max_inflight: wholeNumber(1).default(1024),
  trusted_proxies: z.array(z.string()).default([]),
  tls: tls.optional(),
  /** A WebSocket message larger than this closes its socket with 1009. */
  ws_max_message_bytes: wholeNumber(1).default(1048576),
  /** Ping a socket idle for half of this; close it (1001) if nothing came back by the end. 0: never. */
  ws_idle_timeout_ms: wholeNumber(0).default(30000),
  /** Open WebSockets per worker on this listener; an upgrade beyond it gets 503. */
  ws_max_connections: wholeNumber(1).default(10000),
  /** A peer that has not answered our close frame in this long has its connection dropped. */
  ws_close_timeout_ms: wholeNumber(1).default(5000),
  /** Unread messages summed over a worker's sockets on this listener; past it: 1008. */
  ws_max_unread_bytes: wholeNumber(1).default(64 << 20),
});

const methodList = z.array(z.string().regex(METHOD, { error: "expected an HTTP method like GET" }))
  .min(1).transform((ms) => [...new Set(ms.map((m) => m.toUpperCase()))]);

/** A list of methods, or one as a string (`methods: post`), as `@http.route(methods="POST")`. */
const routeMethods = z.unknown().transform((v, ctx): string[] => {
  if (typeof v === "string") {
    if (METHOD.test(v)) return [v.toUpperCase()];
    ctx.addIssue({
      code: "custom",
      message: `expected an HTTP method like GET, got ${JSON.stringify(v)}`,
    });
    return z.NEVER;
  }
  const list = methodList.safeParse(v);
  if (list.success) return list.data;
  for (const issue of list.error.issues) ctx.addIssue({ ...issue, input: undefined });
  return z.NEVER;
});

const route = z.strictObject({
  path: z.string(),
  methods: routeMethods.default(["GET"]),
  handler: z.string().regex(IDENT, {
    error: "expected the name of a function in the script, like get_user",
  }),
  /** Hand the request to the handler before its body is read (`req.stream()`). */
  stream: flag.default(false),
  /** A WebSocket endpoint: the handler takes the socket (`async def handler(ws)`). */
  websocket: flag.default(false),
});

const client = z.strictObject({
  /** Prepended to the paths the script passes; without it, paths must be whole URLs. */
  base_url: z.url({ protocol: /^https?$/, error: "expected an http:// or https:// URL" })
    .optional(),
  timeout_ms: wholeNumber(1).default(5000),
  verify: z.string().optional(),
  cert: z.string().optional(),
  key: z.string().optional(),
  pool_size: wholeNumber(1).default(16),
  http2_prior_knowledge: flag.default(false),
});

/** A `python.packages` entry: a distribution name, optionally `==version`. */
const requirement = z.string().regex(
  /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:\s*==\s*[A-Za-z0-9.+!_-]+)?$/,
  "expected a package name or name==version, like pyjwt or pyjwt==2.8.0",
);

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A `python.env` entry: `NAME` (from the server's environment) or `{ NAME: value }`. */
const envEntry = z.union([
  z.string().regex(ENV_NAME, { error: "expected a variable name like API_KEY" }),
  z.record(
    z.string().regex(ENV_NAME, { error: "expected a variable name like API_KEY" }),
    z.string(),
  ).refine((m) => Object.keys(m).length === 1, { error: "expected one NAME: value per entry" }),
]);

/** A `python.allow_net` entry: `host`, `host:port`, `[v6]:port`, or `*`. */
const netEntry = z.string().regex(
  /^(\*|\[[0-9a-fA-F:.]+\](:\d{1,5})?|[A-Za-z0-9.-]+(:\d{1,5})?)$/,
  {
    error: 'expected "host", "host:port" or "*"',
  },
);

const mount = z.strictObject({
  host: z.string().min(1),
  mode: z.enum(["ro", "rw"]).default("ro"),
});

/** Methods besides the standard ones and the route table's that /metrics counts by name. */
const metricsMethods = z.array(
  z.string().regex(METHOD, { error: "expected HTTP methods like PURGE" }),
).max(64, { error: "at most 64 methods" }).transform((ms) => ms.map((m) => m.toUpperCase()));

/**
 * `admin: false`, `admin: { listen: "host:port", metrics: true }`, or absent. Without `listen`
 * the default address is used; if that is taken the server warns and runs without it, while an
 * address given explicitly must bind. `metrics: false` keeps /healthz and /readyz but stops
 * counting.
 */
const admin = z.unknown().transform((v, ctx) => {
  if (v === false) return null;
  const given = v !== undefined && v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as Record<string, unknown>
    : null;
  const keys = ["listen", "metrics", "metrics_methods"];
  if (v !== undefined && (!given || Object.keys(given).some((k) => !keys.includes(k)))) {
    ctx.addIssue({
      code: "custom",
      message: `expected false or { listen: "host:port", metrics: true|false, ` +
        `metrics_methods: [METHOD, …] }, got ${JSON.stringify(v)}`,
    });
    return z.NEVER;
  }
  const parsed = adminListen.safeParse(given?.listen ?? DEFAULT_ADMIN_TEXT);
  if (!parsed.success) {
    ctx.addIssue({ code: "custom", message: parsed.error.issues[0].message });
    return z.NEVER;
  }
  const metrics = flag.safeParse(given?.metrics ?? true);
  if (!metrics.success) {
    ctx.addIssue({ code: "custom", message: `metrics: ${metrics.error.issues[0].message}` });
    return z.NEVER;
  }
  const methods = metricsMethods.safeParse(given?.metrics_methods ?? []);
  if (!methods.success) {
    ctx.addIssue({
      code: "custom",
      message: `metrics_methods: ${methods.error.issues[0].message}`,
    });
    return z.NEVER;
  }
  return {
    listen: parsed.data,
    explicit: given?.listen !== undefined,
    metrics: metrics.data,
    metricsMethods: methods.data,
  };
}).default({
  listen: { text: DEFAULT_ADMIN_TEXT, ...DEFAULT_ADMIN },
  explicit: false,
  metrics: true,
  metricsMethods: [],
});

/** `module:attribute`, as uvicorn takes it: dotted Python names on both sides. */
const APP_SPEC = /^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$/;

/** The whole of http.yaml. */
export const configSchema = z.strictObject({
  /** The siphon.http script; optional when `app` is given. */
  script: z.string().min(1).optional(),
  /** An ASGI 3 application served for every request no route takes. */
  app: z.string().regex(APP_SPEC, {
    error: 'expected "module:attribute" naming an ASGI application, like "main:app"',
  }).optional(),
  workers: z.unknown().transform((v, ctx): "auto" | number => {
    if (v === "auto" || v === undefined) return "auto";
    const n = typeof v === "number"
      ? v
      : typeof v === "string" && /^\d+$/.test(v)
      ? Number(v)
      : NaN;
    if (Number.isInteger(n) && n >= 1 && n <= 1024) return n;
    ctx.addIssue({
      code: "custom",
      message: `expected "auto" or a whole number from 1 to 1024, got ${show(v)}`,
    });
    return z.NEVER;
  }).default("auto"),
  shutdown_grace_ms: wholeNumber(0).default(10000),
  /** A reload to a script with no routes is refused while the serving one has some, unless true. */
  allow_no_routes: flag.default(false),
  admin,
  log: z.strictObject({
    level: z.enum(["debug", "info", "warning", "error"]).default("info"),
    format: z.enum(["pretty", "json"]).default("pretty"),
    access: flag.default(false),
    /** A longer message is cut to this and marked `[truncated: N more bytes]`. */
    max_line_bytes: wholeNumber(256).default(MAX_LINE_BYTES),
    /** Per thread (each worker, the supervisor); past it lines are dropped and counted. 0: off. */
    max_bytes_per_sec: wholeNumber(0).default(MAX_BYTES_PER_SEC),
  }).default({
    level: "info",
    format: "pretty",
    access: false,
    max_line_bytes: MAX_LINE_BYTES,
    max_bytes_per_sec: MAX_BYTES_PER_SEC,
  }),
  servers: z.array(server).min(1),
  /** Static folders every listener serves. */
  static: z.array(staticMount).max(64).default([]),
  routes: z.array(route).default([]),
  clients: z.record(z.string().min(1), client).default({}),
  python: z.strictObject({
    mounts: z.array(mount).default([]),
    packages: z.array(requirement).default([]),
    wheelhouse: z.string().min(1).optional(),
    /** What `os.environ` holds besides SIPHON_WORKER: names taken from the server's
     * environment, or `NAME: value`. Nothing else is inherited. */
    env: z.array(envEntry).default([]),
    /** Hosts Python may reach besides the configured clients and Redis: `host`, `host:port`,
     * or `"*"` for any (which also lets it listen anywhere). */
    allow_net: z.array(netEntry).default([]),
  }).default({ mounts: [], packages: [], env: [], allow_net: [] }),
  cache: z.record(
    z.string().min(1),
    z.strictObject({
      backend: z.enum(["memory", "redis"]),
      max_entries: wholeNumber(1).default(10000),
      /** Keys and values kept, as JSON text in UTF-8; least recently used go first past it. */
      max_bytes: wholeNumber(1024).default(DEFAULT_MAX_BYTES),
      /** A larger value (or whole list) is refused at `store` with CacheError. It must fit the
       * answer channel between threads (src/cache/channel.ts). */
      max_value_bytes: wholeNumber(16, MAX_VALUE_BYTES).default(DEFAULT_MAX_VALUE_BYTES),
      url: z.string().optional(),
      prefix: z.string().default(""),
      /** memory: longest an entry lives; redis: how long the process keeps a copy it read. */
      local_ttl_secs: wholeNumber(1).optional(),
    }),
  ).default({}),
  /** `siphon.pubsub`: `memory` reaches every worker of the process, `redis` every replica. */
  pubsub: z.strictObject({
    backend: z.enum(["memory", "redis"]).default("memory"),
    url: z.string().optional(),
    /** Messages one subscriber may have waiting; beyond it new ones are dropped (counted). */
    subscriber_queue: wholeNumber(1).default(1024),
  }).default({ backend: "memory", subscriber_queue: 1024 }),
  recycle: z.strictObject({
    max_requests: wholeNumber(0).default(0),
    /** A worker holding more (wasm + V8 heap) gets a fresh interpreter; at twice it, it is
     * replaced outright. 0: off. */
    max_memory_mb: wholeNumber(0).default(DEFAULT_MAX_MEMORY_MB),
    max_rss_mb: wholeNumber(0).default(0),
  }).default({ max_requests: 0, max_memory_mb: DEFAULT_MAX_MEMORY_MB, max_rss_mb: 0 }),
});

/** One entry of `cache:`. */
export type CacheSettings = z.output<typeof configSchema>["cache"][string];

/** http.yaml after validation and defaults, before paths are resolved. */
export type RawConfig = z.output<typeof configSchema>;

/**
 * The keys an object at `path` accepts, for "did you mean" suggestions.
 *
 * @param path a field path from a validation issue
 * @param schema the schema of the whole file @default configSchema (http.yaml)
 * @returns the known keys there, or `[]` when the path does not lead to an object
 */
export function knownKeysAt(
  path: readonly PropertyKey[],
  schema: z.ZodType = configSchema,
): string[] {
  // deno-lint-ignore no-explicit-any
  let node: any = schema;
  for (const key of [...path, null]) {
    for (let guard = 0; guard < 8; guard++) {
      const def = node?.def ?? node?._zod?.def;
      if (!def) return [];
      if (def.type === "optional" || def.type === "default" || def.type === "nullable") {
        node = def.innerType;
      } else if (def.type === "pipe") node = def.in;
      else break;
    }
    const def = node.def;
    if (key === null) return def.type === "object" ? Object.keys(def.shape) : [];
    if (def.type === "object") node = def.shape[key as string];
    else if (def.type === "array") node = def.element;
    else if (def.type === "record") node = def.valueType;
    else return [];
  }
  return [];
}

function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}
