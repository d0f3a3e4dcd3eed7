/**
 * What the request path tells the operator about each answered request: the counts for
 * /metrics, the access-log line, recycling's request count — and the client address both it
 * and Python see.
 *
 * Boundary: worker-side, after the response is built; never changes the response.
 *
 * @module
 */
import { clientAddress, type Trusted } from "../../src/http/client_addr.ts";
import type { RequestContext } from "./context.ts";
import { requestId } from "./request_id.ts";

/** One request on its way through the path: what each stage learnt about it. */
export interface Exchange {
  req: Request;
  info: Deno.ServeHandlerInfo;
  /** The verified client certificate as JSON (mutual-TLS listeners), else "". */
  clientCert: string;
  /** The generation the request started on (a reload swaps the listener's, not this one). */
  ctx: RequestContext;
  trusted: Trusted;
  /** The matched route template ("" when nothing matched). */
  route: string;
  /** The id its log lines carry ("" when it did not reach Python). */
  requestId: string;
  /** The request URL, read once on the way in (an upgraded request's fields may be gone). */
  url: string;
  /** What Python sees as `req.client` ("" until worked out: {@link clientOf}). */
  client: string;
  /** performance.now() at arrival, or 0 when neither metrics nor the access log want it. */
  t0: number;
}

/**
 * Counts the answered request and writes its access line.
 *
 * @param x the request
 * @param res its response
 * @param end performance.now() at the answer, or 0 when nothing is timed
 * @returns `res`
 */
export function observe(x: Exchange, res: Response, end: number): Response {
  const { ctx } = x;
  const life = ctx.life;
  life.requests++;
  if (ctx.metrics || ctx.access) {
    const seconds = (end - x.t0) / 1000;
    if (ctx.metrics) life.metrics.record(x.route, x.req.method, res.status, seconds);
    // An accepted WebSocket's line is written when it is gone ({@link socketGone}).
    if (ctx.access && res.status !== 101) accessLine(x, res.status, seconds);
  }
  life.onRequest();
  return res;
}

/**
 * An accepted WebSocket's connection is gone: its access line, with how long it lived and the
 * close code.
 *
 * @param x the upgrade request
 * @param code the close code (1005: none given, 1006: the connection dropped)
 */
export function socketGone(x: Exchange, code: number): void {
  if (!x.ctx.access) return;
  accessLine(x, 101, (performance.now() - x.t0) / 1000, code);
}

function accessLine(x: Exchange, status: number, seconds: number, closeCode?: number): void {
  const { req } = x;
  const url = x.url || req.url;
  const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
  x.ctx.log.access(`${req.method} ${path} ${status}`, {
    request_id: x.requestId || requestId(req.headers.get("x-request-id")),
    method: req.method,
    path,
    route: x.route || undefined,
    status,
    duration_ms: Math.round(seconds * 1e6) / 1000,
    client: clientOf(x),
    close_code: closeCode,
  });
}

/**
 * `ip:port` of the peer, or the forwarded client when the peer is a trusted proxy.
 *
 * @param x the request
 * @returns what Python sees as `req.client`
 */
export function clientOf(x: Exchange): string {
  if (x.client) return x.client;
  const addr = x.info.remoteAddr as Deno.NetAddr;
  if (x.trusted.ranges.length) {
    return x.client = clientAddress(addr, x.req.headers.get("x-forwarded-for"), x.trusted);
  }
  return x.client = addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}
