// The baseline: plain Deno.serve answering "ok". `plain.ts PORT` serves on the main thread;
// `plain.ts PORT N` serves from N workers with reusePort, the layout siphon-deno uses, which
// shows the ceiling of that layout on this machine with no Python at all.
import { portArgument } from "./_port.ts";
const port = portArgument();
const workers = Number(Deno.args[1] ?? 0);
const serve = () =>
  Deno.serve(
    { hostname: "127.0.0.1", port, reusePort: workers > 0, onListen: () => {} },
    () => new Response("ok"),
  );
const inWorker =
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined";
if (inWorker) serve();
else if (workers === 0) serve();
else {
  for (let i = 0; i < workers; i++) new Worker(import.meta.url, { type: "module" });
}
