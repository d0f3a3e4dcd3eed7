/**
 * `siphon.pubsub` in one worker: subscriptions (each an {@link Inbox} Python reads), and the
 * backend that carries a published message to the other subscribers — `memory`: every worker of
 * this process, relayed by the supervisor; `redis`: every replica, through Redis PUBLISH /
 * SUBSCRIBE (one connection to publish, one to listen, per worker).
 *
 * Order: one publisher's messages reach each subscriber in the order it published them (the
 * worker→supervisor→worker channels and a Redis connection are each first-in first-out). A
 * subscriber whose queue holds `subscriber_queue` messages misses the next ones (counted as
 * dropped) instead of holding up the others.
 *
 * On Redis, text goes as its UTF-8 bytes (so any Redis client can publish or read it) and bytes
 * go behind a two-byte mark (`\0b`); a message from elsewhere that is not UTF-8 arrives as bytes.
 *
 * Boundary: worker-side; Python calls {@link PubSub.forPython}, the worker hands relayed
 * messages to {@link PubSub.deliver}.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { RedisClientType } from "redis";
import type { Config } from "../../src/config/load.ts";
import type { Logger } from "../../src/log.ts";
import type { Message, PubSubForPython } from "../bridge/contract.ts";
import type { Metrics } from "../base/metrics.ts";
import { Inbox } from "../base/inbox.ts";
import { redisClient, type RedisTrouble, redisTrouble } from "./redis_cache.ts";

/** Carries messages between workers or replicas. */
interface Backend {
  publish(topic: string, message: Message): undefined | Promise<void>;
  /** Starts receiving `topic` (resolves when it does). */
  join(topic: string): Promise<void>;
  leave(topic: string): void;
}

interface Subscription {
  topic: string;
  inbox: Inbox<Message>;
}

/** One backend's subscriptions in this worker. */
export class PubSub {
  readonly #metrics: Metrics;
  readonly #backend: Backend;
  readonly #subs = new Map<number, Subscription>();
  readonly #topics = new Map<string, { subs: Set<Subscription>; joined: Promise<void> }>();
  #nextId = 1;
  /** Messages one subscriber may have waiting. */
  queue: number;

  /**
   * @param settings the config's `pubsub`
   * @param metrics where published, delivered and dropped messages are counted
   * @param relay memory backend: hands a message to the supervisor for the other workers
   * @param log where Redis trouble is reported
   */
  constructor(
    settings: Config["pubsub"],
    metrics: Metrics,
    relay: (topic: string, message: Message) => void,
    log: Logger,
  ) {
    this.#metrics = metrics;
    this.queue = settings.subscriber_queue;
    this.#backend = settings.backend === "redis"
      ? new RedisBackend(settings.url!, (topic, message) => this.deliver(topic, message), log)
      : {
        publish: (topic, message) => {
          this.deliver(topic, message);
          relay(topic, message);
          return undefined;
        },
        join: () => Promise.resolve(),
        leave: () => {},
      };
  }

  /**
   * Hands a message to every subscriber of `topic` in this worker.
   *
   * @param topic the topic
   * @param message the message
   */
  deliver(topic: string, message: Message): void {
    const subs = this.#topics.get(topic)?.subs;
    if (!subs) return;
    for (const sub of subs) {
      if (sub.inbox.length >= this.queue) {
        this.#metrics.dropped++;
      } else if (sub.inbox.push(message)) {
        this.#metrics.delivered++;
      }
    }
  }

  /** @returns the functions Python's `siphon.pubsub` calls */
  forPython(): PubSubForPython {
    return {
      publish: (topic, message) => {
        this.#metrics.published++;
        return this.#backend.publish(topic, message);
      },
      subscribe: (topic) => {
        const sub: Subscription = { topic, inbox: new Inbox() };
        const id = this.#nextId++;
        this.#subs.set(id, sub);
        let entry = this.#topics.get(topic);
        if (!entry) {
          entry = { subs: new Set(), joined: this.#backend.join(topic) };
          entry.joined.catch(() => {}); // reported to the subscriber that waits for it
          this.#topics.set(topic, entry);
        }
        entry.subs.add(sub);
        return id;
      },
      ready: (id) => {
        const sub = this.#subs.get(id);
        return sub ? this.#topics.get(sub.topic)!.joined : Promise.resolve();
      },
      take: (id, deliver) => {
        const got = this.#subs.get(id)?.inbox.take((m) => deliver(id, m)) ?? null;
        return got ?? undefined;
      },
      unsubscribe: (id) => {
        const sub = this.#subs.get(id);
        if (!sub) return;
        this.#subs.delete(id);
        sub.inbox.close();
        const entry = this.#topics.get(sub.topic)!;
        entry.subs.delete(sub);
        if (entry.subs.size === 0) {
          this.#topics.delete(sub.topic);
          this.#backend.leave(sub.topic);
        }
      },
    };
  }
}

/** A worker's pubsubs: one per backend (memory, or a Redis URL), whichever generation asks. */
export class PubSubs {
  readonly #metrics: Metrics;
  readonly #relay: (topic: string, message: Message) => void;
  #memory: PubSub | null = null;
  readonly #redis = new Map<string, PubSub>();

