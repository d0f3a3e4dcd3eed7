/**
 * What the schema cannot see: the files and folders a config names exist, listeners have
 * addresses of their own, a redis cache has a URL, route templates parse and never clash,
 * `python.packages` resolve in the wheelhouse. Each problem is reported at its place in the
 * document, like a schema problem.
 *
 * Boundary: pure apart from reading files (`stat`, the wheels' METADATA); src/config/load.ts
 * runs it after the schema.
 *
 * @module
 */
import { isScalar } from "yaml";
import { parseTrusted } from "../http/client_addr.ts";
import { RouteConflictError, Router } from "../router/router.ts";
import { parseTemplate, TemplateError } from "../router/template.ts";
import type { Config } from "./config_type.ts";
import { type At, type ConfigProblem, formatPath, type NodeAt } from "./document.ts";
import { PackageError, resolveWheels, scanWheelhouse } from "../packages/wheelhouse.ts";

/** Reports a problem at a field path of the document (`extra` columns into its node). */
type Report = (path: PropertyKey[], message: string, extra?: number) => void;

/**
 * Adds the semantic problems of `config` to `problems`.
 *
 * @param config the config the schema accepted, paths resolved
 * @param nodeAt the document's node at a field path
 * @param at makes a problem at an offset of the document
 * @param problems where problems go
 * @returns what the checks found: the wheel files `python.packages` resolve to
 */
export function checkSemantics(
  config: Config,
  nodeAt: NodeAt,
  at: At,
  problems: ConfigProblem[],
): { wheels: string[] } {
  const report = reporter(nodeAt, at, problems);
  if (config.app) {
    const pos = at(nodeAt(["app"])?.range?.[0] ?? 0, "", "");
    config.app.source = `${config.file}:${pos.line}:${pos.col}`;
  }
  checkFiles(config, report);
  const wheels = checkPackages(config, report);
  checkListeners(config, report);
  checkCaches(config, report);
  checkRoutes(config, nodeAt, at, report);
  return { wheels };
}

/**
 * The route table's problems alone (templates that do not parse, routes that clash), for a
 * document whose other parts the schema refused: they are reported together, in one pass.
 *
 * @param file the config file's name, for the routes' sources
 * @param routes `routes:` as the schema parsed it on its own
 * @param nodeAt the document's node at a field path
 * @param at makes a problem at an offset of the document
 * @param problems where problems go
 */
export function checkRouteTable(
  file: string,
  routes: Config["routes"],
  nodeAt: NodeAt,
  at: At,
  problems: ConfigProblem[],
): void {
  checkRoutes({ file, routes }, nodeAt, at, reporter(nodeAt, at, problems));
}

/** A {@link Report} that adds a problem at a field path's place in the document. */
function reporter(nodeAt: NodeAt, at: At, problems: ConfigProblem[]): Report {
  return (path, message, extra = 0) =>
    problems.push(at((nodeAt(path)?.range?.[0] ?? 0) + extra, formatPath(path), message));
}

/**
 * Static folders exist, and no listener serves one URL prefix twice. A listener's list is its
 * own `static:` followed by the config's (load.ts), reported where each was written.
 */
