/**
 * `recycle.max_rss_mb`: the process's RSS (what a container's memory limit counts) against a
 * bound. Past it, the worker holding the most memory (wasm + V8 heap, after a collection) gets a
 * fresh interpreter, one at a time, with a pause after each so the freed memory shows in RSS
 * before the next check.
 *
 * Boundary: supervisor-side, once a second; never on the request path.
 *
 * @module
 */
import type { Logger } from "../log.ts";
import type { WorkerStats } from "../protocol.ts";

const MIB = 1024 * 1024;

/** What {@link RssGuard} needs from the supervisor. */
export interface RssGuardOptions {
  /** The bound in MiB now (0: off); read at every check, so a reload can change it. */
  limitMb: () => number;
  /** Each worker's memory. */
  stats: () => Promise<WorkerStats[]>;
  /** Recycles one worker; resolves when its fresh interpreter serves. */
  recycle: (id: number, reason: string) => Promise<void>;
  log: Logger;
  /** The process RSS in bytes. @default Deno.memoryUsage().rss */
  rss?: () => number;
  /** Wait after a recycle before checking again. @default 5000 */
  cooldownMs?: number;
}

/** Watches the process RSS and recycles the biggest worker when it is over the bound. */
export class RssGuard {
  readonly #options: RssGuardOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #busyUntil = 0;

  /** @param options bound, worker stats, recycling and logger */
  constructor(options: RssGuardOptions) {
    this.#options = options;
  }

  /** Checks once a second until {@link stop}. */
  start(): void {
    this.#timer ??= setInterval(() => this.check(), 1000);
  }

  /** Stops checking. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * One check.
   *
   * @param now epoch ms
   * @returns the id of the worker recycled, or null
   */
  async check(now = Date.now()): Promise<number | null> {
    const limit = this.#options.limitMb();
    if (limit <= 0 || now < this.#busyUntil) return null;
    const rss = (this.#options.rss ?? (() => Deno.memoryUsage().rss))() / MIB;
    if (rss <= limit) return null;
    this.#busyUntil = Number.POSITIVE_INFINITY;
    try {
      const stats = await this.#options.stats();
      if (stats.length === 0) return null;
      const held = (s: WorkerStats) => s.wasmBytes + s.heapUsed;
      const biggest = stats.reduce((a, b) => held(b) > held(a) ? b : a);
      await this.#options.recycle(
        biggest.id,
        `process RSS ${Math.round(rss)} MiB > max_rss_mb ${limit}; it holds ` +
          `${Math.round(held(biggest) / MIB)} MiB`,
      );
      return biggest.id;
    } catch (e) {
      this.#options.log.warning(`max_rss_mb: cannot recycle a worker: ${(e as Error).message}`);
      return null;
    } finally {
      this.#busyUntil = Date.now() + (this.#options.cooldownMs ?? 5000);
    }
  }
}
