// The baseline: plain Deno.serve answering "ok", one thread.
const port = Number(Deno.args[0] ?? 8091);
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, () => new Response("ok"));
