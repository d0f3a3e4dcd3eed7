/**
 * A worker's set of listeners, one per address of the generation it serves. A commit opens the
 * addresses the new generation adds (before closing any), moves the ones it keeps to the new
 * settings in place (their sockets never close), and closes the ones it drops. Each listener is
 * kept accepting (src/keep_serving.ts): one whose accept loop ended by itself — descriptor
 * exhaustion — is bound again, and the supervisor is told it is down until then, so `/readyz`
 * says 503 meanwhile.
 *
 * Boundary: worker-side; a listener's request path is ./request_path.ts.
 *
 * @module
 */
import type { Config } from "../../src/config/load.ts";
import { keepServing, type KeptServer } from "../../src/keep_serving.ts";
import type { RequestContext } from "./context.ts";
import { type Listener, listenerFor, listenerKey, startListener } from "./listener.ts";

type ServerConfig = Config["servers"][number];

/** Options for {@link Listeners}. */
export interface ListenersOptions {
  /** A listener stopped accepting by itself (`up` false), or accepts again (`up` true). */
  onChange: (listen: string, up: boolean, cause: string) => void;
}

/** One worker's listeners. */
export class Listeners {
  readonly #held = new Map<string, { listener: Listener; kept: KeptServer }>();
  readonly #options: ListenersOptions;

  /** @param options who is told when a listener goes down or comes back */
  constructor(options: ListenersOptions) {
    this.#options = options;
  }

  /**
   * Makes the open listeners match `servers`, with `ctx` as their request context.
   *
   * @param servers the generation's listeners
   * @param ctx the generation's request context
   * @throws {Error} when a new address cannot be bound; the ones opened by this call are closed
   *   again and the others are as they were
   */
  async commit(servers: ServerConfig[], ctx: RequestContext): Promise<void> {
    const wanted = new Map(servers.map((s) => [listenerKey(s), s]));
    const opened: [string, { listener: Listener; kept: KeptServer }][] = [];
    try {
      for (const [key, server] of wanted) {
        if (this.#held.has(key)) continue;
        const listener = listenerFor(server, ctx);
        opened.push([key, { listener, kept: await this.#keep(listener) }]);
      }
    } catch (e) {
      await Promise.all(opened.map(([, l]) => l.kept.stop()));
      throw e;
    }
    for (const [key, entry] of this.#held) {
      const server = wanted.get(key);
      if (server) {
        listenerFor(server, ctx, entry.listener);
      } else {
        this.#held.delete(key);
        entry.kept.stop().catch(() => {});
        ctx.log.info(`closed listener ${key}`);
      }
    }
    for (const [key, entry] of opened) this.#held.set(key, entry);
  }

  /** Stops every listener for good (draining, or the interpreter failed). */
  stopAll(): Promise<void> {
    const all = [...this.#held.values()].map((l) => l.kept.stop().catch(() => {}));
    return Promise.all(all).then(() => {});
  }

  #keep(listener: Listener): Promise<KeptServer> {
    const listen = listener.server.listen.text;
    return keepServing({
      name: `listener ${listen}`,
      start: () => startListener(listener),
      log: () => listener.ctx.log,
      onDown: (cause) => {
        listener.ctx.life.metrics.listenerFailures++;
        this.#options.onChange(listen, false, cause);
      },
      onUp: () => this.#options.onChange(listen, true, ""),
    });
  }
}
