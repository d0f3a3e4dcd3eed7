/**
 * A queue read from Python: a WebSocket's incoming messages, a pubsub subscription's
 * deliveries. `take` answers at once when something is queued (no promise, no extra turn of the
 * event loop); otherwise it gives a promise that resolves when something arrived, and the reader
 * takes again. The item never travels in the promise: a reader that gave up waiting (a
 * cancelled `asyncio.wait_for`) loses nothing. `null` means the inbox was closed and everything
 * queued has been taken.
 *
 * Boundary: worker-side; no limits of its own (the owner decides what to do when it is full).
 *
 * @module
 */

/** One reader's queue. */
export class Inbox<T> {
  #items: T[] = [];
  #head = 0;
  #arrived: Promise<void> | null = null;
  #wake: (() => void) | null = null;
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
   * Queues an item, or hands it to the waiting reader.
   *
   * @param item what arrived
   * @returns false when the inbox is closed (the item is dropped)
   */
  push(item: T): boolean {
    if (this.#closed) return false;
    this.#items.push(item);
    this.#wakeReaders();
    return true;
  }

  /** No more items will come; readers get what is queued, then `null`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#wakeReaders();
  }

  #wakeReaders(): void {
    const wake = this.#wake;
    if (wake === null) return;
    this.#wake = this.#arrived = null;
    wake();
  }

  /**
   * The next item, or a promise to wait on before taking again.
   *
   * @returns the item, `null` once closed and empty, or a promise that resolves on news
   */
  take(): T | null | Promise<void> {
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
    return this.#arrived ??= new Promise((resolve) => this.#wake = resolve);
  }
}
