/**
 * The server log: one line per event on stderr, `pretty` for people or `json` (one object per
 * line) for collectors. A line may carry fields, e.g. the `request_id` of the request it is about.
 *
 * Boundary: shared by the supervisor and the workers; each worker writes its own lines (tagged
 * `w<N>`), so logging never sends a message across threads. A worker's logger is `buffered`:
 * debug/info lines (the access log) are written in batches, warnings and errors at once.
 *
 * @module
 */

/** Log levels, least to most severe. */
export type Level = "debug" | "info" | "warning" | "error";
/** Output formats. */
export type Format = "pretty" | "json";
/** Extra key/value pairs of a line; `undefined` values are left out. */
export type Fields = Record<string, string | number | undefined>;

const RANK: Record<Level, number> = { debug: 0, info: 1, warning: 2, error: 3 };
const encoder = new TextEncoder();
/** A buffered logger writes at the latest this long after a line… */
const FLUSH_MS = 20;
/** …or as soon as this many characters wait. */
const FLUSH_CHARS = 64 * 1024;

/** The longest message a line carries by default (`log.max_line_bytes`); the rest is cut. */
export const MAX_LINE_BYTES = 16384;
/** What a thread may write per second by default (`log.max_bytes_per_sec`). */
export const MAX_BYTES_PER_SEC = 1048576;

/**
 * One thread's write allowance, shared by its loggers (a worker's generations come and go; its
 * allowance stays): a token bucket of `bytesPerSec` a second, holding at most one second's worth.
 * Lines past it are dropped and counted; the next line written (or a timer, a second after the
 * first drop) says how many went.
 */
export class LogBudget {
  #rate: number;
  #tokens: number;
  #at: number;
  #dropped = 0;
  #droppedBytes = 0;
  #since = 0;
  /** Lines dropped, ever (for /metrics). */
  droppedTotal = 0;
  /** Lines cut at `log.max_line_bytes`, ever (for /metrics). */
  cutTotal = 0;

  /** @param bytesPerSec the allowance; 0 = no limit @default MAX_BYTES_PER_SEC */
  constructor(bytesPerSec = MAX_BYTES_PER_SEC) {
    this.#rate = bytesPerSec;
    this.#tokens = bytesPerSec;
    this.#at = Date.now();
  }

  /** Changes the allowance (a reload may). */
  set rate(bytesPerSec: number) {
    this.#rate = bytesPerSec;
    this.#tokens = Math.min(this.#tokens, bytesPerSec);
  }

