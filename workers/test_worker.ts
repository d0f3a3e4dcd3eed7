/**
 * The thread behind `siphon-deno test`: one Pyodide interpreter, prepared like a serving
 * worker's (snapshot, siphon package, interrupt buffer, deadline clock), plus `siphon_sdk` and
 * the pytest subset. `HttpTestHarness` calls back into {@link load} and {@link request}, which
 * build a listener's request path (router, limits, bridge) exactly as a worker does — only the
 * socket is missing — and the runner reports each test.
 *
 * Boundary: like workers/worker.ts, this thread runs Python and the request path; the main
 * thread (src/script_tests.ts) runs the watchdog and the memory caches.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { dirname, join } from "node:path";
import type { PyodideAPI } from "pyodide";
import type { PyProxy } from "pyodide/ffi";
import { type Config, parseConfig } from "../src/config/load.ts";
import { loadConfig } from "../src/config/files.ts";
import { ask } from "../src/cache/channel.ts";
import { createLogger } from "../src/log.ts";
import type { TestReport, TestStart, WorkerControl } from "../src/protocol.ts";
import { readPythonFolder, readSiphonPackage, SIPHON_PYTHON_ROOT } from "../src/pyodide/assets.ts";
import { DeadlineClock } from "./serve/deadlines.ts";
import { errorText } from "./host/error_text.ts";
import { workerLife } from "./serve/life.ts";
import { PubSub } from "./host/pubsub.ts";
import { type ClientEnd, pairUpgrade } from "./host/socket_pair.ts";
import { attachHost, buildGeneration, type GenerationHost } from "./host/generation.ts";
import { mountFolder } from "./host/mounts.ts";
import { loadPython } from "./host/python.ts";
import { fastScheduler } from "./host/scheduler.ts";
import { listenerFor } from "./serve/listener.ts";
import { type Handler, requestHandler } from "./serve/request_path.ts";

const post = (msg: TestReport) => self.postMessage(msg);
const encoder = new TextEncoder();
const log = createLogger({ source: "test", level: "warning" });

/** What a harness's `load_script` set up; requests go through it. */
interface Loaded {
  config: Config;
  handle: Handler;
}

let py: PyodideAPI;
let host: GenerationHost;
/** `harness.websocket`'s sockets: in-memory pairs instead of Deno's upgrade. */
const pairs = pairUpgrade();
let clock: DeadlineClock;
let interrupt: Int32Array;
let control: WorkerControl;
let loaded: Loaded | null = null;
/** The folder the run started from (a siphon.yaml's relative paths start there). */
let cwd = "";

/**
 * Installs a config's `python.packages` — in the main thread: this one may not write the cache,
 * which serving workers load (src/script_tests.ts).
 */
function install(config: Config, cacheDir: string): Promise<Config> {
  const { wheels } = config.python;
  if (wheels.length === 0) return Promise.resolve(config);
  const site = JSON.parse(ask(
    control.cache,
    () => post({ type: "install", file: config.file, wheels, cacheDir }),
    300_000,
  ));
  return Promise.resolve({ ...config, python: { ...config.python, site } });
}

self.onmessage = async (event: MessageEvent<TestStart>) => {
  try {
    const counts = JSON.parse(await runAll(event.data));
    post({
      type: "done",
      passed: counts.pass,
      failed: counts.fail,
      skipped: counts.skip,
      xfailed: counts.xfail,
      xpassed: counts.xpass,
      deselected: counts.deselected,
    });
  } catch (e) {
    post({ type: "error", message: errorText(e) });
  }
};

