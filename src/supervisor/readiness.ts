/**
 * Whether the server takes traffic as configured — what `/readyz` says: every configured worker
 * serving (none missing, none being replaced) with every listener accepting, and not stopping.
 * The supervisor tells it what happens; it never asks a worker.
 *
 * Boundary: supervisor-side.
 *
 * @module
 */
import type { Slot } from "./ask.ts";

/** The supervisor's view of what serves. */
export class Readiness {
  readonly #workers: number;
  /** Per worker, its listeners that stopped accepting and are being started again. */
  readonly #down = new Map<Slot, Set<string>>();
  /** Workers being replaced (or waiting to try again). */
  readonly #replacing = new Set<number>();
  /** Booted and not stopping. */
  live = false;

  /** @param workers how many workers the config asks for */
  constructor(workers: number) {
    this.#workers = workers;
  }

  /**
   * A worker's listener went down (it is being started again) or came back.
   *
   * @param slot the worker
   * @param listen the listener
   * @param up whether it accepts again
   */
  listener(slot: Slot, listen: string, up: boolean): void {
    const down = this.#down.get(slot) ?? new Set();
    if (up) down.delete(listen);
    else down.add(listen);
    if (down.size) this.#down.set(slot, down);
    else this.#down.delete(slot);
  }

  /** A worker is being replaced: it no longer serves, and its listeners went with it. */
  replacing(slot: Slot): void {
    this.#replacing.add(slot.id);
    this.forget(slot);
  }

  /** The replacement of worker `id` serves. */
  replaced(id: number): void {
    this.#replacing.delete(id);
  }

  /** A worker ended (replaced, or drained after a renewal): what it said is dropped. */
  forget(slot: Slot): void {
    this.#down.delete(slot);
  }

  /**
   * Only the serving workers count: one that is draining or ending may still report a listener
   * going down, and a worker that no longer serves keeps nobody from being served.
   *
   * @param serving the workers serving now
   * @returns listeners (over those workers) not accepting now
   */
  listenersDown(serving: readonly Slot[]): number {
    let n = 0;
    for (const slot of serving) n += this.#down.get(slot)?.size ?? 0;
    return n;
  }

  /**
   * @param serving the workers serving now
   * @returns whether `/readyz` says ready
   */
  ready(serving: readonly Slot[]): boolean {
    return this.live && this.#replacing.size === 0 && serving.length >= this.#workers &&
      this.listenersDown(serving) === 0;
  }
}
