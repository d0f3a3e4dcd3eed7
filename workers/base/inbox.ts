/**
 * A queue read from Python: a WebSocket's incoming messages, a pubsub subscription's
 * deliveries. `take` answers at once when something is queued; otherwise the reader waits on a
 * Python future and the next item is handed straight to it (one call into Python, no JS promise
 * for Pyodide to wrap). A reader that gave up waiting (a cancelled `asyncio.wait_for`) refuses
 * the hand-over and the item stays queued: nothing is lost.
 *
 * Boundary: worker-side; no limits of its own (the owner decides what to do when it is full).
 *
 * @module
 */

/**
 * Hands an item (or `undefined`: closed) to the reader waiting for it; false when the reader
 * no longer waits (it gave up), and the item is queued instead.
 */
export type HandOver<T> = (item: T | undefined) => boolean;

/** One reader's queue. */
export class Inbox<T> {
  #items: T[] = [];
  #head = 0;
  #waiting: HandOver<T> | null = null;
  #closed = false;

  /** Items queued and not taken. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Whether {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Hands the item to the waiting reader, or queues it.
   *
   * @param item what arrived
   * @returns false when the inbox is closed (the item is dropped)
   */
  push(item: T): boolean {
    if (this.#closed) return false;
    const waiting = this.#waiting;
    if (waiting !== null) {
      this.#waiting = null;
      if (waiting(item)) return true;
    }
    this.#items.push(item);
    return true;
  }

  /** No more items will come; readers get what is queued, then the end. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const waiting = this.#waiting;
    this.#waiting = null;
    waiting?.(undefined);
  }

  /**
   * The next item; when there is none, `handOver` gets the next one as it arrives.
   *
   * @param handOver how a reader that waits takes the next item
   * @returns the item, `null` once closed and empty, or `false`: wait for `handOver`
   */
  take(handOver: HandOver<T>): T | null | false {
    if (this.#head < this.#items.length) {
      const item = this.#items[this.#head];
      this.#items[this.#head++] = undefined as T;
      if (this.#head === this.#items.length) {
        this.#items = [];
        this.#head = 0;
      } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
        this.#items = this.#items.slice(this.#head);
        this.#head = 0;
      }
      return item;
    }
    if (this.#closed) return null;
    this.#waiting = handOver;
    return false;
  }
}
