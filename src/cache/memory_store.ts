/**
 * The `memory` cache backend: one store per named cache, per process, kept by the supervisor
 * so every worker sees the same state and it outlives worker replacement and hot reload. The
 * supervisor runs one operation at a time, so every operation is atomic.
 *
 * Entries expire lazily on access and in {@link MemoryStore.sweep}; the least recently used
 * entry goes first when `maxEntries` or `maxBytes` is exceeded. A value (a whole list too) over
 * `maxValueBytes` is refused, so every answer fits the channel it goes back through
 * (./channel.ts): anything `store` accepts, `fetch` returns.
 *
 * Sizes count what is kept and sent back: the key and the value as JSON text, in UTF-8 bytes
 * ({@link jsonBytes}) — for text without quotes, backslashes or control characters that is its
 * UTF-8 length plus the two quotes.
 *
 * @module
 */

/** Keys longer than this (as JSON text, UTF-8 bytes) are refused. */
export const MAX_KEY_BYTES = 65536;
/** `cache.<name>.max_bytes` by default. */
export const DEFAULT_MAX_BYTES = 64 << 20;
/** `cache.<name>.max_value_bytes` by default. */
export const DEFAULT_MAX_VALUE_BYTES = 1 << 20;

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
  /** Key and value as kept ({@link jsonBytes}). */
  bytes: number;
}

/** The bounds of one store. */
export interface StoreLimits {
  /** Most entries kept (least recently used go first). */
  maxEntries: number;
  /** Longest an entry is kept after it was written (`local_ttl_secs`); a shorter ttl of the
   * write wins. @default Infinity */
  lifetimeMs?: number;
  /** Most bytes kept over all entries (least recently used go first). @default DEFAULT_MAX_BYTES */
  maxBytes?: number;
  /** Largest value (or whole list) accepted. @default DEFAULT_MAX_VALUE_BYTES */
  maxValueBytes?: number;
  /** A redis cache's process-local copy: a value too large is not copied (its key is dropped)
   * instead of refused. @default false */
  copy?: boolean;
}

/** A write the store's bounds refuse (`siphon.cache` raises it as `CacheError`). */
export class CacheLimitError extends RangeError {
  /** @param message what was refused and which bound refused it */
  constructor(message: string) {
    super(message);
    this.name = "CacheLimitError";
  }
}

/** A bounded LRU map with per-entry expiry. */
export class MemoryStore {
  readonly #entries = new Map<string, Entry>();
  #limits!: Required<StoreLimits>;
  #bytes = 0;
  /** Entries evicted because the store was over `maxBytes` (for /metrics). */
  evictedForBytes = 0;

  /** @param limits entries, bytes, value size, lifetime */
  constructor(limits: StoreLimits) {
    this.resize(limits);
  }

  /** Entries held now (expired ones not yet swept included). */
  get size(): number {
    return this.#entries.size;
  }

