/**
 * Keeping a server accepting. Deno.serve's accept loop ends for good when `accept` fails —
 * descriptor exhaustion (EMFILE/ENFILE) rejects the server's `finished` and its socket is gone —
 * so a server that ends without being asked to is started again: at once, then with back-off up
 * to a second between tries, logging at most one line a second while it cannot, and one line
 * when it accepts again. The request workers' listeners and the admin listener both run through
 * here.
 *
 * Boundary: shared (supervisor and workers); knows nothing of requests.
 *
 * @module
 */
import type { Logger } from "./log.ts";

/** A running server as Deno.serve (and the mutual-TLS listener) returns it. */
export interface RunningServer {
  /** Settles when the server stopped, asked to or not. */
  finished: Promise<void>;
  shutdown(): Promise<void>;
}

/** Options for {@link keepServing}. */
export interface KeepOptions {
  /** What it is, for the log: `listener 127.0.0.1:8080`. */
  name: string;
  /** Starts (binds) the server; throws when it cannot. */
  start: () => Promise<RunningServer>;
  /** The log to write to (read at each line: a worker's changes with its generation). */
  log: () => Logger;
  /** It stopped accepting by itself. */
  onDown?: (cause: string) => void;
  /** It accepts again after being down. */
  onUp?: () => void;
  /** Longest wait between two tries. @default 1000 */
  maxDelayMs?: number;
}

/** A server kept accepting. */
export interface KeptServer {
  /** Stops it for good (no restart). */
  stop(): Promise<void>;
}

/**
 * Starts a server and keeps it accepting.
 *
 * @param options how to start it, where to log
 * @returns once the first start succeeded
 * @throws {Error} when the first start fails (nothing is retried then: the caller decides)
 */
export async function keepServing(options: KeepOptions): Promise<KeptServer> {
  const state: KeepState = {
    running: await options.start(),
    stopped: false,
    timer: undefined,
    downLoggedAt: 0,
    downsUnlogged: 0,
  };
  watch(options, state, state.running!);
  return {
    async stop() {
      state.stopped = true;
      clearTimeout(state.timer);
      const server = state.running;
      state.running = null;
      await server?.shutdown();
    },
  };
}

interface KeepState {
  running: RunningServer | null;
  stopped: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** When it last logged going down, and how often it went down since without a line. */
  downLoggedAt: number;
  downsUnlogged: number;
}

/** When `server` ends by itself, start it again. */
function watch(options: KeepOptions, state: KeepState, server: RunningServer): void {
  const ended = (e?: unknown) => {
    if (state.stopped || state.running !== server) return;
    state.running = null;
    const cause = e === undefined ? "it closed" : errorMessage(e);
    if (Date.now() - state.downLoggedAt >= 1000) { // a client that keeps at it: one line a second
      const also = state.downsUnlogged
        ? ` (and ${state.downsUnlogged} more times since the last line)`
        : "";
      options.log().error(`${options.name} stopped accepting (${cause})${also}; starting it again`);
      state.downLoggedAt = Date.now();
      state.downsUnlogged = 0;
    } else state.downsUnlogged++;
    options.onDown?.(cause);
    retry(options, state, { attempt: 0, since: Date.now(), loggedAt: 0 });
  };
  server.finished.then(() => ended(), ended);
}

/** One more try to start it: at once, then 50 ms doubling up to `maxDelayMs`. */
function retry(
  options: KeepOptions,
  state: KeepState,
  tries: { attempt: number; since: number; loggedAt: number },
): void {
  const { attempt, since } = tries;
  const delay = attempt === 0 ? 0 : Math.min(options.maxDelayMs ?? 1000, 25 * 2 ** attempt);
  state.timer = setTimeout(async () => {
    if (state.stopped) return;
    try {
      const server = await options.start();
      if (state.stopped) return void await server.shutdown();
      state.running = server;
      watch(options, state, server);
      if (state.downsUnlogged === 0) { // its going down was logged: say it is back
        options.log().info(
          `${options.name} accepts again after ${Date.now() - since} ms (${attempt + 1} tries)`,
        );
      }
      options.onUp?.();
    } catch (e) {
      let loggedAt = tries.loggedAt;
      if (Date.now() - loggedAt >= 1000) {
        options.log().warning(
          `${options.name}: cannot start it yet (${errorMessage(e)}); trying again, ` +
            `${attempt + 1} tries so far`,
        );
        loggedAt = Date.now();
      }
      retry(options, state, { attempt: attempt + 1, since, loggedAt });
    }
  }, delay);
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