  /**
   * Takes `bytes` from the allowance.
   *
   * @param bytes the line's length
   * @param now epoch ms
   * @returns whether the line may be written
   */
  take(bytes: number, now = Date.now()): boolean {
    if (this.#rate <= 0) return true;
    const elapsed = Math.max(0, now - this.#at);
    this.#tokens = Math.min(this.#rate, this.#tokens + elapsed * this.#rate / 1000);
    this.#at = now;
    if (this.#tokens >= bytes) {
      this.#tokens -= bytes;
      return true;
    }
    if (this.#dropped === 0) this.#since = now;
    this.#dropped++;
    this.droppedTotal++;
    this.#droppedBytes += bytes;
    return false;
  }

  /**
   * The line that reports the dropped ones, once; null when none were dropped.
   *
   * @param now epoch ms
   * @returns the message
   */
  summary(now = Date.now()): string | null {
    if (this.#dropped === 0) return null;
    const text = `log: suppressed ${this.#dropped} lines (${this.#droppedBytes} bytes) in the ` +
      `last ${((now - this.#since) / 1000).toFixed(1)} s: this thread wrote more than ` +
      `log.max_bytes_per_sec (${this.#rate}); raise it in the config, or log less`;
    this.#dropped = this.#droppedBytes = 0;
    return text;
  }

  /** Whether lines were dropped since the last {@link summary}. */
  get dropping(): boolean {
    return this.#dropped > 0;
  }
}

/** A logger bound to a level, a format and a source tag. */
export interface Logger {
  debug(message: string, fields?: Fields): void;
  info(message: string, fields?: Fields): void;
  warning(message: string, fields?: Fields): void;
  error(message: string, fields?: Fields): void;
  /** Logs at a level given at run time (Python's `log.*` goes through here). */
  at(level: string, message: string, fields?: Fields): void;
  /** An access-log line: level `info`, written whatever the logger's level (`log.access`). */
  access(message: string, fields: Fields): void;
  /** Whether lines at `level` are written. */
  enabled(level: Level): boolean;
  /** Writes out buffered lines now. */
  flush(): void;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. @default "info" */
  level?: Level;
  /** Line format. @default "pretty" */
  format?: Format;
  /** Who is speaking: `main` or `w1`, `w2`… @default "main" */
  source?: string;
  /** Where lines go. @default stderr */
  write?: (text: string) => void;
  /** Batch debug/info lines (flushed within 20 ms, or at 64 KiB, or before a warning). @default false */
  buffered?: boolean;
  /** A longer message is cut here and marked (UTF-8 bytes). @default MAX_LINE_BYTES */
  maxLineBytes?: number;
  /** The thread's write allowance; access lines do not count against it. @default none */
  budget?: LogBudget;
}

/**
 * Creates a logger.
 *
 * @param options level, format, source tag, sink and buffering
 * @returns the logger
 * @example
 * ```ts
 * const log = createLogger({ level: "debug", format: "json", source: "w1" });
 * log.info("GET /users/42 200", { request_id: "a1b2-1", status: 200 });
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const source = options.source ?? "main";
  const write = options.write ?? ((text: string) => Deno.stderr.writeSync(encoder.encode(text)));
  const format = options.format === "json" ? jsonLine : prettyLine;
  let pending = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending === "") return;
    const text = pending;
    pending = "";
    write(text);
  };
  const maxLine = options.maxLineBytes ?? MAX_LINE_BYTES;
  const budget = options.budget;
  const allowed = budget
    ? allowance(budget, (text) => {
      flush();
      write(format(new Date().toISOString(), "warning", source, text, undefined));
    })
    : () => true;
  const emit = (level: Level, message: string, fields?: Fields, always = false) => {
    if (RANK[level] < min && !always) return;
    if (message.length > maxLine / 3) {
      const cut = capped(message, maxLine);
      if (cut !== message && budget) budget.cutTotal++;
      message = cut;
    }
    const line = format(new Date().toISOString(), level, source, message, fields);
    if (!always && !allowed(line.length)) return;
    if (!options.buffered || RANK[level] >= RANK.warning) {
      flush();
      write(line);
      return;
    }
    pending += line;
    if (pending.length >= FLUSH_CHARS) flush();
    else if (timer === undefined) timer = setTimeout(flush, FLUSH_MS);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warning: (m, f) => emit("warning", m, f),
    error: (m, f) => emit("error", m, f),
    at: (level, m, f) => emit(level in RANK ? level as Level : "info", m, f),
    access: (m, f) => emit("info", m, f, true),
    enabled: (level) => RANK[level] >= min,
    flush,
  };
}

/**
 * Whether a line of `length` may be written now; the dropped ones are summed up through `say`,
 * a second after the first drop or before the next line written, whichever comes first.
 */
function allowance(budget: LogBudget, say: (text: string) => void): (length: number) => boolean {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const summarise = () => {
    clearTimeout(timer);
    timer = undefined;
    const text = budget.summary();
    if (text) say(text);
  };
  return (length) => {
    if (!budget.take(length)) {
      timer ??= setTimeout(summarise, 1000);
      return false;
    }
    if (budget.dropping) summarise();
    return true;
  };
}

const decoder = new TextDecoder();

/**
 * `message` cut to at most `maxBytes` of UTF-8, marked with how much was cut.
 *
 * @param message the message
 * @param maxBytes the cap
 * @returns the message, or its cut form
 */
export function capped(message: string, maxBytes: number): string {
  const bytes = encoder.encode(message);
  if (bytes.byteLength <= maxBytes) return message;
  // A character cut in half decodes as U+FFFD; drop it.
  const head = decoder.decode(bytes.subarray(0, maxBytes)).replace(/\uFFFD$/, "");
  return `${head}… [truncated: ${bytes.byteLength - maxBytes} more bytes]`;
}

/** Turns one event into one line. */
type LineFormat = (
  ts: string,
  level: Level,
  source: string,
  msg: string,
  fields: Fields | undefined,
) => string;

const jsonLine: LineFormat = (ts, level, source, msg, fields) =>
  JSON.stringify(fields ? { ts, level, source, msg, ...fields } : { ts, level, source, msg }) +
  "\n";

const prettyLine: LineFormat = (ts, level, source, msg, fields) => {
  let line = `${ts} ${level.toUpperCase().padEnd(7)} [${source}] ${msg}`;
  if (fields) {
    for (const key in fields) {
      const value = fields[key];
      if (value !== undefined) line += ` ${key}=${value}`;
    }
  }
  return line + "\n";
};

/** A logger that holds its lines until it knows where they go: {@link HeldLogger.release}. */
export interface HeldLogger extends Logger {
  /** Writes the held lines through `into` (in order), and every later line as it comes. */
  release(into: Logger): void;
}

/**
 * A logger for work that starts before the config (and so the log's level and format) is known:
 * the server's head start (src/start/head_start.ts) and a worker's first interpreter.
 *
 * @returns a logger holding its lines until released
 */
export function createHeldLogger(): HeldLogger {
  let target: Logger | null = null;
  const held: ((into: Logger) => void)[] = [];
  const call = (line: (into: Logger) => void) => target ? line(target) : held.push(line);
  return {
    debug: (m, f) => call((into) => into.debug(m, f)),
    info: (m, f) => call((into) => into.info(m, f)),
    warning: (m, f) => call((into) => into.warning(m, f)),
    error: (m, f) => call((into) => into.error(m, f)),
    at: (level, m, f) => call((into) => into.at(level, m, f)),
    access: (m, f) => call((into) => into.access(m, f)),
    enabled: (level) => target?.enabled(level) ?? true,
    flush: () => target?.flush(),
    release(into) {
      target = into;
      for (const line of held.splice(0)) line(into);
    },
  };
}

/**
 * A count and its noun for a log line: `1 worker`, `2 workers`.
 *
 * @param n the count
 * @param noun the singular noun (plural by an added "s")
 * @returns the phrase
 */
export function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
