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
import { EMBEDDED_WHEELHOUSE } from "../pyodide/assets.ts";
import { dirname, isAbsolute, resolve } from "node:path";
import {
  type At,
  ConfigError,
  type ConfigProblem,
  describeIssue,
  keyOffset,
  readDocument,
  sortProblems,
} from "./document.ts";
import type { Config } from "./config_type.ts";
import { type CacheSettings, configSchema, knownKeysAt, type RawConfig } from "./schema.ts";
import { checkRouteTable, checkSemantics } from "./semantics.ts";

export {
  type At,
  ConfigError,
  type ConfigProblem,
  formatPath,
  formatProblem,
  type NodeAt,
} from "./document.ts";

export type { Config, ConfigRoute } from "./config_type.ts";

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
  /** The files read (absolute), for the watcher. @default [] */
  sources?: string[];
  /** When this is the http addon config of a siphon.yaml: what the siphon.yaml sets. */
  addon?: AddonContext;
  /** What the command line and environment set over the file (`--app`, `--admin`). */
  overrides?: ConfigOverrides;
}

/**
 * Settings given outside http.yaml that replace the file's, on start and on every reload; their
 * problems name where they were given instead of a line of the file.
 */
export interface ConfigOverrides {
  /** `--app module:attribute`: replaces `app:`. */
  app?: string;
  /**
   * `--admin HOST:PORT|off` or `SIPHON_ADMIN`: the admin listener's address (kept with the
   * file's other `admin:` settings), or `off` for none. `from` names it in messages.
   */
  admin?: { value: string; from: string };
}

/** What a siphon.yaml gives its http addon config (siphon-http's `extensions.http`). */
export interface AddonContext {
  /** The siphon.yaml as the user named it. */
  from: string;
  /** `script.path`, absolute. */
  script: string;
  /** `cache:`, translated. */
  cache: Record<string, CacheSettings>;
  /** `log:`, translated; wins over the addon's own `log:`. */
  log: Partial<RawConfig["log"]>;
}

/** Command-line settings that win over http.yaml's `log:`, on start and on every reload. */
export type LogOverrides = Partial<Config["log"]>;

/**
 * Where a config listens, for the log: `http://127.0.0.1:8080, https://…`.
 *
 * @param config the config
 * @returns its listeners as URLs, comma-separated
 */
export function listenUrls(config: Config): string {
  return config.servers.map((s) => (s.tls ? "https://" : "http://") + s.listen.text).join(", ");
}

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
  const { app, admin } = options.overrides ?? {};
  try {
    return parseWith(text, options);
  } catch (e) {
    if ((app === undefined && admin === undefined) || !(e instanceof ConfigError)) throw e;
    // a problem with an override is the command line's (or the environment's), not the file's
    const from = (path: string) =>
      path === "app" && app !== undefined
        ? "--app"
        : path.startsWith("admin") && admin !== undefined
        ? admin.from
        : null;
    throw new ConfigError(e.problems.map((p) => {
      const file = from(p.path);
      return file ? { ...p, file, line: 0, col: 0 } : p;
    }));
  }
}

/** `input` with the overrides applied: `--app` replaces `app:`, `--admin` the admin address. */
function applyOverrides(input: Record<string, unknown>, overrides: ConfigOverrides): void {
  if (overrides.app !== undefined) input.app = overrides.app;
  const admin = overrides.admin?.value.trim();
  if (admin === undefined) return;
  if (admin === "off") {
    input.admin = false;
    return;
  }
  const kept = input.admin && typeof input.admin === "object" && !Array.isArray(input.admin)
    ? input.admin
    : {};
  input.admin = { ...kept, listen: admin };
}

