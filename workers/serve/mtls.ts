/**
 * Listeners with `tls.client_ca` (mutual TLS). Deno.serve cannot require client certificates,
 * so these run on `node:http2`'s `createSecureServer` (h2 and HTTP/1.1 on one socket, with
 * `reusePort`, so every worker serves them like the others). Requests are adapted to web
 * Request/Response and go through the same request path; the verified certificate reaches
 * Python as `req.client_cert`. A client without a certificate, or with one from another CA, is
 * refused during the handshake, and the failure is reported through `onHandshakeError`.
 *
 * @module
 */
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import { Readable } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { RunningServer } from "../../src/keep_serving.ts";

/** The request path, given the verified certificate as JSON. */
export type CertHandler = (
  req: Request,
  info: Deno.ServeHandlerInfo,
  clientCert: string,
) => Response | Promise<Response>;

/** What a worker needs from a running listener. */
export type RunningListener = RunningServer;

/** Options for {@link startMutualTls}. */
export interface MutualTlsOptions {
  hostname: string;
  port: number;
  cert: string;
  key: string;
  /** PEM bundle of the CAs client certificates must chain to. */
  ca: string;
  handler: CertHandler;
  onError: (e: unknown) => void;
  /** A client's handshake failed (no certificate, another CA, X.509 v1…). */
  onHandshakeError: (peer: string, message: string) => void;
}

/**
 * Starts a mutual-TLS listener and resolves once it accepts.
 *
 * @param options address, server certificate, client CA and the request path
 * @returns the running listener
 */
export function startMutualTls(options: MutualTlsOptions): Promise<RunningListener> {
  const server = createSecureServer({
    cert: options.cert,
    key: options.key,
    ca: options.ca,
    requestCert: true,
    rejectUnauthorized: true,
    allowHTTP1: true,
  }, (req, res) => {
    serve(req, res, options).catch((e) => {
      options.onError(e);
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
      res.end("Internal Server Error\n");
    });
  });
  server.on("tlsClientError", (err: Error, socket: TLSSocket) => {
    // The TLS socket has no address of its own until the handshake is done; its TCP one has.
    const tcp = (socket as TLSSocket & { _parent?: { remoteAddress?: string } })._parent;
    options.onHandshakeError(socket.remoteAddress ?? tcp?.remoteAddress ?? "", err.message);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(
      { host: options.hostname, port: options.port, reusePort: true } as {
        host: string;
        port: number;
      },
      () => {
        server.off("error", reject);
        // Stopped by shutdown(), or by an error of its own (an accept that failed, say).
        const finished = new Promise<void>((ended, failed) => {
          server.once("close", () => ended());
          server.once("error", (e: Error) => {
            server.close();
            failed(e);
          });
        });
        resolve({
          finished,
          shutdown: () => new Promise<void>((done) => server.close(() => done())),
        });
      },
    );
  });
}

async function serve(
  req: Http2ServerRequest,
  res: Http2ServerResponse,
  options: MutualTlsOptions,
): Promise<void> {
  const socket = req.socket as unknown as TLSSocket;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const request = new Request(`https://${options.hostname}:${options.port}${req.url}`, {
    method: req.method,
    headers,
    body: hasBody ? Readable.toWeb(req) as ReadableStream<Uint8Array> : null,
    // @ts-ignore: duplex is required for a streamed request body
    duplex: "half",
  });
  const info = {
    remoteAddr: {
      transport: "tcp",
      hostname: socket.remoteAddress ?? "",
      port: socket.remotePort ?? 0,
    },
    completed: Promise.resolve(),
  } as unknown as Deno.ServeHandlerInfo;
  const response = await options.handler(request, info, certificateJson(socket));
  const out: Record<string, string | string[]> = {};
  response.headers.forEach((v, k) => {
    if (k !== "set-cookie") out[k] = v;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) out["set-cookie"] = cookies;
  res.writeHead(response.status, out);
  if (response.body) {
    for await (const chunk of response.body) res.write(chunk);
  }
  res.end();
}

/** The peer certificate as Python sees it, or "" when there is none. */
function certificateJson(socket: TLSSocket): string {
  const c = socket.getPeerCertificate?.();
  if (!c || !c.subject) return "";
  return JSON.stringify({
    subject: { ...c.subject },
    issuer: { ...c.issuer },
    serial: c.serialNumber,
    fingerprint256: c.fingerprint256,
    valid_from: c.valid_from,
    valid_to: c.valid_to,
  });
}
