// The baseline for bench/stream.ts: plain Deno.serve moving the same bytes with no Python —
// POST /stream/upload counts the body, GET /stream/download/N sends N MiB in 64 KiB chunks.
import { portArgument } from "./_port.ts";
const port = portArgument();
const chunk = new Uint8Array(65536).fill(120);
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
  const path = new URL(req.url).pathname;
  if (path === "/stream/upload") {
    let total = 0;
    for await (const part of req.body!) total += part.byteLength;
    return new Response(String(total));
  }
  const mb = Number(/^\/stream\/download\/(\d+)$/.exec(path)?.[1] ?? 0);
  let left = mb * 16;
  return new Response(
    new ReadableStream({
      pull(c) {
        if (left-- > 0) c.enqueue(chunk);
        else c.close();
      },
    }),
  );
});
