// The floor for bench/static.ts: plain Deno.serve answering one file's bytes from memory, with
// the type and length a static server sends. `plain_file.ts PORT FILE` (read once at start).
import { portArgument } from "./_port.ts";

const port = portArgument();
const bytes = Deno.readFileSync(Deno.args[1]);
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, () =>
  new Response(bytes, {
    headers: { "content-type": "application/octet-stream", "content-length": `${bytes.length}` },
  }));
