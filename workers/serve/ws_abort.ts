/**
 * Dropping a WebSocket's connection without waiting for the peer. Deno's `WebSocket.close()`
 * sends the close frame and then waits for the peer's — forever, if the peer never answers and
 * keeps its TCP connection open — and offers no public way to give up. Deno 2.9.6 keeps the
 * socket's resource id under a private symbol (`[[rid]]`) and closes it with `core.tryClose`
 * (its own idle timeout does so); this does the same, which ends the pending read, closes the
 * TCP connection and fires the socket's `close` event (code 1005).
 *
 * The two internals are looked up once; where a Deno release moved them, {@link abortSocket}
 * says false and the caller logs that the connection stays until the OS drops it
 * (tests/websocket_limits_test.ts pins the behaviour on the Deno this repository runs).
 *
 * Boundary: worker-side; used only by ./sockets.ts.
 *
 * @module
 */

type Core = { tryClose(rid: number): void };

const internals = (() => {
  try {
    const deno = Deno as unknown as Record<symbol, { core?: Core } | undefined>;
    const key = (Deno as unknown as { internal?: symbol }).internal;
    const core = key ? deno[key]?.core : undefined;
    return typeof core?.tryClose === "function" ? core : null;
  } catch {
    return null;
  }
})();

/**
 * Closes the connection under `socket` at once (no close handshake).
 *
 * @param socket a server-side WebSocket from `Deno.upgradeWebSocket`
 * @returns false when this Deno offers no way to (the connection stays as it is)
 */
export function abortSocket(socket: WebSocket): boolean {
  if (!internals) return false;
  const key = Object.getOwnPropertySymbols(socket).find((s) => s.description === "[[rid]]");
  const rid = key ? (socket as unknown as Record<symbol, unknown>)[key] : undefined;
  if (typeof rid !== "number") return false;
  try {
    internals.tryClose(rid);
    return true;
  } catch {
    return false;
  }
}
