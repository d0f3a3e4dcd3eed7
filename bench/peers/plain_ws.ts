// The WebSocket floor for bench/ws.ts: plain Deno.serve echoing every message in JS, from N
// workers with reusePort (siphon-deno's layout, no Python). `plain_ws.ts PORT N [MAX_BYTES]`:
// a message over MAX_BYTES closes its socket with 1009 (bench/oversize.ts); any other request
// gets "ok" (what the bench polls until the server is up).
import { portArgument } from "./_port.ts";
const port = portArgument();
const workers = Number(Deno.args[1] ?? 2);
const maxBytes = Number(Deno.args[2] ?? Infinity);
const inWorker =
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined";
if (inWorker) {
  Deno.serve({ hostname: "127.0.0.1", port, reusePort: true, onListen: () => {} }, (req) => {
    if (req.headers.get("upgrade") !== "websocket") return new Response("ok");
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => {
      const size = typeof e.data === "string" ? e.data.length : e.data.byteLength;
      if (size > maxBytes) socket.close(1009, "too big");
      else socket.send(e.data);
    };
    return response;
  });
} else {
  for (let i = 0; i < workers; i++) new Worker(import.meta.url, { type: "module" });
}