async function runAll(start: TestStart): Promise<string> {
  control = start.control;
  cwd = start.cwd;
  interrupt = new Int32Array(control.interrupt, 0, 1);
  const kill = new Int32Array(control.interrupt, 4, 1);
  clock = new DeadlineClock(new Float64Array(control.clock));
  ({ py } = await loadPython({
    files: await readSiphonPackage(),
    env: start.env,
    log,
    snapshot: start.snapshot,
  }));
  await writeTestPackages(py);
  const life = workerLife({ batch: false });
  // pubsub under test: one worker, so the memory backend whatever the config says
  const settings = { backend: "memory" as const, subscriber_queue: 1024 };
  const pubsub = new PubSub(settings, life.metrics, () => {}, log);
  host = {
    services: {
      log: () => {}, // the harness keeps Python's log lines and shows them with a failure
      schedule: fastScheduler(),
      stackSwitching: true,
      wait: (ms: number) => Atomics.wait(interrupt, 0, 0, ms),
      killed: () => Atomics.load(kill, 0) === 1,
      fetch: () => Promise.reject(new Error("no network in script tests")),
      cache: (name: string, callJson: string) =>
        ask(control.cache, () => post({ type: "cache", name, call: JSON.parse(callJson) }), 5000),
      sockets: life.sockets.forPython(),
      pubsub: pubsub.forPython(),
    },
    env: { ...start.env, SIPHON_WORKER: "1" },
    log,
    clock,
    interrupt,
    life,
    upgrade: pairs.upgrade,
    onFatal: (cause) => log.error(`the Python runtime failed: ${cause}`),
  };
  attachHost(py, host);
  clock.start();
  const sdk: PyProxy = py.pyimport("siphon_sdk");
  sdk._host = {
    load: (
      script: string,
      config: string | null | undefined,
      inline: string | null | undefined,
      env: string,
    ) => load(script, config ?? null, inline ?? null, JSON.parse(env)),
    request,
    websocket,
    write: (text: string) => Deno.stdout.writeSync(encoder.encode(text)),
    log: () => {},
    // harness.cache.set_data / clear: a memory cache filled, emptied, or dropped (null)
    cache_data: (name: string, entries: string | null | undefined) =>
      post({ type: "cache_data", name, entries: entries ? JSON.parse(entries) : null }),
  };
  // What a test sees of the host, as a plain CPython run from there would: the working folder
  // and the test files' folders (read-write); a loaded script's folder is added by load().
  for (const folder of visibleFolders(start.cwd, start.files.map((f) => dirname(f)))) {
    mountFolder(py, folder, "rw");
  }
  const runner: PyProxy = py.pyimport("siphon_sdk._runner");
  try {
    const options = JSON.stringify({ only: start.only, keyword: start.keyword });
    return await runner.run(JSON.stringify(start.files), start.cwd, options);
  } finally {
    clock.stop();
  }
}

/** Pyodide's own folders: mounting one of them, or a folder above one, would hide it. */
const PYODIDE_FOLDERS = ["/lib", "/tmp", "/home/pyodide", "/dev", "/proc"];

/**
 * The host folders a test run mounts: each given one not inside another given one, outermost
 * first; a folder that is, or holds, one of Pyodide's own is left out.
 *
 * @param cwd the folder the test command was run from
 * @param testFolders the folders of the test files
 * @returns the folders to mount, in order
 */
export function visibleFolders(cwd: string, testFolders: string[]): string[] {
  const hides = (f: string) => PYODIDE_FOLDERS.some((p) => p === f || p.startsWith(f + "/"));
  const all = [...new Set([cwd, ...testFolders])].filter((f) => !hides(f))
    .sort((a, b) => a.length - b.length);
  return all.filter((f, i) => !all.slice(0, i).some((o) => f.startsWith(o + "/")));
}

/** siphon_sdk and the pytest subset: only the test runner's interpreter has them. */
async function writeTestPackages(py: PyodideAPI): Promise<void> {
  const sdkDir = `${SIPHON_PYTHON_ROOT}/siphon_sdk`;
  py.FS.mkdirTree(sdkDir);
  for (const f of await readPythonFolder("siphon_sdk")) {
    py.FS.writeFile(`${sdkDir}/${f.name}`, f.text);
  }
  const shimDir = "/lib/siphon_testing";
  py.FS.mkdirTree(shimDir);
  for (const f of await readPythonFolder("testing")) {
    py.FS.writeFile(`${shimDir}/${f.name}`, f.text);
  }
  py.runPython(`import sys\nsys.path.append(${JSON.stringify(shimDir)})`);
}

/**
 * `HttpTestHarness.load_script`: the script with its http.yaml (given as a path or as the
 * harness's dict, or beside it and naming it, else defaults; `${VAR}` from Python's
 * os.environ), its routes compiled and the first listener's request path built.
 *
 * @returns JSON `{ routes: [[methods, template, source]…], config }`
 */
