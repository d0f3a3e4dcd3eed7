// One plain Deno.serve server per variant, for bench/wire_costs.ts: `wire_costs.ts VARIANT PORT`.
// Each variant does one thing the request path may do, beside answering "ok" (or answers in
// another way), so its CPU per request against `plain` prices that one thing.
const [variant, port] = [Deno.args[0], Number(Deno.args[1])];
const JSON_BODY = '{"id": 42, "page": 2, "sort": "name", "request_id": "8d3b7f0e-1c2a-4b5e-9f00-' +
  'aa11bb22cc33", "items": 5}';
const encoder = new TextEncoder();

const VARIANTS: Record<string, (req: Request, info: Deno.ServeHandlerInfo) => Response> = {
  plain: () => new Response("ok"),
  // the request's headers read (Deno builds them on first access) and walked
  headers: (req) => {
    const flat: string[] = [];
    req.headers.forEach((v, k) => flat.push(k, v));
    return new Response(flat.length > 0 ? "ok" : "ok!");
  },
  // the peer's address read and written out
  peer: (_req, info) => {
    const a = info.remoteAddr as Deno.NetAddr;
    return new Response(`${a.hostname}:${a.port}`.length > 0 ? "ok" : "ok!");
  },
  // "ok" as bytes, as a body copied out of wasm memory is
  bytes: () => new Response(encoder.encode("ok")),
  // "ok" as text, with the default content type Deno adds taken away again
  text: () => {
    const res = new Response("ok");
    res.headers.delete("content-type");
    return res;
  },
  // the same with a status given in an init (how a response with another status is built)
  text_init: () => {
    const res = new Response("ok", { status: 200 });
    res.headers.delete("content-type");
    return res;
  },
  // a JSON reply as bytes with its content type, and as text with it
  json_bytes: () => {
    const res = new Response(encoder.encode(JSON_BODY));
    res.headers.append("content-type", "application/json");
    return res;
  },
  json_text: () => {
    const res = new Response(JSON_BODY);
    res.headers.set("content-type", "application/json");
    return res;
  },
};

const handler = VARIANTS[variant];
if (!handler) throw new Error(`no variant ${variant}: ${Object.keys(VARIANTS).join(", ")}`);
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, handler);
