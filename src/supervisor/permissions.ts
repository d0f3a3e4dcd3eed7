/**
 * The Deno permissions of a worker thread: the one builder for request workers, `check`'s
 * worker and the snapshot builder (the script-test thread, which reads any file a test names,
 * has its own set in src/script_tests.ts). A worker runs the user's Python, and Python reaches
 * everything the worker's JavaScript can (`import js`, or `Function` from any JS function handed
 * to it), so these permissions — enforced by Deno — are the sandbox: nothing a script does can
 * reach a file, a host or a variable its config does not grant.
 *
 * - read: Pyodide's assets and the siphon package, the cache folder (snapshots, installed
 *   packages), the script's folder, `python.mounts`, the `static:` folders (public anyway), the
 *   TLS files of the listeners and the clients;
 * - write: the `rw` mounts only — never the script's folder (which holds the script and usually
 *   the config: a script must not rewrite what grants it), never the caches later workers load;
 * - net: the listeners (serving only), the configured clients' hosts, Redis, `python.allow_net`;
 * - env: only the Redis client's two debug switches; Python's environment is handed over
 *   (`python.env`);
 * - run, ffi, sys, import: none.
 *
 * Boundary: supervisor-side; docs/security.md states what holds.
 *
 * @module
 */
import { realpathSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/load.ts";
import { defaultCacheDir, PYODIDE_DIR } from "../pyodide/assets.ts";

/** A worker's permission set, as `new Worker(…, { deno: { permissions } })` takes it. */
export interface WorkerPermissions {
  read: string[];
  write: string[];
  net: string[] | boolean;
  env: string[];
  run: false;
  ffi: false;
  sys: false;
  import: false;
}

/** What the worker is for: serving listens on the config's addresses; the others do not. */
export type WorkerRole = "serve" | "check" | "snapshot";

/**
 * Variables the libraries a worker loads look up (the Redis client's debug switches): harmless
 * to read, and refusing them makes the library fail. No other variable is readable.
 */
const LIBRARY_ENV = ["REDIS_DEBUG_MAINTENANCE", "REDIS_EMIT_DIAGNOSTICS"];

/** Where the package Python files live (the siphon package, the SDK, the test runner). */
const PYTHON_DIR = join(import.meta.dirname!, "..", "..", "workers", "python");

/**
 * The permissions of a worker for a config.
 *
 * @param config the generation's config (null: the snapshot builder, which needs none of it)
 * @param options `cacheDir`: the snapshot and package cache, read-only (null: none — the
 *   snapshot builder reads only the packages folder it imports, if any); `role`: what the
 *   worker does
 * @returns the permission set, with every list sorted (so two sets compare as JSON)
 */
export function workerPermissions(
  config: Config | null,
  options: { cacheDir: string | null; role: WorkerRole },
): WorkerPermissions {
  const read = new Set([...both(PYODIDE_DIR), ...both(PYTHON_DIR)]);
  if (options.cacheDir) { for (const dir of both(options.cacheDir)) read.add(dir); }
  const write = new Set<string>();
  const net = new Set<string>();
  let anyHost = false;
  if (config) {
    read.add(config.script.slice(0, config.script.lastIndexOf("/")) || "/");
    for (const m of config.python.mounts) {
      read.add(m.host);
      if (m.mode === "rw") write.add(m.host);
    }
    for (const s of config.servers) {
      if (options.role === "serve") net.add(hostPort(s.listen.hostname, s.listen.port));
      // static folders are public: served as they are, so Python may read them too
      for (const m of s.static) for (const dir of both(m.dir)) read.add(dir);
      for (const f of [s.tls?.cert_path, s.tls?.key_path, s.tls?.client_ca]) if (f) read.add(f);
    }
    for (const c of Object.values(config.clients)) {
      for (const f of [c.verify, c.cert, c.key]) if (f) read.add(f);
      if (c.base_url) net.add(urlHost(c.base_url));
    }
    for (const c of Object.values(config.cache)) if (c.url) net.add(urlHost(c.url));
    if (config.pubsub.url && config.pubsub.backend === "redis") {
      net.add(urlHost(config.pubsub.url));
    }
    for (const host of config.python.allow_net) {
      if (host === "*") anyHost = true;
      else net.add(host);
    }
  }
  return {
    read: [...read].sort(),
    write: [...write].sort(),
    net: anyHost ? true : options.role === "snapshot" ? false : [...net].sort(),
    env: [...LIBRARY_ENV],
    run: false,
    ffi: false,
    sys: false,
    import: false,
  };
}

/**
 * The permissions of a config's workers: its request workers, or `check`'s worker.
 *
 * @param config the config
 * @param serverEnv the server's environment (its cache folder)
 * @param role `serve` (listens on the config's addresses) or `check`
 * @returns the permission set
 */
export function configPermissions(
  config: Config,
  serverEnv: Record<string, string>,
  role: "serve" | "check",
): WorkerPermissions {
  return workerPermissions(config, { cacheDir: defaultCacheDir(serverEnv), role });
}

/** A folder as given and as it really is (Deno checks the path a call names; symlinks differ). */
function both(path: string): string[] {
  const clean = path.replace(/\/$/, "");
  try {
    const real = realpathSync(clean);
    return real === clean ? [clean] : [clean, real];
  } catch {
    return [clean];
  }
}

function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

const DEFAULT_PORTS: Record<string, number> = {
  "http:": 80,
  "https:": 443,
  "redis:": 6379,
  "rediss:": 6379,
};

/** `host:port` of a URL (the scheme's port when none is given). */
function urlHost(url: string): string {
  const u = new URL(url); // the config loader checked it
  const port = u.port ? Number(u.port) : DEFAULT_PORTS[u.protocol] ?? 80;
  return hostPort(u.hostname.replace(/^\[|\]$/g, ""), port);
}

/**
 * What Python's `os.environ` holds for a config: the variables `python.env` names (taken from
 * the server's environment; one that is unset there is left out) and its `NAME: value` entries.
 * Nothing else is inherited; the worker adds SIPHON_WORKER.
 *
 * @param config the config
 * @param serverEnv the server's environment
 * @returns the variables
 */
export function pythonEnv(
  config: Config,
  serverEnv: Record<string, string>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of config.python.env) {
    if (typeof entry === "string") {
      if (entry in serverEnv) env[entry] = serverEnv[entry];
    } else Object.assign(env, entry);
  }
  return env;
}

/**
 * Whether Deno's OpenTelemetry is on for this process (workers cannot read the variable).
 *
 * @param serverEnv the server's environment
 * @returns `OTEL_DENO` is true or 1
 */
export function tracingOn(serverEnv: Record<string, string>): boolean {
  return /^(true|1)$/i.test(serverEnv.OTEL_DENO ?? "");
}

/**
 * What a generation's Python sees, as the supervisor hands it to the workers: its environment
 * ({@link pythonEnv}) and whether request spans are named (a worker reads no variable itself).
 *
 * @param config the config
 * @param serverEnv the server's environment
 * @returns `env` and `tracing`
 */
export function pythonSees(
  config: Config,
  serverEnv: Record<string, string>,
): { env: Record<string, string>; tracing: boolean } {
  return { env: pythonEnv(config, serverEnv), tracing: tracingOn(serverEnv) };
}
