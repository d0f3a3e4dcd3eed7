/**
 * The mock server `drive serve` starts: 200 "ok" for every request, on one thread or on N
 * reusePort workers.
 *
 * @module
 */

/**
 * Serves "ok" on 127.0.0.1 (or `hostname`) until the returned server shuts down.
 *
 * @param port port to listen on
 * @param hostname address to bind
 * @param reusePort bind with SO_REUSEPORT (for several threads on one port)
 * @returns the running server
 */
export function serveMock(
  port: number,
  hostname = "127.0.0.1",
  reusePort = false,
): Deno.HttpServer {
  const ok = new TextEncoder().encode("ok");
  return Deno.serve({ hostname, port, reusePort, onListen: () => {} }, () => new Response(ok));
}