function checkStatic(
  config: Config,
  report: Report,
  mustExist: (path: PropertyKey[], file: string, kind: "folder") => void,
): void {
  config.static.forEach((m, i) => mustExist(["static", i, "dir"], m.dir, "folder"));
  const said = new Set<string>(); // a clash in the shared list is said once, not per listener
  config.servers.forEach((s, i) => {
    const own = s.static.length - config.static.length;
    const where = (j: number): PropertyKey[] =>
      j < own ? ["servers", i, "static", j] : ["static", j - own];
    s.static.slice(0, own).forEach((m, j) => mustExist([...where(j), "dir"], m.dir, "folder"));
    const seen = new Map<string, number>();
    s.static.forEach((m, j) => {
      const first = seen.get(m.path);
      if (first === undefined) seen.set(m.path, j);
      else if (!said.has(formatPath(where(j)))) {
        said.add(formatPath(where(j)));
        report(
          [...where(j), "path"],
          `${m.path} is already served from ${s.static[first].dir} on ${s.listen.text}; ` +
            "give each folder its own prefix",
        );
      }
    });
  });
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Every file and folder the config names exists, and the script is a `.py` file. */
function checkFiles(config: Config, report: Report): void {
  const mustExist = (path: PropertyKey[], file: string | undefined, kind: "file" | "folder") => {
    if (!file) return;
    try {
      const st = Deno.statSync(file);
      if (kind === "file" ? !st.isFile : !st.isDirectory) report(path, `${file} is not a ${kind}`);
    } catch {
      report(path, `${kind} not found: ${file} (relative paths resolve against ${config.dir})`);
    }
  };
  const app = config.app;
  if (app?.only) {
    if (!isFile(config.script)) {
      const top = app.spec.split(/[.:]/)[0];
      report(
        ["app"],
        `module ${top} not found: no ${top}.py or ${top}/__init__.py in ${config.dir}; with ` +
          "app: alone the app's module lives beside the config (or give script: too, and the " +
          "app is imported from the script's folder and python.packages)",
      );
    }
  } else {
    mustExist(["script"], config.script, "file");
    if (!config.script.endsWith(".py")) {
      report(["script"], `expected a .py file, got ${config.script}`);
    }
  }
  checkStatic(config, report, mustExist);
  config.servers.forEach((s, i) => {
    mustExist(["servers", i, "tls", "cert_path"], s.tls?.cert_path, "file");
    mustExist(["servers", i, "tls", "key_path"], s.tls?.key_path, "file");
    mustExist(["servers", i, "tls", "client_ca"], s.tls?.client_ca, "file");
  });
  config.python.mounts.forEach((m, i) => {
    mustExist(["python", "mounts", i, "host"], m.host, "folder");
    // A script that could rewrite its config or itself could grant itself more on the next
    // reload: such a folder is never writable for Python (docs/security.md).
    const inside = [config.script, config.file, ...config.sources].find((f) =>
      f.startsWith(m.host.replace(/\/$/, "") + "/")
    );
    if (m.mode === "rw" && inside) {
      report(
        ["python", "mounts", i, "host"],
        `${m.host} holds ${inside}: a read-write mount must not hold the config or the script ` +
          "(a script could rewrite what it is granted); mount a folder of data instead",
      );
    }
  });
  for (const [name, c] of Object.entries(config.clients)) {
    for (const key of ["verify", "cert", "key"] as const) {
      mustExist(["clients", name, key], c[key], "file");
    }
  }
}

/**
 * `python.packages` resolve, dependencies included, in `python.wheelhouse`.
 *
 * @returns the wheel files to install ([] when something does not resolve)
 */
function checkPackages(config: Config, report: Report): string[] {
  const { packages, wheelhouse } = config.python;
  if (packages.length === 0) return [];
  let wheels;
  try {
    wheels = scanWheelhouse(wheelhouse);
  } catch (e) {
    report(
      ["python", "wheelhouse"],
      e instanceof Deno.errors.NotFound
        ? `wheelhouse folder not found: ${wheelhouse} (python.packages are installed from ` +
          `there; relative paths resolve against ${config.dir}; default: wheels)`
        : (e as Error).message,
    );
    return [];
  }
  try {
    return resolveWheels(packages, wheelhouse, wheels).map((c) => c.wheel.file);
  } catch (e) {
    if (!(e instanceof PackageError)) throw e;
    report(["python", "packages", e.root], e.message);
    return [];
  }
}

/** Listeners have addresses of their own and readable trusted proxies. */
function checkListeners(config: Config, report: Report): void {
  const listeners = new Map<string, number>();
  config.servers.forEach((s, i) => {
    const prior = listeners.get(`${s.listen.hostname}:${s.listen.port}`);
    if (prior !== undefined) report(["servers", i, "listen"], `same address as servers[${prior}]`);
    listeners.set(`${s.listen.hostname}:${s.listen.port}`, i);
    const trusted = parseTrusted(s.trusted_proxies);
    if ("error" in trusted) report(["servers", i, "trusted_proxies", trusted.index], trusted.error);
  });
}

/** Every redis backend (a cache, pubsub) has a redis:// URL; a cache's value fits its bytes. */
function checkCaches(config: Config, report: Report): void {
  const redisUrl = (path: string[], c: { backend: string; url?: string }) => {
    if (c.backend === "redis" && !/^rediss?:\/\/./.test(c.url ?? "")) {
      report(
        [...path, c.url === undefined ? "backend" : "url"],
        `the redis backend needs url: redis://host:port/db (or rediss://), got ` +
          (c.url === undefined ? "none" : JSON.stringify(c.url)),
      );
    }
  };
  for (const [name, c] of Object.entries(config.cache)) {
    redisUrl(["cache", name], c);
    if (c.max_value_bytes > c.max_bytes) {
      report(
        ["cache", name, "max_value_bytes"],
        `max_value_bytes ${c.max_value_bytes} is over max_bytes ${c.max_bytes}: one value ` +
          "could not be kept; lower it or raise max_bytes",
      );
    }
  }
  redisUrl(["pubsub"], config.pubsub);
}

/** Route templates parse and never clash; each route learns where it was declared. */
function checkRoutes(
  config: Pick<Config, "file" | "routes">,
  nodeAt: NodeAt,
  at: At,
  report: Report,
): void {
  let broken = false;
  config.routes.forEach((r, i) => {
    const node = nodeAt(["routes", i]);
    const pos = at(node?.range?.[0] ?? 0, "", "");
    r.source = `${config.file}:${pos.line}:${pos.col}`;
    if (r.websocket && (r.methods.length !== 1 || r.methods[0] !== "GET")) {
      report(
        ["routes", i, "methods"],
        "a websocket route answers GET (the upgrade) only; " +
          "leave methods out",
      );
    }
    if (r.websocket && r.stream) {
      report(
        ["routes", i, "stream"],
        "a websocket route has no request body to stream; " +
          "drop stream: true",
      );
    }
    try {
      parseTemplate(r.path);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      const pathNode = nodeAt(["routes", i, "path"]);
      const quoted = isScalar(pathNode) && pathNode.type !== "PLAIN" ? 1 : 0;
      report(["routes", i, "path"], e.message, quoted + e.offset);
      broken = true;
    }
  });
  if (broken) return;
  try {
    Router.compile(
      config.routes.map((r, id) => ({
        template: r.path,
        methods: r.methods,
        id,
        source: r.source,
      })),
    );
  } catch (e) {
    if (!(e instanceof RouteConflictError)) throw e;
    report(["routes", e.second.id, "path"], e.message);
  }
}
