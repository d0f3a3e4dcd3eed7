/**
 * A generation host for building a generation in process, without a supervisor or a network:
 * the benches (bench/bridge_bench.ts, bench/request_path_bench.ts, bench/stages_server.ts) and
 * the bridge's unit test build theirs here, so they stay the host a worker builds
 * (workers/worker.ts) minus what needs the supervisor. Python can log and sleep; `http.Client`
 * calls fail.
 *
 * Boundary: benches and tests only; serving and script tests build their own hosts.
 *
 * @module
 */
import type { Logger } from "../../src/log.ts";
import { workerLife } from "../serve/life.ts";
import { DeadlineClock } from "../base/deadlines.ts";
import type { PythonServices } from "../bridge/contract.ts";
import type { GenerationHost } from "../generation/generation.ts";

/** Options for {@link offlineHost}. */
export interface OfflineHostOptions {
  log: Logger;
  /** Python's `log.*` lines. @default dropped */
  pythonLog?: PythonServices["log"];
  /** Requests that arrive in one turn run back to back, as under load. @default false */
  batch?: boolean;
  /** @default a clock of its own, not started */
  clock?: DeadlineClock;
  /** Pyodide's interrupt flag. @default a flag of its own */
  interrupt?: Int32Array;
  /** The interpreter failed. @default throws: nothing should go on with a dead interpreter */
  onFatal?: (cause: string) => void;
}

/**
 * A host with no network and no supervisor.
 *
 * @param options the logger and what differs from the defaults
 * @returns the host for `buildGeneration`
 */
export function offlineHost(options: OfflineHostOptions): GenerationHost {
  return {
    services: {
      log: options.pythonLog ?? (() => {}),
      wait: () => 0,
      killed: () => false,
      fetch: () => Promise.reject(new Error("no network in an in-process bench or test")),
    },
    env: {},
    log: options.log,
    clock: options.clock ?? new DeadlineClock(new Float64Array(2)),
    interrupt: options.interrupt ?? new Int32Array(new SharedArrayBuffer(8)),
    life: workerLife({ batch: options.batch ?? false }),
    onFatal: options.onFatal ?? ((cause) => {
      throw new Error(cause);
    }),
  };
}