async function load(
  script: string,
  configPath: string | null,
  inline: string | null,
  env: Record<string, string>,
): Promise<string> {
  try {
    const config = forTests(
      inline === null
        ? await configFor(script, configPath, env)
        : parseConfig(inline, { file: "HttpTestHarness(config)", dir: dirname(script), env }),
    );
    post({ type: "caches", config });
    const { context, routes } = buildGeneration({ config, python: py, host });
    const handle = requestHandler(listenerFor(config.servers[0], context));
    loaded = { config, handle };
    return JSON.stringify({
      routes: routes.defs.map((d) => [d.methods, d.template, d.source]),
      config: config.file,
    });
  } catch (e) {
    throw new Error(errorText(e));
  }
}

/** What changes under test: every cache in memory (fresh per harness), no access log. */
function forTests(config: Config): Config {
  const cache = Object.fromEntries(
    Object.entries(config.cache).map(([n, c]) => [n, { ...c, backend: "memory" as const }]),
  );
  return { ...config, cache, log: { ...config.log, access: false } };
}

async function configFor(
  script: string,
  configPath: string | null,
  env: Record<string, string>,
): Promise<Config> {
  if (configPath) return await loadConfig(configPath, env, cwd, install);
  const beside = join(dirname(script), "http.yaml");
  try {
    const config = await loadConfig(beside, env, cwd, install);
    if (config.script === script) return config;
  } catch { /* no usable http.yaml beside the script: defaults */ }
  return parseConfig(
    `script: ${JSON.stringify(script)}\nservers:\n  - listen: "127.0.0.1:8080"\n`,
    { file: "(defaults)", dir: dirname(script), env },
  );
}

/**
 * `HttpTestHarness.websocket`: an upgrade request through the loaded script's request path;
 * the handler gets the server end of an in-memory pair.
 *
 * @returns the client end when the handler accepted, else the refusal as `request` gives it
 */
async function websocket(
  target: string,
  headers: string,
  client: string,
): Promise<ClientEnd | { status: number; headers: string; body: Uint8Array }> {
  const upgrade = [
    ["upgrade", "websocket"],
    ["connection", "Upgrade"],
    ["sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="],
    ["sec-websocket-version", "13"],
  ];
  const answer = await request(
    "GET",
    target,
    JSON.stringify([...upgrade, ...JSON.parse(headers)]),
    null,
    client,
  );
  return pairs.accepted() ?? answer;
}

/**
 * `HttpTestHarness.request`: one request through the loaded script's request path.
 *
 * @returns status, headers (JSON pairs) and body
 */
async function request(
  method: string,
  target: string,
  headers: string,
  body: Uint8Array | null,
  client: string,
): Promise<{ status: number; headers: string; body: Uint8Array }> {
  if (!loaded) throw new Error("HttpTestHarness: call load_script() first");
  if (!target.startsWith("/")) throw new Error(`path must start with "/", got "${target}"`);
  if (body && (method === "GET" || method === "HEAD")) {
    throw new Error(`a ${method} request cannot carry a body here (Deno's Request refuses it)`);
  }
  const colon = client.lastIndexOf(":");
  const info = {
    remoteAddr: {
      transport: "tcp",
      hostname: client.slice(0, colon).replace(/^\[|\]$/g, ""),
      port: Number(client.slice(colon + 1)),
    },
    completed: Promise.resolve(),
  } as unknown as Deno.ServeHandlerInfo;
  const { listen } = loaded.config.servers[0];
  const req = new Request(`http://${listen.text}${target}`, {
    method,
    headers: JSON.parse(headers),
    body: (body ?? undefined) as BodyInit | undefined,
  });
  const res = await loaded.handle(req, info);
  const bytes = method === "HEAD" ? new Uint8Array() : new Uint8Array(await res.arrayBuffer());
  interrupt[0] = 0; // an interrupt meant for the handler must not land in the test's own code
  const pairs: [string, string][] = [];
  res.headers.forEach((v, k) => pairs.push([k, v]));
  return { status: res.status, headers: JSON.stringify(pairs), body: bytes };
}
