/**
 * `siphon-deno check`: what `serve` would refuse, found without serving. After the config
 * passed validation, one throwaway worker imports the script in a fresh interpreter and
 * compiles the route table exactly as a serving worker does, so a SyntaxError, an import error,
 * a `handler:` naming no function and a route clash come back with the same file:line messages.
 * `on_startup` hooks are not run: they may need the services the server talks to.
 *
 * Boundary: supervisor-side; no listener is opened.
 *
 * @module
 */
import type { Config } from "../config/load.ts";
import type { Logger } from "../log.ts";
import { askWorkers } from "./ask.ts";
import { configPermissions, pythonEnv } from "./permissions.ts";
import { preparePython } from "../snapshot/build.ts";
import { spawnWorker } from "./spawn.ts";

/**
 * Imports the script of `config` and compiles its routes in a worker of its own.
 *
 * @param config a validated config
 * @param log for the snapshot cache's messages
 * @returns the number of routes (http.yaml and decorators together)
 * @throws {Error} with serve's message when the script cannot be imported or its routes compiled
 */
export async function checkScript(config: Config, log: Logger): Promise<{ routes: number }> {
  const python = preparePython({ log });
  const env = Deno.env.toObject();
  const slot = spawnWorker({ id: 1, python, permissions: configPermissions(config, env, "check") });
  try {
    await python; // the worker's init goes first
    const [answer] = await askWorkers({
      slots: [slot],
      want: "checked",
      send: (s) => s.send({ type: "check", config, env: pythonEnv(config, env) }),
      timeoutMs: 180_000,
    });
    return { routes: answer.type === "checked" ? answer.routes : 0 };
  } finally {
    slot.worker.terminate();
  }
}
