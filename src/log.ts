/**
 * The server log: one line per event on stderr, `pretty` for people or `json` for collectors.
 *
 * Boundary: shared by the supervisor and the workers; each worker writes its own lines (tagged
 * `w<N>`), so logging never sends a message across threads.
 *
 * @module
 */

/** Log levels, least to most severe. */
export type Level = "debug" | "info" | "warning" | "error";
/** Output formats. */
export type Format = "pretty" | "json";

const RANK: Record<Level, number> = { debug: 0, info: 1, warning: 2, error: 3 };
const encoder = new TextEncoder();

/** A logger bound to a level, a format and a source tag. */
export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warning(message: string): void;
  error(message: string): void;
  /** Logs at a level given at run time (Python's `log.*` goes through here). */
  at(level: string, message: string): void;
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
  write?: (line: string) => void;
}

/**
 * Creates a logger.
 *
 * @param options level, format, source tag and sink
 * @returns the logger
 * @example
 * ```ts
 * const log = createLogger({ level: "debug", source: "w1" });
 * log.info("listening");
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const json = options.format === "json";
  const source = options.source ?? "main";
  const write = options.write ?? ((line: string) => Deno.stderr.writeSync(encoder.encode(line)));
  const emit = (level: Level, message: string) => {
    if (RANK[level] < min) return;
    const ts = new Date().toISOString();
    write(
      json
        ? JSON.stringify({ ts, level, source, msg: message }) + "\n"
        : `${ts} ${level.toUpperCase().padEnd(7)} [${source}] ${message}\n`,
    );
  };
  return {
    debug: (m) => emit("debug", m),
    info: (m) => emit("info", m),
    warning: (m) => emit("warning", m),
    error: (m) => emit("error", m),
    at: (level, m) => emit(level in RANK ? level as Level : "info", m),
  };
}
