/**
 * The state of the thread behind `siphon-deno test`, and what `siphon_sdk`'s harness calls in
 * it: one Pyodide interpreter, prepared like a serving worker's (snapshot, siphon package,
 * interrupt buffer, deadline clock), plus `siphon_sdk` and the pytest subset. `HttpTestHarness`
 * calls back into {@link TestThread.load} and {@link TestThread.request}, which build a
 * listener's request path (router, limits, bridge) exactly as a worker does — only the socket
 * is missing — and the runner reports each test.
 *
 * Boundary: like the serving worker, this thread runs Python and the request path; the main
 * thread (src/script_tests.ts) runs the watchdog and the memory caches. The harness's calls are
 * ../bridge/contract.ts's `HarnessForPython`.
 *
 * @module
 */
import { dirname, join } from "node:path";
import type { PyodideAPI } from "pyodide";
import type { PyProxy } from "pyodide/ffi";
import { ask } from "../../src/cache/channel.ts";
import { loadConfig } from "../../src/config/files.ts";
import { type Config, parseConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/log.ts";
import type { TestReport, TestStart } from "../../src/protocol.ts";
import { readPythonFolder, SIPHON_PYTHON_ROOT } from "../../src/pyodide/assets.ts";
import { mountFolder } from "../../src/pyodide/mounts.ts";
import { DeadlineClock } from "../base/deadlines.ts";
import { errorText } from "../base/error_text.ts";
import type { HarnessAnswer, HarnessForPython } from "../bridge/contract.ts";
import { type ClientEnd, pairUpgrade } from "../doubles/socket_pair.ts";
import { attachHost, buildGeneration, type GenerationHost } from "../generation/generation.ts";
import { workerLife } from "../serve/life.ts";
import { listenerFor } from "../serve/listener.ts";
import { type Handler, requestHandler } from "../serve/request_path.ts";
import { PubSub } from "../services/pubsub.ts";
import { fastScheduler } from "../services/scheduler.ts";
import { type HarnessCall, harnessRequest } from "./harness_request.ts";

const encoder = new TextEncoder();

/** What a harness's `load_script` set up; requests go through it. */
interface Loaded {
  config: Config;
  handle: Handler;
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

/** One `siphon-deno test` run's interpreter, and the script its harness loaded last. */
export class TestThread {
  readonly #start: TestStart;
  readonly #post: (msg: TestReport) => void;
  readonly #py: PyodideAPI;
  readonly #host: GenerationHost;
  readonly #pairs = pairUpgrade();
  readonly #log = createLogger({ source: "test", level: "warning" });
  #loaded: Loaded | null = null;

  /**
   * @param start what the main thread asked for (src/script_tests.ts)
   * @param py the interpreter, loaded from the run's snapshot
   * @param post reports to the main thread
   */
  private constructor(
    start: TestStart,
    py: PyodideAPI,
    post: (msg: TestReport) => void,
  ) {
    this.#start = start;
    this.#py = py;
    this.#post = post;
    this.#host = this.#makeHost();
  }

  /**
   * Prepares the interpreter for a run: the test packages written, the host attached, the
   * working folder and the test files' folders mounted.
   *
   * @param start what the main thread asked for
   * @param py the interpreter
   * @param post reports to the main thread
   * @returns the thread, ready to {@link run}
   */
  static async open(
    start: TestStart,
    py: PyodideAPI,
    post: (msg: TestReport) => void,
  ): Promise<TestThread> {
    await writeTestPackages(py);
    const thread = new TestThread(start, py, post);
    attachHost(py, thread.#host);
    // What a test sees of the host, as a plain CPython run from there would: the working folder
    // and the test files' folders (read-write); a loaded script's folder is added by load().
    for (const folder of visibleFolders(start.cwd, start.files.map((f) => dirname(f)))) {
      mountFolder(py, folder, "rw");
    }
    return thread;
  }

  /** @returns the runner's counts, as JSON */
  async run(): Promise<string> {
    const { files, cwd, only, keyword } = this.#start;
    const runner: PyProxy = this.#py.pyimport("siphon_sdk._runner");
    this.#host.clock.start();
    try {
      return await runner.run(JSON.stringify(files), cwd, JSON.stringify({ only, keyword }));
    } finally {
      this.#host.clock.stop();
    }
  }

  #makeHost(): GenerationHost {
    const { control, env } = this.#start;
    const interrupt = new Int32Array(control.interrupt, 0, 1);
    const kill = new Int32Array(control.interrupt, 4, 1);
    const life = workerLife({ batch: false });
    const log = this.#log;
    const post = this.#post;
    return {
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
        // one worker under test, so the memory backend whatever the config says
        pubsub: new PubSub(
          { backend: "memory", subscriber_queue: 1024 },
          life.metrics,
          () => {},
          log,
        )
          .forPython(),
        harness: this.#harness(),
      },
      env: { ...env, SIPHON_WORKER: "1" },
      log,
      clock: new DeadlineClock(new Float64Array(control.clock)),
      interrupt,
      life,
      upgrade: this.#pairs.upgrade,
      onFatal: (cause) => log.error(`the Python runtime failed: ${cause}`),
    };
  }

  /** What `siphon_sdk`'s harness calls. */
  #harness(): HarnessForPython {
    return {
      load: (call) => this.#load(JSON.parse(call)),
      request: (call, body) => this.#request(JSON.parse(call), body),
      websocket: (call) => this.#websocket(JSON.parse(call)),
      write: (text) => void Deno.stdout.writeSync(encoder.encode(text)),
      cacheData: (name, entries) =>
        this.#post({ type: "cache_data", name, entries: entries ? JSON.parse(entries) : null }),
    };
  }

  /**
   * `HttpTestHarness.load_script`: the script with its http.yaml (given as a path or as the
   * harness's dict, or beside it and naming it, else defaults; `${VAR}` from Python's
   * os.environ), its routes compiled and the first listener's request path built.
   *
   * @returns JSON `{ routes: [[methods, template, source]…], config }`
   */
  async #load(call: LoadCall): Promise<string> {
    const { script, config: configPath, inline, env } = call;
    try {
      const config = forTests(
        inline
          ? parseConfig(inline, { file: "HttpTestHarness(config)", dir: dirname(script), env })
          : await this.#configFor(script, configPath, env),
      );
      this.#post({ type: "caches", config });
      const { context, routes } = buildGeneration({ config, python: this.#py, host: this.#host });
      const handle = requestHandler(listenerFor(config.servers[0], context));
      this.#loaded = { config, handle };
      return JSON.stringify({
        routes: routes.defs.map((d) => [d.methods, d.template, d.source]),
        config: config.file,
      });
    } catch (e) {
      throw new Error(errorText(e));
    }
  }

  async #configFor(
    script: string,
    configPath: string | null,
    env: Record<string, string>,
  ): Promise<Config> {
    const install = (config: Config, cacheDir: string) => this.#install(config, cacheDir);
    const cwd = this.#start.cwd;
    if (configPath) return await loadConfig(configPath, { env, cwd, install });
    const beside = join(dirname(script), "http.yaml");
    try {
      const config = await loadConfig(beside, { env, cwd, install });
      if (config.script === script) return config;
    } catch { /* no usable http.yaml beside the script: defaults */ }
    return parseConfig(
      `script: ${JSON.stringify(script)}\nservers:\n  - listen: "127.0.0.1:8080"\n`,
      { file: "(defaults)", dir: dirname(script), env },
    );
  }

  /**
   * Installs a config's `python.packages` — in the main thread: this one may not write the
   * cache, which serving workers load (src/script_tests.ts).
   */
  #install(config: Config, cacheDir: string): Promise<Config> {
    const { wheels } = config.python;
    if (wheels.length === 0) return Promise.resolve(config);
    const site = JSON.parse(ask(
      this.#start.control.cache,
      () => this.#post({ type: "install", file: config.file, wheels, cacheDir }),
      300_000,
    ));
    return Promise.resolve({ ...config, python: { ...config.python, site } });
  }

  /** `HttpTestHarness.request`: one request through the loaded script's request path. */
  async #request(call: HarnessCall, body: Uint8Array | null): Promise<HarnessAnswer> {
    if (!this.#loaded) throw new Error("HttpTestHarness: call load_script() first");
    const answer = await harnessRequest(this.#loaded, { ...call, body });
    this.#host.interrupt[0] = 0; // an interrupt meant for the handler must not land in the test
    return answer;
  }

  /**
   * `HttpTestHarness.websocket`: an upgrade request through the loaded script's request path;
   * the handler gets the server end of an in-memory pair.
   *
   * @returns the client end when the handler accepted, else the refusal as `request` gives it
   */
  async #websocket(call: Omit<HarnessCall, "method">): Promise<ClientEnd | HarnessAnswer> {
    const upgrade: [string, string][] = [
      ["upgrade", "websocket"],
      ["connection", "Upgrade"],
      ["sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="],
      ["sec-websocket-version", "13"],
    ];
    const headers = [...upgrade, ...call.headers];
    const answer = await this.#request({ ...call, method: "GET", headers }, null);
    return this.#pairs.accepted() ?? answer;
  }
}

/** `load_script`'s call (../bridge/contract.ts `HarnessForPython.load`). */
interface LoadCall {
  script: string;
  config: string | null;
  inline: string | null;
  env: Record<string, string>;
}

/** What changes under test: every cache in memory (fresh per harness), no access log. */
function forTests(config: Config): Config {
  const cache = Object.fromEntries(
    Object.entries(config.cache).map(([n, c]) => [n, { ...c, backend: "memory" as const }]),
  );
  return { ...config, cache, log: { ...config.log, access: false } };
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
