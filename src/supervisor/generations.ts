/**
 * Moving workers to a config — the one way it is done, on reload, when a dead worker is
 * replaced and when a worker is recycled: every worker `prepare`s the new generation beside
 * the one it serves; only when all have it do they `commit`. A prepare that fails makes every
 * worker `abort` what it prepared, so the serving generation stays untouched. Boot is the same
 * two steps with nothing serving yet to stay consistent with, so each worker commits (starts
 * accepting) as soon as it has prepared ({@link boot}).
 *
 * Boundary: supervisor-side; the messages are src/protocol.ts's, the worker's half is
 * workers/worker.ts.
 *
 * @module
 */
import type { Config } from "../config/load.ts";
import type { FromWorker, ToWorker } from "../protocol.ts";
import { mark } from "../start/marks.ts";
import { askWorkers, type Slot } from "./ask.ts";
import type { SnapshotFile } from "../snapshot/file.ts";

/** Options for {@link advance}. */
export interface AdvanceOptions {
  slots: Slot[];
  config: Config;
  /** The snapshot the generation starts from. */
  snapshot: SnapshotFile | null;
  /** Python's environment for the generation (./permissions.ts `pythonEnv`). */
  env: Record<string, string>;
  /** Whether request spans are named after routes (OpenTelemetry on). */
  tracing: boolean;
  /** Give up on a worker that does not answer a step in this long. */
  timeoutMs: number;
  /** Looks at what was prepared before anything commits; throws to refuse it (every worker
   * then aborts). @default accept */
  check?: (prepared: FromWorker[]) => void;
}

/**
 * Prepares `config` on every slot, then commits it on every slot.
 *
 * @param options the workers, the config, the timeout per step
 * @returns each worker's `prepared` answer (how its interpreter started)
 * @throws {Error} with the worker's message when a prepare or a commit fails; after a failed
 *   prepare every worker was told to abort
 */
export async function advance(options: AdvanceOptions): Promise<FromWorker[]> {
  const { slots, config, snapshot, timeoutMs, env, tracing } = options;
  const send = (message: ToWorker) => (s: Slot) => s.send(message);
  let prepared: FromWorker[];
  try {
    prepared = await askWorkers({
      slots,
      want: "prepared",
      send: send({ type: "prepare", config, snapshot, env, tracing }),
      timeoutMs,
    });
    options.check?.(prepared);
  } catch (e) {
    await askWorkers({ slots, want: "aborted", send: send({ type: "abort" }), timeoutMs: 5000 })
      .catch(() => {});
    throw e;
  }
  await askWorkers({ slots, want: "committed", send: send({ type: "commit" }), timeoutMs });
  return prepared;
}

/** Options for {@link boot}. */
export interface BootOptions extends AdvanceOptions {
  /** A worker is accepting (its listeners are open). */
  onCommitted: (slot: Slot) => void;
}

/**
 * The first generation: each worker prepares it and commits as soon as it is ready, so the
 * first listener accepts while the other workers are still restoring their interpreters. The
 * server is ready (`/readyz`) when this returns.
 *
 * @param options the workers, the config, the timeout per step, who to tell of each commit
 * @returns each worker's `prepared` answer
 * @throws {Error} with the first failing worker's message (the caller ends every worker: a
 *   server that cannot boot all its workers does not start)
 */
export async function boot(options: BootOptions): Promise<FromWorker[]> {
  const { config, snapshot, timeoutMs, env, tracing } = options;
  let first = true;
  const prepared = await Promise.all(options.slots.map(async (slot) => {
    const ask = (want: FromWorker["type"], message: ToWorker) =>
      askWorkers({ slots: [slot], want, send: (s) => s.send(message), timeoutMs });
    const [answer] = await ask("prepared", { type: "prepare", config, snapshot, env, tracing });
    await ask("committed", { type: "commit" });
    if (first) mark("first worker listening");
    first = false;
    options.onCommitted(slot);
    return answer;
  }));
  mark("workers listening");
  return prepared;
}

/** A generation that prepared fine but is refused (no routes where some served). */
export class RefusedGeneration extends Error {}

/**
 * The routes a prepared generation has.
 *
 * @param prepared its workers' `prepared` answers
 * @returns the most any of them reported
 */
export function routesOf(prepared: FromWorker[]): number {
  return Math.max(0, ...prepared.map((m) => m.type === "prepared" ? m.routes : 0));
}

/**
 * A check for {@link advance} that refuses a generation with no routes while the serving one
 * has some (a script saved empty, or read half-written), unless the config allows it
 * (`allow_no_routes`).
 *
 * @param serving the new config, and the generation serving now with its route count
 * @returns the check
 */
export function refuseNoRoutes(
  serving: { config: Config; generation: number; routes: number },
): (prepared: FromWorker[]) => void {
  const { config, generation, routes } = serving;
  return (prepared) => {
    if (routesOf(prepared) > 0 || routes === 0 || config.allow_no_routes) return;
    throw new RefusedGeneration(
      `${config.script} defines no routes, while generation ${generation} serves ${routes}: ` +
        "refusing it (a script saved empty or half-written?). Set allow_no_routes: true in " +
        `${config.file} to serve a script with none`,
    );
  };
}
