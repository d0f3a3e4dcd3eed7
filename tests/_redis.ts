/**
 * A real redis-server for the tests that need one, on a free 127.0.0.1 port, with nothing
 * saved to disk.
 *
 * @module
 */

/**
 * Starts redis-server on `port`.
 *
 * @param port where it listens (127.0.0.1 only)
 * @returns the process (kill it when done)
 */
export function startRedis(port: number): Deno.ChildProcess {
  return new Deno.Command("redis-server", {
    args: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
  }).spawn();
}
