/**
 * Free 127.0.0.1 ports for benchmark servers.
 *
 * @module
 */

/**
 * A port that is free now, trying `preferred` first.
 *
 * @param preferred the port to try first
 * @returns a free port
 */
export function freePortNear(preferred: number): number {
  for (const port of [preferred, 0]) {
    try {
      const l = Deno.listen({ hostname: "127.0.0.1", port });
      const got = (l.addr as Deno.NetAddr).port;
      l.close();
      return got;
    } catch { /* taken */ }
  }
  throw new Error("no free port");
}
