/**
 * What the request path tells the operator about each answered request: the counts for
 * /metrics, the access-log line, recycling's request count.
 *
 * Boundary: worker-side, after the response is built; never changes the response.
 *
 * @module
 */
import { clientOf } from "../../src/http/client_addr.ts";
import type { Exchange } from "./context.ts";
import { requestId } from "./request_id.ts";

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
  if (x.call && x.call.route === ctx.app) {
    if (x.call.label) x.route = x.call.label; // the app said which of its routes answered
    ctx.traceRoute?.(x.req.method, x.route);
  }
  if (ctx.metrics || ctx.access) {
    const seconds = (end - x.t0) / 1000;
    if (ctx.metrics) life.metrics.record(x.route, x.req.method, res.status, seconds);
    // An accepted WebSocket's line is written when it is gone ({@link socketGone}).
    if (ctx.access && res.status !== 101) accessLine(x, { status: res.status, seconds });
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
  accessLine(x, { status: 101, seconds: (performance.now() - x.t0) / 1000, closeCode: code });
}

function accessLine(
  x: Exchange,
  line: { status: number; seconds: number; closeCode?: number },
): void {
  const { status, seconds, closeCode } = line;
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
    client: clientFor(x),
    close_code: closeCode,
  });
}

/**
 * What Python sees as `req.client` and the access log writes, worked out once per request.
 *
 * @param x the request
 * @returns `ip:port` of the peer, or the forwarded client behind a trusted proxy
 */
export function clientFor(x: Exchange): string {
  return x.client ||= clientOf(x.req, x.info, x.trusted);
}
