/**
 * siphon-deno's entry point. Signal handlers come first, before the rest of the program is
 * loaded (seconds on a cold module cache): a SIGTERM during that load or the workers' boot is
 * then drained, not fatal. Then `serve` gets its head start (src/start/head_start.ts):
 * worker 1, the wasm compile and the snapshot lookup begin before the rest of the program loads,
 * and the rest loads once the worker has what it needs to restore its interpreter (loading
 * modules keeps this thread busy, and the worker would wait for it).
 * The command line itself lives in src/cli.ts.
 *
 * @module
 */
import { Signals } from "./src/start/signals.ts";
import { mark } from "./src/start/marks.ts";

if (import.meta.main) {
  const signals = new Signals();
  mark("runtime started", performance.timeOrigin);
  mark("main.ts loaded");
  const early = await import("./src/start/head_start.ts");
  const configFile = early.serveConfig(Deno.args);
  const head = configFile ? early.headStart(configFile) : undefined;
  await head?.settled;
  mark("head start settled");
  const { main } = await import("./src/cli.ts");
  mark("modules loaded");
  Deno.exit(await main(Deno.args, signals, head));
}