  /** Bytes held now ({@link jsonBytes} of every key and value). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Changes the bounds (a hot reload may); trims at once. */
  resize(limits: StoreLimits): void {
    this.#limits = {
      lifetimeMs: Infinity,
      maxBytes: DEFAULT_MAX_BYTES,
      maxValueBytes: DEFAULT_MAX_VALUE_BYTES,
      copy: false,
      ...limits,
    };
    this.#trim(null);
  }

  /**
   * Runs one operation.
   *
   * @param call operation and arguments
   * @param now epoch ms (for tests)
   * @returns fetch: string | null; store: null; exists/delete/add/expire: boolean;
   *   incr/list_push/list_len/list_len_sum: number; list_pop_all: string[]
   * @throws {TypeError} when the key holds the other kind (a list vs a string, or incr on text)
   * @throws {CacheLimitError} when the key, the value or the list would be over its bound
   */
  exec(call: CacheCall, now = Date.now()): string | number | boolean | string[] | null {
    const keyBytes = jsonBytes(call.key);
    if (keyBytes > MAX_KEY_BYTES) {
      throw new CacheLimitError(`a key of ${keyBytes} bytes is over the ${MAX_KEY_BYTES} allowed`);
    }
    const entry = this.#get(call.key, now);
    const expires = now + Math.min(call.ttlMs ?? Infinity, this.#limits.lifetimeMs);
    switch (call.op) {
      case "fetch":
        return entry ? this.#text(entry, call.key) : null;
      case "exists":
        return entry !== null;
      case "store":
        this.#write(call.key, call.value ?? "", expires);
        return null;
      case "add":
        if (entry) return false;
        this.#write(call.key, call.value ?? "", expires);
        return true;
      case "delete":
        return this.#delete(call.key) && entry !== null;
      case "incr": {
        const current = entry ? Number(this.#text(entry, call.key)) : 0;
        if (!Number.isSafeInteger(current)) {
          throw new TypeError(`cannot incr "${call.key}": it holds text, not a whole number`);
        }
        const next = current + (call.by ?? 1);
        this.#write(call.key, String(next), entry?.expires ?? expires);
        return next;
      }
      case "expire":
        if (!entry) return false;
        entry.expires = expires;
        return true;
      default:
        return this.#listOp(call, entry, { keyBytes, expires, now });
    }
  }

  /** The list operations of {@link exec}. */
  #listOp(
    call: CacheCall,
    entry: Entry | null,
    { keyBytes, expires, now }: { keyBytes: number; expires: number; now: number },
  ): number | string[] {
    switch (call.op) {
      case "list_push": {
        const list = entry ? this.#list(entry, call.key) : [];
        const item = call.value ?? "";
        // The list as JSON: brackets, the items and a comma between each two.
        const size = (entry ? entry.bytes - keyBytes : 2) + jsonBytes(item) + (list.length ? 1 : 0);
        this.#allow(call.key, size, "the list");
        list.push(item);
        this.#set(call.key, {
          value: list,
          expires: entry?.expires ?? expires,
          bytes: keyBytes + size,
        });
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
        this.#delete(call.key);
        return list;
      }
      default:
        throw new TypeError(`unknown cache operation ${JSON.stringify(call.op)}`);
    }
  }

  /** Drops every expired entry. */
  sweep(now = Date.now()): void {
    for (const [key, e] of this.#entries) if (e.expires <= now) this.#delete(key);
  }

  #get(key: string, now: number): Entry | null {
    const e = this.#entries.get(key);
    if (!e) return null;
    if (e.expires <= now) {
      this.#delete(key);
      return null;
    }
    this.#entries.delete(key); // move to the most recently used end
    this.#entries.set(key, e);
    return e;
  }

  /** Stores a text value, or refuses it (a copy drops the key instead). */
  #write(key: string, value: string, expires: number): void {
    const size = jsonBytes(value);
    if (this.#limits.copy && size > this.#limits.maxValueBytes) {
      this.#delete(key);
      return;
    }
    this.#allow(key, size, "the value");
    this.#set(key, { value, expires, bytes: jsonBytes(key) + size });
  }

  #allow(key: string, size: number, what: string): void {
    if (size <= this.#limits.maxValueBytes) return;
    throw new CacheLimitError(
      `${what} under ${JSON.stringify(key.slice(0, 64))} would be ${size} bytes, over ` +
        `max_value_bytes ${this.#limits.maxValueBytes}; nothing was stored`,
    );
  }

  #set(key: string, e: Entry): void {
    this.#delete(key);
    this.#entries.set(key, e);
    this.#bytes += e.bytes;
    this.#trim(key);
  }

  #delete(key: string): boolean {
    const e = this.#entries.get(key);
    if (!e) return false;
    this.#bytes -= e.bytes;
    return this.#entries.delete(key);
  }

  /** Evicts the least recently used entries until both bounds hold; `keep` (the one just
   * written) stays even when it alone is over `maxBytes`. */
  #trim(keep: string | null): void {
    const { maxEntries, maxBytes } = this.#limits;
    while (this.#entries.size > maxEntries || this.#bytes > maxBytes) {
      const oldest = this.#entries.keys().next().value!;
      if (oldest === keep) break;
      if (this.#entries.size <= maxEntries) this.evictedForBytes++;
      this.#delete(oldest);
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

/**
 * The UTF-8 length of `value` written as JSON (what crossing back to a worker costs): quotes
 * and backslashes take 2, other control characters 2 or 6, a lone surrogate 6 (JSON escapes
 * them), a character outside the BMP 4. A list counts as a JSON array of its items.
 *
 * @param value text, or a list of texts
 * @returns bytes
 * @example
 * ```ts
 * jsonBytes("héllo"); // 8: two quotes, four ASCII bytes, é in two
 * ```
 */
export function jsonBytes(value: string | string[]): number {
  if (typeof value !== "string") {
    let sum = 2 + Math.max(0, value.length - 1);
    for (const item of value) sum += jsonBytes(item);
    return sum;
  }
  let n = 2;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x20 && c < 0x80) n += c === 0x22 || c === 0x5c ? 2 : 1;
    else if (c < 0x20) n += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n += 4;
        i++;
      } else n += 6;
    } else if (c >= 0xdc00 && c <= 0xdfff) n += 6;
    else n += 3;
  }
  return n;
}

/**
 * Refuses a write whose value alone is over `maxValueBytes` before it travels anywhere (a
 * worker checks this before posting to the supervisor or sending to Redis; the store checks
 * again, and counts whole lists).
 *
 * @param call the operation
 * @param maxValueBytes the cache's `max_value_bytes`
 * @throws {CacheLimitError} when the value is over it
 */
export function checkValueSize(call: CacheCall, maxValueBytes: number): void {
  if (call.value === undefined || call.value.length * 6 + 2 <= maxValueBytes) return;
  const size = jsonBytes(call.value);
  if (size > maxValueBytes) {
    throw new CacheLimitError(
      `the value under ${JSON.stringify(call.key.slice(0, 64))} is ${size} bytes, over ` +
        `max_value_bytes ${maxValueBytes}; nothing was stored`,
    );
  }
}
