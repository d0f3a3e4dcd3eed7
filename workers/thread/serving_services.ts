/**
 * What a request worker's Python may call ({@link PythonServices}), per generation: its log,
 * sleep and interrupts, asyncio's scheduler under a deadline, outbound HTTP, the caches,
 * WebSockets and pubsub. The clients, Redis connections and pubsub backends last as long as the
 * worker; each generation gets its own log and config-bound calls.
 *
 * Boundary: worker-side; handed to Python once per interpreter by
 * ../generation/generation.ts (../bridge/contract.ts `attach`).
 *
 * @module
 */
import type { Config } from "../../src/config/load.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import type { FromWorker, ToWorker } from "../../src/protocol.ts";
import type { DeadlineClock } from "../base/deadlines.ts";
import type { PythonServices } from "../bridge/contract.ts";
import type { WorkerLife } from "../serve/context.ts";
import { cacheCalls } from "../services/cache_calls.ts";
import { Outbound } from "../services/outbound.ts";
import { PubSubs } from "../services/pubsub.ts";
import { loadRedis, RedisCaches } from "../services/redis_cache.ts";
import { fastScheduler, underDeadline } from "../services/scheduler.ts";

/** What the services need of their worker. */
export interface ServicesHost {
  init: Extract<ToWorker, { type: "init" }>;
  clock: DeadlineClock;
  /** Pyodide's interrupt flag (the first slot of the init's interrupt buffer). */
  interrupt: Int32Array;
  life: WorkerLife;
  post: (msg: FromWorker) => void;
}

/** One worker's services, built for each of its generations. */
export class ServingServices {
  readonly #host: ServicesHost;
  readonly #interrupt: Int32Array;
  readonly #kill: Int32Array;
  readonly #outbound = new Outbound();
  readonly #schedule = fastScheduler();
  readonly #redis = new RedisCaches(createLogger({ source: "redis" }));
  /** The configs of the generations that have served (their asyncio steps run under a deadline). */
  readonly #served = new WeakSet<Config>();
  /** siphon.pubsub: one per backend, shared by every generation of this worker. */
  readonly pubsubs: PubSubs;

  /** @param host the worker's channel, clock and counters */
  constructor(host: ServicesHost) {
    this.#host = host;
    this.#interrupt = host.interrupt;
    this.#kill = new Int32Array(host.init.control.interrupt, 4, 1);
    this.pubsubs = new PubSubs(
      host.life.metrics,
      (topic, message) => host.post({ type: "publish", topic, message }),
    );
  }

  /**
   * A generation of `config` is being built: Redis's client loads beside the interpreter (a
   * failure shows on first use).
   *
   * @param config the generation's config
   */
  prepare(config: Config): void {
    if (Object.values(config.cache).some((c) => c.backend === "redis")) {
      loadRedis().catch(() => {});
    }
  }

  /**
   * The generation of `config` serves: its asyncio steps run under a deadline from now on.
   *
   * @param config the generation's config
   */
  serving(config: Config): void {
    this.#served.add(config);
  }

  /**
   * The services of one generation's Python.
   *
   * @param config the generation's config
   * @param log the generation's logger
   * @returns what Python may call (the bridge adds `readBody`, `requestPart`, `routeLabel`)
   */
  forPython(
    config: Config,
    log: Logger,
  ): Omit<PythonServices, "readBody" | "requestPart" | "routeLabel"> {
    const { clock, life, init, post } = this.#host;
    const interrupt = this.#interrupt;
    const kill = this.#kill;
    const outbound = this.#outbound;
    return {
      log: (level, text, rid) => log.at(level, text, rid ? { request_id: rid } : undefined),
      wait: (ms) => Atomics.wait(interrupt, 0, 0, ms),
      killed: () => Atomics.load(kill, 0) === 1,
      schedule: underDeadline(this.#schedule, {
        clock,
        interrupt,
        limitMs: Math.max(...config.servers.map((s) => s.request_timeout_ms)),
        serving: () => this.#served.has(config),
      }),
      fetch: (request, body) => outbound.fetch(request, body),
      fetchStream: (request, body) => outbound.fetchStream(request, body),
      readStream: (id) => outbound.read(id),
      closeStream: (id) => outbound.close(id),
      ...cacheCalls(config, {
        channel: () => init.control.cache,
        post: (name, call) => post({ type: "cache", name, call }),
        redis: this.#redis,
        metrics: life.metrics,
      }),
      sockets: life.sockets.forPython(),
      pubsub: this.pubsubs.for(config.pubsub, log).forPython(),
    };
  }
}
