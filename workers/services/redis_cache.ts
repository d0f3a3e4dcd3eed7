/**
 * The `redis` backend of `siphon.cache`, run in each worker: one client per Redis URL per
 * worker (its own connection, reconnecting with backoff). While Redis is unreachable, commands
 * fail at once with the URL in the message instead of queueing, and no command waits longer
 * than the timeout, so a handler never hangs on the cache.
 *
 * @module
 */
import type { RedisClientType } from "redis";
import type { CacheCall } from "../../src/cache/memory_store.ts";
import type { Logger } from "../../src/log.ts";

/** Connection settings of one redis cache. */
export interface RedisSpec {
  url: string;
  prefix: string;
}

/** One worker's Redis connections. */
export class RedisCaches {
  readonly #clients = new Map<string, { client?: RedisClientType; first: Promise<unknown> }>();
  readonly #timeoutMs: number;
  readonly #trouble: RedisTrouble;

  /**
   * @param log where connection trouble is reported (at most once a second)
   * @param timeoutMs longest a command may take
   */
  constructor(log: Logger, timeoutMs = 2000) {
    this.#trouble = redisTrouble(log, "redis");
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Runs one operation.
   *
   * @param spec URL and key prefix
   * @param call the operation
   * @returns the result as JSON (same shapes as the memory backend)
   * @throws {Error} `redis URL: reason` when Redis is unreachable, slow or refuses the command
   */
  async run(spec: RedisSpec, call: CacheCall): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no answer within ${this.#timeoutMs} ms`)),
          this.#timeoutMs,
        );
      });
      const work = this.#client(spec.url).then((c) =>
        call.op === "list_len_sum"
          ? listLenSum(c, spec.prefix + call.key)
          : this.#exec(c, spec.prefix + call.key, call)
      );
      const result = await Promise.race([work, timeout]);
      return JSON.stringify(result);
    } catch (e) {
      throw new Error(`redis ${spec.url}: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async #exec(c: RedisClientType, key: string, call: CacheCall): Promise<unknown> {
    const px = call.ttlMs === undefined ? {} : { PX: Math.max(1, call.ttlMs) };
    switch (call.op) {
      case "fetch":
        return await c.get(key);
      case "store":
        await c.set(key, call.value ?? "", px);
        return null;
      case "exists":
        return (await c.exists(key)) === 1;
      case "delete":
        return (await c.del(key)) === 1;
      case "add":
        return (await c.set(key, call.value ?? "", { ...px, NX: true })) === "OK";
      case "incr":
        return await c.incrBy(key, call.by ?? 1);
      case "expire":
        return Boolean(await c.pExpire(key, Math.max(1, call.ttlMs ?? 0)));
      case "list_push":
        return await c.rPush(key, call.value ?? "");
      case "list_len":
        return await c.lLen(key);
      case "list_pop_all": {
        const [items] = await c.multi().lRange(key, 0, -1).del(key).exec();
        return items;
      }
    }
  }

  /** The connected client for `url`; the first call waits for the first connection. */
  async #client(url: string): Promise<RedisClientType> {
    const known = this.#clients.get(url);
    if (known) {
      if (known.client?.isReady) return known.client;
      await known.first;
      if (!known.client?.isReady) throw new Error("not connected (reconnecting)");
      return known.client;
    }
    const entry: { client?: RedisClientType; first: Promise<unknown> } = {
      first: Promise.resolve(),
    };
    entry.first = this.#connect(url, entry);
    this.#clients.set(url, entry);
    await entry.first;
    if (!entry.client?.isReady) throw new Error("cannot connect");
    return entry.client;
  }

  async #connect(url: string, entry: { client?: RedisClientType }): Promise<void> {
    const client = await redisClient(url, this.#trouble, {
      disableOfflineQueue: true,
      connectTimeoutMs: this.#timeoutMs,
    });
    entry.client = client;
    await client.connect().catch(() => {}); // trouble shows as the error event
  }
}

/** Reports a client's connection trouble: `label URL: what; reconnecting`, once a second. */
export type RedisTrouble = (url: string, e: Error) => void;

/**
 * One warning a second at most, shared by the clients of one owner.
 *
 * @param log where it goes
 * @param label what the clients are for, e.g. `redis` (a cache) or `pubsub redis`
 * @returns the reporter
 */
export function redisTrouble(log: Logger, label: string): RedisTrouble {
  let last = 0;
  return (url, e) => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    log.warning(`${label} ${url}: ${e.message || e.name}; reconnecting`);
  };
}

/**
 * A node-redis client for `url`, not yet connected: it reconnects with backoff (50 ms doubling
 * to 2 s) and reports trouble through `trouble`.
 *
 * @param url redis:// or rediss://
 * @param trouble where connection errors go
 * @param options `disableOfflineQueue`: fail commands at once while disconnected;
 *   `connectTimeoutMs`: node-redis's connect timeout (its default when absent)
 * @returns the client
 */
export async function redisClient(
  url: string,
  trouble: RedisTrouble,
  options: { disableOfflineQueue?: boolean; connectTimeoutMs?: number } = {},
): Promise<RedisClientType> {
  const { createClient } = await loadRedis();
  const client = createClient({
    url,
    ...(options.disableOfflineQueue ? { disableOfflineQueue: true } : {}),
    socket: {
      ...(options.connectTimeoutMs ? { connectTimeout: options.connectTimeoutMs } : {}),
      reconnectStrategy: (attempt: number) => Math.min(50 * 2 ** attempt, 2000),
    },
  }) as RedisClientType;
  client.on("error", (e: Error) => trouble(url, e));
  return client;
}

/** node-redis once its load started (one per thread: every generation shares it). */
const redis: { module?: Promise<typeof import("redis")> } = {};

/**
 * node-redis, loaded on first use: it takes about 0.4 s to load, which a worker that has no
 * redis cache should not pay before its first request. A generation with a redis cache calls
 * this early, without waiting, so the first cache call finds it loaded.
 *
 * @returns the module
 */
export function loadRedis(): Promise<typeof import("redis")> {
  return redis.module ??= import("redis");
}

/**
 * The summed length of the lists whose keys start with `prefix`: SCAN (matching the prefix
 * literally, lists only), then LLEN of each key found.
 */
async function listLenSum(c: RedisClientType, prefix: string): Promise<number> {
  const match = prefix.replace(/[*?[\]\\]/g, (ch) => "\\" + ch) + "*";
  const keys = new Set<string>();
  for await (const batch of c.scanIterator({ MATCH: match, TYPE: "list", COUNT: 512 })) {
    for (const key of [batch].flat()) keys.add(key);
  }
  let sum = 0;
  for (const key of keys) sum += await c.lLen(key);
  return sum;
}
