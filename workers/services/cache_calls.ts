/**
 * `siphon.cache` as a worker's Python calls it: a memory cache through the supervisor (a
 * synchronous question over shared memory, src/cache/channel.ts), a redis cache through the
 * worker's Redis client. A value over the cache's `max_value_bytes` is refused here, before it
 * travels anywhere (the store checks again).
 *
 * Boundary: worker-side; Python's `siphon.cache` calls the two functions {@link cacheCalls}
 * returns.
 *
 * @module
 */
import type { Config } from "../../src/config/load.ts";
import { ask } from "../../src/cache/channel.ts";
import { type CacheCall, checkValueSize } from "../../src/cache/memory_store.ts";
import type { Metrics } from "../base/metrics.ts";
import type { RedisCaches } from "./redis_cache.ts";

/** What {@link cacheCalls} needs from the worker. */
export interface CacheHost {
  /** The worker's answer channel (shared with the supervisor). */
  channel: () => SharedArrayBuffer;
  /** Posts a `cache` message to the supervisor. */
  post: (name: string, call: CacheCall) => void;
  redis: RedisCaches;
  metrics: Metrics;
}

/**
 * The cache functions of one generation's Python.
 *
 * @param config the generation's config (its caches and their bounds)
 * @param host the worker's channel, Redis client and counters
 * @returns `cache` (memory, answered at once) and `cacheAsync` (redis)
 */
export function cacheCalls(config: Config, host: CacheHost): {
  cache(name: string, callJson: string): string;
  cacheAsync(name: string, callJson: string): Promise<string>;
} {
  const checked = (name: string, callJson: string): CacheCall => {
    const call: CacheCall = JSON.parse(callJson);
    try {
      checkValueSize(call, config.cache[name]?.max_value_bytes ?? Infinity);
    } catch (e) {
      host.metrics.hit("cache.max_value_bytes");
      throw e;
    }
    return call;
  };
  return {
    cache: (name, callJson) => {
      const call = checked(name, callJson);
      return ask(host.channel(), () => host.post(name, call), 5000);
    },
    cacheAsync: async (name, callJson) => {
      const c = config.cache[name];
      const call = checked(name, callJson);
      return await host.redis.run({ url: c.url!, prefix: c.prefix }, call);
    },
  };
}
