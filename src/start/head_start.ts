/**
 * The server's head start: what `serve` can begin before its own modules and the config are
 * loaded, because none of it depends on them — compiling Pyodide's wasm, reading the snapshot,
 * and the first worker thread, which loads its modules and then restores its interpreter as soon
 * as the snapshot is there. The supervisor adopts that worker as worker 1 (every config has at
 * least one); if the config is refused, the process exits and the worker with it.
 *
 * Boundary: main thread; main.ts starts it, src/cli.ts hands it to {@link Supervisor.start}.
 *
 * @module
 */
import { createHeldLogger, type HeldLogger } from "../log.ts";
import { preparePython, type PythonStart } from "../snapshot/build.ts";
import { type Spawned, spawnWorker } from "../supervisor/spawn.ts";
import { lastStart } from "./start_hint.ts";
import type { WorkerPermissions } from "../supervisor/permissions.ts";
import { configArgument, fromUser, parseCommandLine } from "../cli_args.ts";

/** Work begun before the config was read. */
export interface HeadStart {
  /** Holds the lines of the snapshot's read or build until the server's log exists. */
  log: HeldLogger;
  /** The snapshot and the compiled wasm. */
  python: Promise<PythonStart>;
  /** When {@link python} is there, or has begun building a snapshot (seconds): main.ts waits
   * for this before it loads the rest, so the worker's restore does not wait for a main thread
   * busy loading modules. */
  settled: Promise<void>;
  /** Worker 1, started with the permissions the last start of the config used; null when no
   * start is remembered (a thread's permissions are fixed when it starts). */
  worker: Spawned | null;
  /** Worker 1's permissions (the supervisor adopts it only if the config asks for the same). */
  permissions: WorkerPermissions | null;
  /** The process's environment. */
  env: Record<string, string>;
  /** The installed packages whose snapshot worker 1 restores: the last start's (./start_hint.ts). */
  site: string | null;
}

/**
 * Starts the snapshot, the wasm compile and worker 1.
 *
 * @param configFile the config `serve` will read ({@link serveConfig}): worker 1 restores the
 *   snapshot its last start used
 * @returns what was started
 */
export function headStart(configFile: string): HeadStart {
  const log = createHeldLogger();
  const env = Deno.env.toObject();
  const hint = lastStart(configFile, env);
  const site = hint?.site ?? null;
  // The thread first: preparing Python reads the wasm before it can hand back its promise.
  let begin!: () => void;
  let building!: () => void;
  const built = new Promise<void>((resolve) => building = resolve);
  const python = new Promise<void>((resolve) => begin = resolve).then(() =>
    preparePython({ log, onBuild: building, site })
  );
  const permissions = hint?.permissions ?? null;
  const worker = permissions ? spawnWorker({ id: 1, python, permissions }) : null;
  begin();
  const settled = Promise.race([python.then(() => {}, () => {}), built]);
  return { log, python, settled, env, worker, permissions, site };
}

/**
 * The config file of a command line worth a head start: `serve`, not asking for help or the
 * version, parsed as the CLI parses it (src/cli_args.ts).
 *
 * @param args the command line, without the program name
 * @returns the config file (absolute), or null: no head start (the CLI reports a bad line)
 */
export function serveConfig(args: string[]): string | null {
  try {
    const { values, positionals } = parseCommandLine(args);
    if (positionals[0] !== "serve" || values.help || values.version) return null;
    return fromUser(configArgument(values, positionals));
  } catch {
    return null;
  }
}
