/**
 * Replacing workers that died or hung, and recycling interpreters. A dead or hung worker's
 * thread is terminated (its counts kept for `/metrics`), a fresh one is started on the serving
 * generation, and `/readyz` is 503 until it serves. A replacement that cannot start is tried again later, with back-off (1 s doubling to a
 * minute): never in a tight loop, never given up on — a server one worker short is not ready.
 * A recycle is gentler: a fresh interpreter is prepared beside the serving one and swapped in.
 *
 * Boundary: supervisor-side; ./supervisor.ts owns the workers and runs these one at a time.
 *
 * @module
 */
import { type Logger, plural } from "../log.ts";
import type { FromWorker } from "../protocol.ts";
import type { Slot } from "./ask.ts";
import { drain } from "./drain.ts";
import type { MetricsBook } from "./metrics_book.ts";
import type { Readiness } from "./readiness.ts";
import type { Watchdog } from "./watchdog.ts";

/** What {@link Replacer} works with: the supervisor's workers and its one-at-a-time queue. */
export interface ReplacerHost {
  /** The serving workers, in id order (changed in place). */
  slots: Slot[];
  log: Logger;
  readiness: Readiness;
  watchdog: Watchdog;
  metrics: MetricsBook;
  /** Whether /metrics counts (a dying worker is asked for its last counts only then). */
  counting: () => boolean;
  /** Starts a worker thread. */
  spawn: (id: number) => Slot;
  /** Prepares and commits the serving generation on a fresh worker. */
  advance: (slot: Slot) => Promise<unknown>;
  /** Runs a job after the ones queued before it. */
  enqueue: (job: () => Promise<void>) => void;
  /** Whether the server is stopping. */
  stopping: () => boolean;
}

/** Replaces dead and hung workers. */
export class Replacer {
  readonly #host: ReplacerHost;
  readonly #retries = new Set<ReturnType<typeof setTimeout>>();
  /** Workers replaced, ever (for /metrics). */
  restarts = 0;
  /** Interpreters recycled, ever (for /metrics). */
  recycles = 0;

  /** @param host the supervisor's workers and queue */
  constructor(host: ReplacerHost) {
    this.#host = host;
  }

  /**
   * Replaces worker `id` (once it is this job's turn in the supervisor's queue).
   *
   * @param id the worker
   * @param cause why, for the log
   */
  async replace(id: number, cause: string): Promise<void> {
    const host = this.#host;
    const index = host.slots.findIndex((s) => s.id === id);
    if (index === -1 || host.stopping()) return;
    host.log.error(`worker ${id} died (${cause}); starting a replacement`);
    host.watchdog.remove(id);
    const old = host.slots[index];
    host.readiness.replacing(old);
    host.slots.splice(index, 1);
    await host.metrics.retire(old, host.counting() ? 250 : 0);
    old.worker.terminate();
    await this.#respawn(id, 0, performance.now());
  }

  /**
   * Recycles a worker in place: a fresh interpreter (from the snapshot, on the current config)
   * is prepared beside the serving one and swapped in — a reload of that one worker. Its
   * listeners never close, so no connection is refused or reset; requests in flight finish on
   * the old interpreter, and its wasm memory goes with it.
   *
   * @param slot the worker
   * @param reason why, for the log
   */
  async recycle(slot: Slot, reason: string): Promise<void> {
    const host = this.#host;
    if (!host.slots.includes(slot) || host.stopping()) return;
    const t0 = performance.now();
    try {
      await host.advance(slot);
    } catch (e) {
      host.log.error(
        `cannot recycle worker ${slot.id} (${(e as Error).message}); it keeps serving`,
      );
      return;
    }
    this.recycles++;
    host.log.info(
      `worker ${slot.id} recycled (${reason}): a fresh interpreter serves after ` +
        `${Math.round(performance.now() - t0)} ms`,
    );
  }

  /**
   * Moves every worker to a generation that needs permissions the serving threads do not have
   * (a thread's are fixed when it starts): new workers are started and prepare the generation
   * beside the serving ones; when all have it, they accept beside them (reusePort), take their
   * place, and the old ones drain — their requests in flight finish within `graceMs`, their
   * WebSockets are closed with 1001 — and end. If any new worker fails, they all end and the old
   * ones serve on, untouched.
   *
   * @param renewal how to start a new worker and move workers to the generation; the drain
   * @returns the new workers' `prepared` answers
   * @throws {Error} with the failing worker's message
   */
  async renew(renewal: {
    spawn: (id: number) => Slot;
    advance: (slots: Slot[]) => Promise<FromWorker[]>;
    graceMs: number;
  }): Promise<FromWorker[]> {
    const host = this.#host;
    const old = [...host.slots];
    const fresh = old.map((s) => renewal.spawn(s.id));
    let prepared: FromWorker[];
    try {
      prepared = await renewal.advance(fresh);
    } catch (e) {
      for (const s of fresh) s.worker.terminate();
      throw e;
    }
    host.slots.splice(0, host.slots.length, ...fresh);
    for (const s of old) host.watchdog.remove(s.id);
    for (const s of fresh) host.watchdog.add(s.id, s.control);
    host.log.info(`${fresh.length} new workers serve (new permissions); the old ones drain`);
    await Promise.all(old.map((s) => host.metrics.retire(s, host.counting() ? 250 : 0)));
    await drain(old, { graceMs: renewal.graceMs, hooks: null });
    for (const s of old) host.readiness.forget(s);
    return prepared;
  }

  /** Stops the retries waiting (the server is stopping). */
  stop(): void {
    for (const timer of this.#retries) clearTimeout(timer);
  }

  async #respawn(id: number, attempt: number, t0: number): Promise<void> {
    const host = this.#host;
    if (host.stopping()) return;
    const slot = host.spawn(id);
    host.slots.push(slot);
    host.slots.sort((a, b) => a.id - b.id);
    try {
      await host.advance(slot);
    } catch (e) {
      slot.worker.terminate();
      host.slots.splice(host.slots.indexOf(slot), 1);
      const delayMs = Math.min(60_000, 1000 * 2 ** attempt);
      host.log.error(
        `cannot start a replacement for worker ${id} (${(e as Error).message}); serving with ` +
          `${plural(host.slots.length, "worker")} (/readyz 503); trying again in ${delayMs} ms`,
      );
      const timer = setTimeout(() => {
        this.#retries.delete(timer);
        host.enqueue(() => this.#respawn(id, attempt + 1, t0));
      }, delayMs);
      this.#retries.add(timer);
      return;
    }
    host.readiness.replaced(id);
    host.watchdog.add(id, slot.control);
    this.restarts++;
    host.log.info(`worker ${id} replaced in ${Math.round(performance.now() - t0)} ms`);
  }
}
