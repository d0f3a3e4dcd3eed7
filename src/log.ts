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
  const emit = (level: Level, message: string, fields?: Fields, always = false) => {
    if (RANK[level] < min && !always) return;
    const line = format(new Date().toISOString(), level, source, message, fields);
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
 * the server's head start (src/supervisor/head_start.ts) and a worker's first interpreter.
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
