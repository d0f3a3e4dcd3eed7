/**
 * The supervisor's memory caches: one {@link MemoryStore} per configured name, kept across hot
 * reloads (a reload adds new names, resizes changed ones and drops removed ones) and worker
 * replacements, since they live in the supervisor and not in a worker.
 *
 * @module
 */
import type { Config } from "../config/load.ts";
import { type CacheCall, MemoryStore } from "./memory_store.ts";

/** Every memory cache of the process. */
export class Caches {
  readonly #stores = new Map<string, MemoryStore>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Makes the set of caches match a config.
   *
   * @param config the config now serving
   */
  sync(config: Config): void {
    for (const [name, c] of Object.entries(config.cache)) {
      if (c.backend !== "memory") continue;
      const store = this.#stores.get(name);
      if (store) store.resize(c.max_entries);
      else this.#stores.set(name, new MemoryStore(c.max_entries));
    }
    for (const name of [...this.#stores.keys()]) {
      if (config.cache[name]?.backend !== "memory") this.#stores.delete(name);
    }
    this.#timer ??= setInterval(() => {
      for (const s of this.#stores.values()) s.sweep();
    }, 1000);
  }

  /**
   * Runs one operation and encodes its answer for the worker.
   *
   * @param name cache name
   * @param call the operation
   * @returns `{ ok, json }`: the result, or the error message, as JSON
   */
  run(name: string, call: CacheCall): { ok: boolean; json: string } {
    const store = this.#stores.get(name);
    if (!store) return { ok: false, json: JSON.stringify(`no memory cache named "${name}"`) };
    try {
      return { ok: true, json: JSON.stringify(store.exec(call)) };
    } catch (e) {
      return { ok: false, json: JSON.stringify((e as Error).message) };
    }
  }

  /** Stops the expiry sweep. */
  close(): void {
    clearInterval(this.#timer);
  }
}
