/**
 * The hot-reload soak: a real server (2 workers) under continuous load from the driver while
 * its route table and script are edited, good and bad edits mixed, saved the way editors do
 * (temporary file renamed over the original). Used by tests/e2e/reload_test.ts (assertions) and
 * bench/reload.ts (numbers).
 *
 * @module
 */
import { join } from "node:path";
import { startServer } from "./launch.ts";
import { drive, type DriveSummary } from "./driver.ts";

/** One edit and what came of it. */
export interface EditResult {
  name: string;
  good: boolean;
  /** Good edit: ms from the save to the first response showing it. Bad edit: ms to the logged failure. */
  ms: number;
  /** Bad edits: the old generation still answered with the last good version afterwards. */
  oldKeptServing?: boolean;
}

/** The whole soak. */
export interface SoakResult {
  edits: EditResult[];
  load: DriveSummary;
  logs: string;
}

const CONFIG = (extra: string) =>
  `script: app.py\nworkers: 2\nservers:\n  - listen: "127.0.0.1:\${PORT}"\nroutes:\n` +
  `  - path: /version\n    handler: version\n${extra}`;
const SCRIPT = (version: number, tail = "") =>
  `from siphon import http\n\nVERSION = ${version}\n\n@http.route("/ping")\ndef ping(req):\n` +
  `    return http.Response(200, None, "pong")\n\ndef version(req):\n` +
  `    return http.Response(200, None, str(VERSION))\n\ndef extra(req):\n` +
  `    return http.Response(200, None, "extra")\n${tail}`;

/** Writes like an editor: a temporary file, then a rename over the original. */
function save(path: string, text: string): void {
  Deno.writeTextFileSync(`${path}.swp`, text);
  Deno.renameSync(`${path}.swp`, path);
}

async function poll(check: () => Promise<boolean>, limitMs: number): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < limitMs) {
    if (await check().catch(() => false)) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 10));
  }
  return Infinity;
}

/**
 * Runs the soak: 10 edits (3 bad) under load on `/ping`.
 *
 * @param options port, how long to wait for each edit, load connections
 * @returns per-edit timings, the load summary and the server log
 */
export async function reloadSoak(
  options: { port: number; waitMs?: number; connections?: number },
): Promise<SoakResult> {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-reload-" });
  const configPath = join(dir, "http.yaml");
  const scriptPath = join(dir, "app.py");
  Deno.writeTextFileSync(configPath, CONFIG(""));
  Deno.writeTextFileSync(scriptPath, SCRIPT(0));
  const base = `http://127.0.0.1:${options.port}`;
  const server = await startServer({ config: configPath, env: { PORT: String(options.port) } });
  const waitMs = options.waitMs ?? 5000;
  const text = (path: string) => fetch(base + path).then(async (r) => r.ok ? await r.text() : "");
  let version = 0;
  const failures = () => (server.logs().match(/reload failed/g) ?? []).length;
  const edits: EditResult[] = [];
  const good = async (name: string, apply: () => void, seen: () => Promise<boolean>) => {
    apply();
    edits.push({ name, good: true, ms: await poll(seen, waitMs) });
  };
  const bad = async (name: string, apply: () => void) => {
    const before = failures();
    apply();
    const ms = await poll(() => Promise.resolve(failures() > before), waitMs);
    const oldKeptServing = (await text("/version")) === String(version);
    edits.push({ name, good: false, ms, oldKeptServing });
  };
  const bump = () => save(scriptPath, SCRIPT(++version));
  const stop = new AbortController();
  const load = drive({
    host: "127.0.0.1",
    port: options.port,
    path: "/ping",
    durationMs: 600_000,
    concurrency: options.connections ?? 32,
    threads: 1,
    signal: stop.signal,
  });
  try {
    const showsVersion = () => text("/version").then((t) => t === String(version));
    await good("script: VERSION 1", bump, showsVersion);
    await good("script: VERSION 2", bump, showsVersion);
    await bad(
      "http.yaml: YAML syntax error",
      () => save(configPath, CONFIG("  - path: [broken\n")),
    );
    await good(
      "http.yaml: add /extra route",
      () => save(configPath, CONFIG("  - path: /extra\n    handler: extra\n")),
      () => text("/extra").then((t) => t === "extra"),
    );
    await bad(
      "script: import error",
      () => save(scriptPath, SCRIPT(version, 'raise RuntimeError("bad edit")\n')),
    );
    await good("script: VERSION 3 (fixes the import)", bump, showsVersion);
    await bad(
      "http.yaml: route conflict with @http.route(/ping)",
      () => save(configPath, CONFIG("  - path: /ping\n    handler: extra\n")),
    );
    await good(
      "http.yaml: remove /extra route",
      () => save(configPath, CONFIG("")),
      () => fetch(base + "/extra").then(async (r) => (await r.body?.cancel(), r.status === 404)),
    );
    await good("script: VERSION 4", bump, showsVersion);
    await good("script: VERSION 5", bump, showsVersion);
  } finally {
    stop.abort();
  }
  const summary = (await load).summary;
  await server.stop();
  return { edits, load: summary, logs: server.logs() };
}
