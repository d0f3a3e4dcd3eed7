// The physical limit of siphon-deno's wire path: plain Deno.serve doing what bench/app/app.py's
// handlers do, in JS — /trivial answers "ok", /realistic/{id} parses the JSON body and answers
// the same JSON reply. `plain_logic.ts PORT` serves on the main thread.
import { portArgument } from "./_port.ts";
const port = portArgument();
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
  const url = new URL(req.url);
  if (url.pathname === "/trivial") return new Response("ok");
  const m = /^\/realistic\/(-?\d+)$/.exec(url.pathname);
  if (m && req.method === "POST") {
    const data = await req.json();
    const reply = {
      id: Number(m[1]),
      page: Number(url.searchParams.get("page") ?? "1"),
      sort: url.searchParams.get("sort"),
      request_id: req.headers.get("x-request-id"),
      items: (data.items ?? []).length,
    };
    return new Response(JSON.stringify(reply), { headers: { "content-type": "application/json" } });
  }
  return new Response("Not Found", { status: 404 });
});
