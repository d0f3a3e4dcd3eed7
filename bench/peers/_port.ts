/**
 * The port a peer server takes from its command line: the benchmarks pass a free one
 * (harness/launch.ts `freePort`), so no peer has a port of its own to collide on.
 *
 * @module
 */

/**
 * The first argument as a port.
 *
 * @returns the port; a missing or bad one ends the program with a usage line
 */
export function portArgument(): number {
  const port = Number(Deno.args[0]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error(
      `usage: ${new URL(Deno.mainModule).pathname.split("/").pop()} PORT …: the port to serve ` +
        `on, got ${JSON.stringify(Deno.args[0] ?? null)} (the benchmarks pass a free one)`,
    );
    Deno.exit(2);
  }
  return port;
}
