/**
 * siphon-deno's entry point. Signal handlers come first, before the rest of the program is
 * loaded (seconds on a cold module cache): a SIGTERM during that load or the workers' boot is
 * then drained, not fatal. The command line itself lives in src/cli.ts.
 *
 * @module
 */
import { Signals } from "./src/signals.ts";
import { mark } from "./src/startup.ts";

if (import.meta.main) {
  const signals = new Signals();
  mark("runtime started", performance.timeOrigin);
  mark("main.ts loaded");
  const { main } = await import("./src/cli.ts");
  mark("modules loaded");
  Deno.exit(await main(Deno.args, signals));
}
