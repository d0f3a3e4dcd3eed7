/**
 * A worker's listeners: each binds with `reusePort`, so every worker serves every listener and
 * the kernel spreads connections (no request crosses a thread). Deno.serve carries plain and
 * TLS listeners; one with `tls.client_ca` runs on `node:http2` (./mtls.ts), which can require
 * client certificates.
 *
 * Boundary: worker-side; the request path is ./request_path.ts.
 *
 * @module
 */
import type { Config } from "../../src/config/load.ts";
import { parseTrusted } from "../../src/http/client_addr.ts";
import { answer } from "../../src/http/errors.ts";
import type { RequestContext } from "./context.ts";
import type { RunningListener } from "./mtls.ts";
import { type Listener, requestHandler } from "./request_path.ts";
import { StaticFiles } from "./static_files.ts";

export type { Listener };
type ServerConfig = Config["servers"][number];

/**
 * A listener for `server` (or the same listener moved to `server` on reload).
 *
 * @param server settings
 * @param ctx the generation's request context
 * @param into an existing listener to update in place
 * @returns the listener
 */
export function listenerFor(server: ServerConfig, ctx: RequestContext, into?: Listener): Listener {
  const trusted = parseTrusted(server.trusted_proxies);
  if ("error" in trusted) throw new TypeError(trusted.error); // the config loader checked it
  const statics = server.static.length ? new StaticFiles(server.static) : null;
  if (!into) return { server, ctx, trusted, statics };
  into.server = server;
  into.ctx = ctx;
  into.trusted = trusted;
  into.statics = statics;
  return into;
}

/**
 * A stable name for a listener: same address and TLS files = same socket, kept across reloads.
 * (A changed client CA opens a new socket before the old one closes, like a changed cert.)
 *
 * @param server listener settings
 * @returns e.g. `127.0.0.1:8080` or `0.0.0.0:8443 tls:/etc/cert.pem:/etc/key.pem`
 */
export function listenerKey(server: ServerConfig): string {
  const tls = server.tls
    ? ` tls:${server.tls.cert_path}:${server.tls.key_path}:${server.tls.client_ca ?? ""}`
    : "";
  return `${server.listen.hostname}:${server.listen.port}${tls}`;
}

/**
 * Binds one listener with `reusePort` and resolves once it accepts.
 *
 * @param listener settings and context (read per request, so they can be swapped later)
 * @returns the running server
 */
export async function startListener(listener: Listener): Promise<RunningListener> {
  const { server } = listener;
  const onError = (e: unknown) => {
    listener.ctx.log.error(`request failed: ${(e as Error).message}`);
    return answer("internal");
  };
  const read = (path: string) => Deno.readTextFile(path);
  if (server.tls?.client_ca) {
    const clientCa = server.tls.client_ca;
    // node:http2 and node:tls load only for a mutual-TLS listener (they delay every start)
    const { startMutualTls } = await import("./mtls.ts");
    return await startMutualTls({
      hostname: server.listen.hostname,
      port: server.listen.port,
      cert: await read(server.tls.cert_path),
      key: await read(server.tls.key_path),
      ca: await read(clientCa),
      handler: requestHandler(listener),
      onError,
      onHandshakeError: (peer, error) =>
        listener.ctx.onHandshakeError({ listen: server.listen.text, clientCa, peer, error }),
    });
  }
  const tls = server.tls
    ? { cert: await read(server.tls.cert_path), key: await read(server.tls.key_path) }
    : {};
  let bound!: () => void;
  const listening = new Promise<void>((resolve) => bound = resolve);
  const http = Deno.serve({
    hostname: server.listen.hostname,
    port: server.listen.port,
    reusePort: true,
    ...tls,
    onListen: () => bound(),
    onError,
  }, requestHandler(listener));
  await listening;
  return http;
}
