/**
 * The supervisor's memory caches: one {@link MemoryStore} per configured memory cache, and one
 * per redis cache with `local_ttl_secs` (its process-local copy), kept across hot reloads (a
 * reload adds new names, resizes changed ones and drops removed ones) and worker replacements,
 * since they live in the supervisor and not in a worker.
 *
 * @module
 */
import type { Config } from "../config/load.ts";
import { CHANNEL_BYTES } from "./channel.ts";
import { type CacheCall, CacheLimitError, MemoryStore, type StoreLimits } from "./memory_store.ts";

type CacheConfig = Config["cache"][string];

/** Whether the process keeps a store for this cache: a memory cache, or a redis one's copy. */
export function isLocal(c: CacheConfig): boolean {
  return c.backend === "memory" || c.local_ttl_secs !== undefined;
}

/**
 * What Python's `siphon.cache` is told a cache is.
 *
 * @param c the cache's config
 * @returns `memory`, `redis`, or `redis+local` (a redis cache with a process-local copy)
 */
export function cacheKind(c: CacheConfig): "memory" | "redis" | "redis+local" {
  if (c.backend === "memory") return "memory";
  return c.local_ttl_secs === undefined ? "redis" : "redis+local";
}

/** Every memory cache of the process. */
export class Caches {
  readonly #stores = new Map<string, MemoryStore>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Writes refused for `max_value_bytes` (or a key too long), over every cache. */
  #refused = 0;
  /** Entries evicted for `max_bytes` by caches since dropped. */
  #evictedBefore = 0;

  /**
   * Makes the set of caches match a config.
   *
   * @param config the config now serving
   */
  sync(config: Config): void {
    const held = Object.entries(config.cache).filter(([, c]) => isLocal(c));
    for (const [name, c] of held) {
      const limits: StoreLimits = {
        maxEntries: c.max_entries,
        lifetimeMs: c.local_ttl_secs === undefined ? Infinity : c.local_ttl_secs * 1000,
        maxBytes: c.max_bytes,
        maxValueBytes: c.max_value_bytes,
        copy: c.backend === "redis",
      };
      const store = this.#stores.get(name);
      if (store) store.resize(limits);
      else this.#stores.set(name, new MemoryStore(limits));
    }
    for (const [name, store] of [...this.#stores]) {
      const c = config.cache[name];
      if (c && isLocal(c)) continue;
      this.#evictedBefore += store.evictedForBytes;
      this.#stores.delete(name);
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
      if (e instanceof CacheLimitError) this.#refused++;
      return { ok: false, json: JSON.stringify((e as Error).message) };
    }
  }

  /** @returns each cache's bytes held, and what the bounds refused or evicted (for /metrics) */
  usage(): { bytes: Record<string, number>; refused: number; evicted: number } {
    const bytes: Record<string, number> = {};
    let evicted = this.#evictedBefore;
    for (const [name, store] of this.#stores) {
      bytes[name] = store.bytes;
      evicted += store.evictedForBytes;
    }
    return { bytes, refused: this.#refused, evicted };
  }

  /**
   * Replaces one store with a fresh one holding `entries` (the script test harness's
   * `cache.set_data`), or drops it.
   *
   * @param name cache name
   * @param entries what it holds; null drops the cache
   */
  fill(name: string, entries: Record<string, string> | null): void {
    if (entries === null) {
      this.#stores.delete(name);
      return;
    }
    const store = new MemoryStore({
      maxEntries: Math.max(10000, Object.keys(entries).length),
      maxBytes: Infinity,
      maxValueBytes: CHANNEL_BYTES - 1024,
    });
    for (const [key, value] of Object.entries(entries)) store.exec({ op: "store", key, value });
    this.#stores.set(name, store);
  }

  /** Stops the expiry sweep. */
  close(): void {
    clearInterval(this.#timer);
  }
}