  /**
   * @param metrics the worker's counters
   * @param relay hands a memory-backend message to the supervisor for the other workers
   */
  constructor(metrics: Metrics, relay: (topic: string, message: Message) => void) {
    this.#metrics = metrics;
    this.#relay = relay;
  }

  /**
   * The pubsub for a generation's `pubsub:` (the same one for the same backend, so sockets of
   * an older generation keep hearing what newer ones publish).
   *
   * @param settings the config's `pubsub`
   * @param log where Redis trouble goes
   * @returns the pubsub
   */
  for(settings: Config["pubsub"], log: Logger): PubSub {
    const redis = settings.backend === "redis";
    let pubsub = redis ? this.#redis.get(settings.url!) : this.#memory;
    if (!pubsub) {
      pubsub = new PubSub(settings, this.#metrics, this.#relay, log);
      if (redis) this.#redis.set(settings.url!, pubsub);
      else this.#memory = pubsub;
    }
    pubsub.queue = settings.subscriber_queue;
    return pubsub;
  }

  /**
   * A message another worker published (memory backend).
   *
   * @param topic the topic
   * @param message the message
   */
  relayed(topic: string, message: Message): void {
    this.#memory?.deliver(topic, message);
  }
}

const BYTES_MARK = [0, 0x62]; // "\0b"
/** Longest a publish to Redis may take before it fails (Redis down or unreachable). */
const PUBLISH_TIMEOUT_MS = 5000;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * A message as Redis carries it.
 *
 * @param message text or bytes
 * @returns text as is, bytes behind the mark
 */
export function toRedis(message: Message): string | Buffer {
  if (typeof message === "string") return message;
  const out = Buffer.alloc(message.byteLength + 2);
  out.set(BYTES_MARK);
  out.set(message, 2);
  return out;
}

/**
 * A message as Redis delivered it.
 *
 * @param raw the channel message's bytes
 * @returns bytes when marked (or not UTF-8), else text
 */
export function fromRedis(raw: Uint8Array): Message {
  // a plain Uint8Array copy: node-redis hands a Buffer, which Pyodide cannot convert
  if (raw[0] === BYTES_MARK[0] && raw[1] === BYTES_MARK[1]) return new Uint8Array(raw.subarray(2));
  try {
    return strictUtf8.decode(raw);
  } catch {
    return new Uint8Array(raw);
  }
}

/** Redis pub/sub: a connection that publishes, another that listens (node-redis resubscribes
 * after a reconnect). */
class RedisBackend implements Backend {
  readonly #url: string;
  readonly #deliver: (topic: string, message: Message) => void;
  readonly #trouble: RedisTrouble;
  #clients: Promise<{ pub: RedisClientType; sub: RedisClientType }> | undefined;

  constructor(url: string, deliver: (topic: string, message: Message) => void, log: Logger) {
    this.#url = url;
    this.#deliver = deliver;
    this.#trouble = redisTrouble(log, "pubsub redis");
  }

  async publish(topic: string, message: Message): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${PUBLISH_TIMEOUT_MS} ms`)),
        PUBLISH_TIMEOUT_MS,
      );
    });
    try {
      const { pub } = await Promise.race([this.#connected(), timeout]);
      await Promise.race([pub.publish(topic, toRedis(message)), timeout]);
    } catch (e) {
      throw new Error(`pubsub redis ${this.#url}: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  join(topic: string): Promise<void> {
    return this.#connected().then(({ sub }) =>
      sub.subscribe(topic, (raw: Uint8Array) => this.#deliver(topic, fromRedis(raw)), true)
    ).catch((e) => {
      throw new Error(`pubsub redis ${this.#url}: ${(e as Error).message}`);
    });
  }

  leave(topic: string): void {
    this.#connected().then(({ sub }) => sub.unsubscribe(topic)).catch(() => {});
  }

  #connected(): Promise<{ pub: RedisClientType; sub: RedisClientType }> {
    return this.#clients ??= this.#connect().catch((e) => {
      this.#clients = undefined; // the next call tries again
      throw e;
    });
  }

  async #connect(): Promise<{ pub: RedisClientType; sub: RedisClientType }> {
    const pub = await redisClient(this.#url, this.#trouble);
    const sub = await redisClient(this.#url, this.#trouble);
    await Promise.all([pub.connect(), sub.connect()]);
    return { pub, sub };
  }
}
