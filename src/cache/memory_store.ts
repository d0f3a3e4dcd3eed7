/**
 * The `memory` cache backend: one store per named cache, per process, kept by the supervisor
 * so every worker sees the same state and it outlives worker replacement and hot reload. The
 * supervisor runs one operation at a time, so every operation is atomic.
 *
 * Entries expire lazily on access and in {@link MemoryStore.sweep}; the least recently used
 * entry goes first when `maxEntries` is exceeded.
 *
 * @module
 */

/** The operations of `siphon.cache`. */
export type CacheOp =
  | "fetch"
  | "store"
  | "exists"
  | "delete"
  | "add"
  | "incr"
  | "expire"
  | "list_push"
  | "list_len"
  | "list_len_sum"
  | "list_pop_all";

/** One operation's arguments. */
export interface CacheCall {
  op: CacheOp;
  /** The key; for `list_len_sum`, the prefix of the keys. */
  key: string;
  value?: string;
  /** Time to live, ms; absent = no expiry. */
  ttlMs?: number;
  /** For incr. */
  by?: number;
}

type Value = string | string[];

interface Entry {
  value: Value;
  expires: number; // epoch ms; Infinity = never
}

/** A bounded LRU map with per-entry expiry. */
export class MemoryStore {
  readonly #entries = new Map<string, Entry>();
  #maxEntries: number;
  #lifetimeMs: number;

  /**
   * @param maxEntries most entries kept (least recently used go first)
   * @param lifetimeMs longest an entry is kept after it was written (`local_ttl_secs`); a
   *   shorter ttl of the write wins
   */
  constructor(maxEntries: number, lifetimeMs = Infinity) {
    this.#maxEntries = maxEntries;
    this.#lifetimeMs = lifetimeMs;
  }

  /** Entries held now (expired ones not yet swept included). */
  get size(): number {
    return this.#entries.size;
  }

  /** Changes the bound and the lifetime (a hot reload may); trims at once. */
  resize(maxEntries: number, lifetimeMs = Infinity): void {
    this.#maxEntries = maxEntries;
    this.#lifetimeMs = lifetimeMs;
    this.#trim();
  }

  /**
   * Runs one operation.
   *
   * @param call operation and arguments
   * @param now epoch ms (for tests)
   * @returns fetch: string | null; store: null; exists/delete/add/expire: boolean;
   *   incr/list_push/list_len/list_len_sum: number; list_pop_all: string[]
   * @throws {TypeError} when the key holds the other kind (a list vs a string, or incr on text)
   */
  exec(call: CacheCall, now = Date.now()): string | number | boolean | string[] | null {
    const entry = this.#get(call.key, now);
    const expires = now + Math.min(call.ttlMs ?? Infinity, this.#lifetimeMs);
    switch (call.op) {
      case "fetch":
        return entry ? this.#text(entry, call.key) : null;
      case "exists":
        return entry !== null;
      case "store":
        this.#set(call.key, { value: call.value ?? "", expires });
        return null;
      case "add":
        if (entry) return false;
        this.#set(call.key, { value: call.value ?? "", expires });
        return true;
      case "delete":
        return this.#entries.delete(call.key) && entry !== null;
      case "incr": {
        const current = entry ? Number(this.#text(entry, call.key)) : 0;
        if (!Number.isSafeInteger(current)) {
          throw new TypeError(`cannot incr "${call.key}": it holds text, not a whole number`);
        }
        const next = current + (call.by ?? 1);
        this.#set(call.key, { value: String(next), expires: entry?.expires ?? expires });
        return next;
      }
      case "expire":
        if (!entry) return false;
        entry.expires = expires;
        return true;
      case "list_push": {
        const list = entry ? this.#list(entry, call.key) : [];
        list.push(call.value ?? "");
        this.#set(call.key, { value: list, expires: entry?.expires ?? expires });
        return list.length;
      }
      case "list_len":
        return entry ? this.#list(entry, call.key).length : 0;
      case "list_len_sum": {
        let sum = 0;
        for (const [key, e] of this.#entries) {
          if (key.startsWith(call.key) && e.expires > now && typeof e.value !== "string") {
            sum += e.value.length;
          }
        }
        return sum;
      }
      case "list_pop_all": {
        if (!entry) return [];
        const list = this.#list(entry, call.key);
        this.#entries.delete(call.key);
        return list;
      }
    }
  }

  /** Drops every expired entry. */
  sweep(now = Date.now()): void {
    for (const [key, e] of this.#entries) if (e.expires <= now) this.#entries.delete(key);
  }

  #get(key: string, now: number): Entry | null {
    const e = this.#entries.get(key);
    if (!e) return null;
    if (e.expires <= now) {
      this.#entries.delete(key);
      return null;
    }
    this.#entries.delete(key); // move to the most recently used end
    this.#entries.set(key, e);
    return e;
  }

  #set(key: string, e: Entry): void {
    this.#entries.delete(key);
    this.#entries.set(key, e);
    this.#trim();
  }

  #trim(): void {
    while (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }

  #text(e: Entry, key: string): string {
    if (typeof e.value !== "string") throw new TypeError(`"${key}" holds a list; use list_* on it`);
    return e.value;
  }

  #list(e: Entry, key: string): string[] {
    if (typeof e.value === "string") throw new TypeError(`"${key}" holds a value, not a list`);
    return e.value;
  }
}
