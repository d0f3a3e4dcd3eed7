/**
 * Every message between the supervisor (main thread) and a worker: one tagged union per
 * direction. Nothing else crosses the thread boundary; requests never do.
 *
 * @module
 */
import type { CacheCall } from "./cache/memory_store.ts";
import type { Config } from "./config/load.ts";
import type { MetricsSnapshot } from "./metrics_snapshot.ts";
import type { SnapshotFile } from "./snapshot/file.ts";

/** Shared memory the supervisor's watchdog reads and writes for one worker. */
export interface WorkerControl {
  /**
   * Int32[0]: Pyodide's interrupt flag; the watchdog stores 2 to raise KeyboardInterrupt.
   * Int32[1]: the kill flag; once 1, the next interrupt makes Python exit (siphon's SIGINT
   * handler calls os._exit), which unwinds even code that swallows KeyboardInterrupt.
   */
  interrupt: SharedArrayBuffer;
  /** Float64[0]: earliest deadline (epoch ms) of the worker's in-flight requests, 0 if none;
   * Float64[1]: last time (epoch ms) the worker's event loop turned;
   * Float64[2]: since when (epoch ms) the worker is busy outside any request (building a
   * generation, collecting garbage), 0 if it is not (its loop may stand still then without it
   * being gone). */
  clock: SharedArrayBuffer;
  /** Where the supervisor writes answers to `cache` requests (src/cache/channel.ts). */
  cache: SharedArrayBuffer;
}

/**
 * Supervisor → worker. A worker serves one generation (config + interpreter + routes) at a
 * time. `prepare` builds the next one beside it; `commit` swaps it in (and opens or closes
 * listeners to match); `abort` drops it. The first generation goes through the same steps.
 */
export type ToWorker =
  | {
    type: "init";
    id: number;
    /** The memory snapshot file (the worker reads its image), or null for a cold load. */
    snapshot: SnapshotFile | null;
    /** Pyodide's wasm compiled by the supervisor, or null to compile it here. */
    wasm: WebAssembly.Module | null;
    control: WorkerControl;
    /** The private channel every later message travels on, both ways (src/supervisor/spawn.ts). */
    port: MessagePort;
  }
  | {
    type: "prepare";
    config: Config;
    /** The snapshot this generation starts from (config-dependent: `python.packages`). */
    snapshot: SnapshotFile | null;
    /** What Python's `os.environ` holds (`python.env`; the worker itself reads no variable). */
    env: Record<string, string>;
    /** Whether Deno's OpenTelemetry is on (`OTEL_DENO`): spans are named after routes. */
    tracing: boolean;
  }
  /** `siphon-deno check`: import the script and compile its routes (no on_startup), then stop. */
  | { type: "check"; config: Config; env: Record<string, string> }
  | { type: "commit" }
  | { type: "abort" }
  | { type: "stats" }
  | { type: "metrics" }
  /** A `siphon.pubsub` message another worker published (memory backend). */
  | { type: "published"; topic: string; message: string | Uint8Array }
  | { type: "stop"; graceMs: number; runShutdownHooks: boolean };

/** A worker's memory after a full collection in V8 and in Python (leak checks). */
export interface WorkerStats {
  id: number;
  /** V8 heap used by the worker's isolate, bytes. */
  heapUsed: number;
  /** Size of the worker's wasm memory (Python's heap lives in it), bytes. */
  wasmBytes: number;
  /** `len(gc.get_objects())`: objects the cyclic GC tracks (outside the frozen startup set). */
  pyObjects: number;
}

/** Worker → supervisor. Types ending in `_failed` answer the step they name. */
export type FromWorker =
  /** `routes`: how many routes the prepared generation serves. */
  | { type: "prepared"; id: number; python: "snapshot" | "cold"; ms: number; routes: number }
  | { type: "prepare_failed"; id: number; message: string }
  | { type: "committed"; id: number }
  | { type: "commit_failed"; id: number; message: string }
  | { type: "aborted"; id: number }
  | { type: "checked"; id: number; routes: number }
  | { type: "check_failed"; id: number; message: string }
  | { type: "stats"; stats: WorkerStats }
  | { type: "metrics"; id: number; snapshot: MetricsSnapshot }
  | { type: "stopped"; id: number }
  /** Unasked: the interpreter failed; the worker stopped accepting and wants replacing. */
  | { type: "died"; id: number; cause: string }
  /** Unasked: the worker passed `recycle.max_requests` or `recycle.max_memory_mb`. */
  | { type: "recycle"; id: number; reason: string }
  /** A `siphon.cache` operation on a memory cache; answered in `control.cache`. */
  | { type: "cache"; name: string; call: CacheCall }
  /** `siphon.pubsub` (memory backend): hand this message to every other worker. */
  | { type: "publish"; topic: string; message: string | Uint8Array }
  /** Unasked: a listener stopped accepting by itself (`up` false: it is being started again),
   * or accepts again (`up` true). The supervisor's `/readyz` is 503 while any is down. */
  | { type: "listener"; id: number; listen: string; up: boolean; cause: string }
  /** Unasked: a client's mutual-TLS handshake failed (the supervisor rate-limits the warning). */
  | { type: "handshake_failed"; failure: HandshakeFailure };

/** A failed mutual-TLS handshake on one listener. */
export interface HandshakeFailure {
  /** The listener, e.g. `127.0.0.1:8443`. */
  listen: string;
  /** Its `tls.client_ca` file. */
  clientCa: string;
  /** The client's address ("" when unknown). */
  peer: string;
  /** What the TLS layer said. */
  error: string;
}

/** What a `siphon-deno test` run counted. */
export interface TestCounts {
  passed: number;
  failed: number;
  skipped: number;
  /** Tests marked xfail that failed, as expected. */
  xfailed: number;
  /** Tests marked xfail that passed anyway (not strict). */
  xpassed: number;
  /** Tests left out by `file.py::name` or `-k`. */
  deselected: number;
}

/** `siphon-deno test`: main thread → the test thread (workers/test_worker.ts). */
export interface TestStart {
  type: "start";
  files: string[];
  cwd: string;
  /** Per file, the test names asked for (`file.py::name`); files not listed run whole. */
  only: Record<string, string[]>;
  /** `-k`: keep tests whose names match this expression. */
  keyword: string | null;
  control: WorkerControl;
  env: Record<string, string>;
  snapshot: SnapshotFile | null;
}

/** The test thread → main thread. */
export type TestReport =
  | ({ type: "done" } & TestCounts)
  | { type: "error"; message: string }
  | { type: "caches"; config: Config }
  | { type: "cache"; name: string; call: CacheCall }
  /** `harness.cache.set_data`: a memory cache holding `entries`; null drops the cache. */
  | { type: "cache_data"; name: string; entries: Record<string, string> | null }
  /** A loaded config's `python.packages`: the main thread installs them (the test thread may
   * not write the cache) and answers the folder on `control.cache`. */
  | { type: "install"; file: string; wheels: string[]; cacheDir: string };

/** Supervisor → snapshot builder, and its answers. */
export type ToSnapshotBuilder = {
  type: "build";
  wasm: WebAssembly.Module | null;
  /** Installed `python.packages` to import before the snapshot, or null. */
  site: string | null;
};
/** Snapshot builder → supervisor. */
export type FromSnapshotBuilder =
  | {
    type: "snapshot";
    bytes: Uint8Array;
    ms: number;
    /** Modules of `site` that could not be imported, each with why. */
    skipped: string[];
  }
  | { type: "fatal"; message: string };
