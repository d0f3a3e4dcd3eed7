/**
 * Failed mutual-TLS handshakes, told to the operator: one warning per peer address and minute,
 * naming the peer, the listener and the likely causes. rustls resets the
 * connection with nothing logged otherwise, and Deno's `node:http2` reports only "peer sent no
 * certificates" or, for a certificate from another CA or an X.509 v1 one, "socket hang up".
 *
 * Boundary: the supervisor keeps one per mutual-TLS listener, so the limit holds for the whole
 * process (workers report each failure as a `handshake_failed` message: failures are rare and
 * never on the request path).
 *
 * @module
 */
import type { HandshakeFailure } from "../protocol.ts";

/** Options for {@link HandshakeLog}. */
export interface HandshakeLogOptions {
  /** The listener, e.g. `127.0.0.1:8443`. */
  listen: string;
  /** The `tls.client_ca` file. */
  clientCa: string;
  /** Writes one warning line. */
  warn: (message: string) => void;
  /** Quiet time per peer after a warning. @default 60000 */
  intervalMs?: number;
}

/** Rate-limited warnings about failed handshakes. */
export class HandshakeLog {
  readonly #options: HandshakeLogOptions;
  /** Per peer: when it was last told, and failures since then that were not. */
  readonly #peers = new Map<string, { at: number; quiet: number }>();

  /** @param options listener, client CA, sink, interval */
  constructor(options: HandshakeLogOptions) {
    this.#options = options;
  }

  /**
   * Records a failed handshake, and warns unless this peer was warned about within the interval.
   *
   * @param peer the client's address (`""` when unknown)
   * @param error what the TLS layer said
   * @param now the time @default Date.now()
   * @returns whether a warning was written
   */
  failed(peer: string, error: string, now = Date.now()): boolean {
    const interval = this.#options.intervalMs ?? 60_000;
    const key = peer || "unknown";
    const seen = this.#peers.get(key);
    if (seen && now - seen.at < interval) {
      seen.quiet++;
      return false;
    }
    if (this.#peers.size > 10_000) this.#forget(now - interval);
    const quiet = seen?.quiet ?? 0;
    this.#peers.set(key, { at: now, quiet: 0 });
    const { listen, clientCa } = this.#options;
    const causes = /no certificate/i.test(error)
      ? `the client sent no certificate; clients of this listener must present one that ` +
        `chains to tls.client_ca (${clientCa})`
      : `the client certificate was refused; likely causes: it does not chain to ` +
        `tls.client_ca (${clientCa}), it is not X.509 v3 (\`openssl x509 -req\` without ` +
        `-extfile makes v1), it has expired, or the client gave up`;
    const earlier = quiet ? ` (${quiet} more from this address since the last warning)` : "";
    this.#options.warn(
      `mutual TLS handshake from ${key} on ${listen} failed (${error}): ${causes}${earlier}; ` +
        `further failures from this address are logged at most once a minute`,
    );
    return true;
  }

  #forget(before: number): void {
    for (const [peer, seen] of this.#peers) if (seen.at < before) this.#peers.delete(peer);
  }
}

/** One {@link HandshakeLog} per mutual-TLS listener, made on its first failure. */
export class HandshakeLogs {
  readonly #byListener = new Map<string, HandshakeLog>();
  readonly #warn: (message: string) => void;

  /** @param warn writes one warning line */
  constructor(warn: (message: string) => void) {
    this.#warn = warn;
  }

  /**
   * Records a failure a worker reported.
   *
   * @param failure the listener, its client CA, the peer and what the TLS layer said
   */
  failed(failure: HandshakeFailure): void {
    let log = this.#byListener.get(failure.listen);
    if (!log) {
      log = new HandshakeLog({
        listen: failure.listen,
        clientCa: failure.clientCa,
        warn: this.#warn,
      });
      this.#byListener.set(failure.listen, log);
    }
    log.failed(failure.peer, failure.error);
  }
}