function parseWith(text: string, options: ParseOptions): Config {
  const { doc, input, at, nodeAt } = readDocument(text, options.file, options.env);
  applyOverrides(input, options.overrides ?? {});
  const problems: ConfigProblem[] = [];
  if (options.addon) {
    fromSiphonYaml(input, options.addon, (path) => keyOffset(doc, path), at, problems);
  }
  if (problems.length) throw new ConfigError(problems);
  const result = configSchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      problems.push(...describeIssue(issue, input, doc, nodeAt, at, knownKeysAt));
    }
    // the route table, when it is well-formed on its own, is checked in the same pass
    const routes = configSchema.shape.routes.safeParse(input.routes);
    if (routes.success && !result.error.issues.some((i) => i.path[0] === "routes")) {
      const table = routes.data.map((r) => ({ ...r, source: "" }));
      checkRouteTable(options.file, table, nodeAt, at, problems);
    }
    throw new ConfigError(sortProblems(problems));
  }
  if (result.data.script === undefined && result.data.app === undefined) {
    throw new ConfigError([at(
      0,
      "script",
      "required: script: (a .py file of siphon.http routes), app: (an ASGI application, " +
        '"module:attribute"), or both',
    )]);
  }
  const config = resolvePaths(result.data, options);
  const { wheels } = checkSemantics(config, nodeAt, at, problems);
  if (problems.length) throw new ConfigError(sortProblems(problems));
  if (options.overrides?.app !== undefined && config.app) config.app.source = "--app";
  return { ...config, python: { ...config.python, wheels } };
}

/** An http addon config takes `script`, `cache` and `log` from its siphon.yaml. */
function fromSiphonYaml(
  input: Record<string, unknown>,
  addon: AddonContext,
  keyAt: (path: PropertyKey[]) => number,
  at: At,
  problems: ConfigProblem[],
): void {
  for (const [key, where] of [["script", "script.path"], ["cache", "cache:"]] as const) {
    if (input[key] === undefined) continue;
    problems.push(at(
      keyAt([key]),
      key,
      `this file is the http addon config of ${addon.from}, which sets ${where}; set it ` +
        `there only`,
    ));
  }
  input.script = addon.script;
  input.cache = addon.cache;
  const log = input.log && typeof input.log === "object" ? input.log : {};
  input.log = { ...log, ...addon.log };
}

/**
 * The file of an app's top module in the config's folder: `<top>.py`, else `<top>/__init__.py`
 * (semantics.ts reports neither being there).
 */
function appModuleFile(spec: string, dir: string): string {
  const top = spec.split(/[.:]/)[0];
  const file = resolve(dir, `${top}.py`);
  const pkg = resolve(dir, top, "__init__.py");
  return !existsFile(file) && existsFile(pkg) ? pkg : file;
}

function existsFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

function resolvePaths(raw: RawConfig, options: ParseOptions): Config {
  const abs = (p: string) => isAbsolute(p) ? p : resolve(options.dir, p);
  const folder = <M extends { dir: string }>(m: M): M => ({ ...m, dir: abs(m.dir) });
  const shared = raw.static.map(folder);
  return {
    ...raw,
    file: options.file,
    dir: options.dir,
    sources: options.sources ?? [],
    warnings: [],
    watch: true,
    code: {},
    script: raw.script ? abs(raw.script) : appModuleFile(raw.app ?? "", options.dir),
    app: raw.app
      ? {
        spec: raw.app,
        source: "",
        folder: raw.script ? dirname(abs(raw.script)) : options.dir,
        only: !raw.script,
      }
      : null,
    workers: raw.workers === "auto"
      ? (options.cores ?? navigator.hardwareConcurrency)
      : raw.workers,
    static: shared,
    servers: raw.servers.map((s) => ({
      ...s,
      // the listener's own folders first, then the config's: each listener serves this list
      static: [...s.static.map(folder), ...shared],
      ...s.tls && {
        tls: {
          cert_path: abs(s.tls.cert_path),
          key_path: abs(s.tls.key_path),
          client_ca: s.tls.client_ca && abs(s.tls.client_ca),
        },
      },
    })),
    routes: raw.routes.map((r) => ({ ...r, source: "" })),
    clients: Object.fromEntries(
      Object.entries(raw.clients).map(([name, c]) => [name, {
        ...c,
        verify: c.verify && abs(c.verify),
        cert: c.cert && abs(c.cert),
        key: c.key && abs(c.key),
      }]),
    ),
    python: {
      mounts: raw.python.mounts.map((m) => ({ ...m, host: abs(m.host) })),
      packages: raw.python.packages,
      env: raw.python.env,
      allow_net: raw.python.allow_net,
      wheelhouse: raw.python.wheelhouse === "embedded"
        ? EMBEDDED_WHEELHOUSE
        : abs(raw.python.wheelhouse ?? "wheels"),
      wheels: [],
      site: null,
    },
  };
}
