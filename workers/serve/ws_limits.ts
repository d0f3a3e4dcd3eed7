/**
 * The byte bounds of a worker's WebSockets: what a socket may send out before a send waits
 * ({@link SEND_BUFFER_BYTES}), and what messages Python has not read yet may hold — per socket
 * ({@link inboxCap}) and summed over the worker's sockets on one listener
 * (`ws_max_unread_bytes`): {@link Unread}.
 *
 * Boundary: worker-side; ./sockets.ts applies them.
 *
 * @module
 */
import type { Config } from "../../src/config/load.ts";

type ServerConfig = Config["servers"][number];

/** Over this many bytes waiting to go out, a send waits for the socket to drain. */
export const SEND_BUFFER_BYTES = 1 << 20;

/**
 * Unread bytes one socket may hold before it is closed with 1008.
 *
 * @param server the listener's `ws_max_message_bytes` and `ws_max_unread_bytes`
 * @returns the cap
 */
export function inboxCap(
  server: Pick<ServerConfig, "ws_max_message_bytes" | "ws_max_unread_bytes">,
): number {
  return Math.min(Math.max(16 << 20, 4 * server.ws_max_message_bytes), server.ws_max_unread_bytes);
}

/** What {@link Unread} keeps per socket. */
export interface UnreadOf {
  /** The socket's listener (`host:port`). */
  listen: string;
  /** Its bytes queued and not taken. */
  queued: number;
}

/** Unread message bytes, per socket and summed per listener over a worker's sockets. */
export class Unread {
  readonly #sums = new Map<string, number>();

  /**
   * Counts a message queued for a socket, unless that would break a bound.
   *
   * @param socket the socket's counts
   * @param bytes the message's size ({@link queuedSize})
   * @param server the listener's limits
   * @returns null when queued; else why not (the socket must be closed with 1008)
   */
  add(
    socket: UnreadOf,
    bytes: number,
    server: Pick<ServerConfig, "ws_max_message_bytes" | "ws_max_unread_bytes">,
  ): string | null {
    const cap = inboxCap(server);
    if (socket.queued + bytes > cap) return `the handler left over ${cap} bytes unread`;
    const sum = (this.#sums.get(socket.listen) ?? 0) + bytes;
    if (sum > server.ws_max_unread_bytes) {
      return `this worker's sockets on ${socket.listen} hold over ws_max_unread_bytes ` +
        `${server.ws_max_unread_bytes} bytes unread`;
    }
    socket.queued += bytes;
    this.#sums.set(socket.listen, sum);
    return null;
  }

  /** Python took `bytes` of the socket's messages. */
  take(socket: UnreadOf, bytes: number): void {
    socket.queued -= bytes;
    this.#sums.set(socket.listen, (this.#sums.get(socket.listen) ?? 0) - bytes);
  }

  /** The socket is gone: nothing of it counts any more. */
  drop(socket: UnreadOf): void {
    this.take(socket, socket.queued);
  }

  /**
   * @param listen a listener
   * @returns the unread bytes over its sockets now
   */
  sum(listen: string): number {
    return this.#sums.get(listen) ?? 0;
  }
}

/**
 * What a queued message counts (UTF-16 units for text: no encoding).
 *
 * @param item the message
 * @returns its size
 */
export function queuedSize(item: string | ArrayBuffer): number {
  return typeof item === "string" ? item.length : item.byteLength;
}

/**
 * Resolves once the socket's outgoing buffer is back under {@link SEND_BUFFER_BYTES} (or it
 * closed).
 *
 * @param socket the socket a send filled
 * @returns once there is room
 */
export function drain(socket: WebSocket): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (socket.readyState !== WebSocket.OPEN || socket.bufferedAmount <= SEND_BUFFER_BYTES) {
        resolve();
      } else setTimeout(check, 2);
    };
    setTimeout(check, 2);
  });
}

const encoder = new TextEncoder();

/**
 * UTF-8 length of `text`, exact only when it could be near `limit` (cheap otherwise).
 *
 * @param text a text message
 * @param limit the bound it is checked against
 * @returns its size, good enough to compare with `limit`
 */
export function textBytes(text: string, limit: number): number {
  if (text.length * 3 <= limit) return text.length;
  if (text.length > limit) return text.length;
  return encoder.encode(text).byteLength;
}
