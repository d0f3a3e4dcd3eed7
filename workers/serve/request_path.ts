/**
 * One listener's request path, read top to bottom: route → limits → the request as Python
 * takes it → body → Python → response, then what the operator is told (./observe.ts). Each
 * request travels in one record from accept to observe (an {@link Exchange}: its listener's
 * settings, generation, route, deadline, bridge call and timing); a reload swaps the listener's
 * settings and context, and a request finishes on the ones it started with.
 *
 * Boundary: wire-layer work for one worker. Python's part is behind ./python_call.ts and the
 * bridge; listeners are ./listener.ts's.
 *
 * @module
 */
import { type BodyFailure, readBody } from "../../src/http/body.ts";
import type { Trusted } from "../../src/http/client_addr.ts";
import { answer, errorResponse } from "../../src/http/errors.ts";
import { parseQueryPairs } from "../../src/http/query.ts";
import type { Match } from "../../src/router/router.ts";
import type { BridgeRequest } from "../bridge/bridge.ts";
import type { Exchange, RequestContext, ServerConfig } from "./context.ts";
import { clientFor, observe } from "./observe.ts";
import { callPython } from "./python_call.ts";
import { requestId } from "./request_id.ts";
import type { StaticFiles } from "./static_files.ts";

/**
 * A listener's settings and request context. A reload swaps the fields in place; each request
 * reads them once when it starts, so it finishes on the generation it started on.
 */
export interface Listener {
  server: ServerConfig;
  ctx: RequestContext;
  /** `server.trusted_proxies`, parsed; set with `server`. */
  trusted: Trusted;
  /** The listener's static folders (`static:`), or null; set with `server`. */
  statics: StaticFiles | null;
}

/** A request handler as Deno.serve (and the mutual-TLS listener) call it. */
export type Handler = (
  req: Request,
  info: Deno.ServeHandlerInfo,
  clientCert?: string,
) => Response | Promise<Response>;

/** A request admitted to Python: routed, its call made. */
type Routed = Exchange & { call: BridgeRequest };

/**
 * One listener's request path with its own limits.
 *
 * @param listener settings and context, read per request
 * @returns the handler
 */
export function requestHandler(listener: Listener): Handler {
  const limits = { inflight: 0 };
  return (req, info, clientCert = "") => {
    const { ctx, trusted, server, statics } = listener;
    // performance.now() costs ~80 ns: two calls for a synchronous answer, none when unused.
    const timed = ctx.metrics || ctx.access;
    const t0 = timed ? performance.now() : 0;
    const x: Exchange = {
      req,
      info,
      clientCert,
      ctx,
      server,
      trusted,
      url: req.url,
      route: "",
      requestId: "",
      client: "",
      call: null,
      deadline: 0,
      inflight: false,
      t0,
    };
    const out = route(x, limits, statics);
    const t1 = timed ? performance.now() : 0;
    if (ctx.metrics) ctx.life.metrics.busyMs += t1 - t0;
    if (out instanceof Response) {
      if (x.inflight) release(x, limits);
      return observe(x, out, t1);
    }
    // One `then` for the in-flight count and the observation (`finally` would make three more).
    return out.then((res) => {
      if (x.inflight) release(x, limits);
      return observe(x, res, timed ? performance.now() : 0);
    }, (e) => {
      if (x.inflight) release(x, limits);
      throw e;
    });
  };
}

/** The request no longer counts against `max_inflight`. */
function release(x: Exchange, limits: { inflight: number }): void {
  limits.inflight--;
  x.ctx.life.metrics.inflight--;
}

/**
 * Routes the request and applies the listener's limits; hands the rest to {@link admit}. A path
 * no route matched goes to a static folder whose prefix it falls under, then to the ASGI app.
 */
function route(
  x: Exchange,
  limits: { inflight: number },
  statics: StaticFiles | null,
): Response | Promise<Response> {
  const { req, ctx, server, url } = x;
  const pathStart = url.indexOf("/", url.indexOf("//") + 2);
  const q = url.indexOf("?", pathStart);
  const path = q === -1 ? url.slice(pathStart) : url.slice(pathStart, q);
  let match = ctx.router.match(req.method, path);
  if (match.status !== 200) {
    const file = match.status === 404 ? statics?.match(path) : null;
    if (file) {
      x.route = file.label;
      return file.serve(req).catch((e) => {
        ctx.log.error(`${req.method} ${path}: static file: ${(e as Error).message}`);
        return answer("internal");
      });
    }
    if (ctx.app < 0 || match.status === 400) return refuse(match);
    match = { status: 200, route: ctx.app, params: [] }; // no route took it: the ASGI app
  }
  x.route = ctx.labels[match.route] ?? "";
  // an app's span is named once its own router has matched (observe.ts)
  if (match.route !== ctx.app) ctx.traceRoute?.(req.method, x.route);
  const query = q === -1 ? "" : url.slice(q + 1);
  if (
    ctx.websocket[match.route] ||
    (match.route === ctx.app && req.headers.get("upgrade")?.toLowerCase() === "websocket")
  ) return upgrade(withCall(x, match, { path, query }));
  if (limits.inflight >= server.max_inflight) {
    ctx.life.metrics.hit("max_inflight");
    return answer("overloaded", { "retry-after": "1" });
  }
  const announced = req.headers.get("content-length");
  if (announced !== null && Number(announced) > server.max_body_bytes) {
    ctx.life.metrics.hit("max_body_bytes");
    return answer("tooLarge");
  }
  const routed = withCall(x, match, { path, query });
  limits.inflight++;
  ctx.life.metrics.inflight++;
  x.inflight = true;
  return admit(routed, announced);
}

/**
 * A request to a websocket route: a WebSocket upgrade goes to the worker's sockets (Python's
 * handler decides the handshake); anything else is told to upgrade.
 */
function upgrade(x: Routed): Promise<Response> | Response {
  const { req, ctx } = x;
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return answer("upgradeRequired", { upgrade: "websocket", connection: "Upgrade" });
  }
  if (req.headers.get("sec-websocket-version") !== "13" || !req.headers.get("sec-websocket-key")) {
    return answer("badUpgrade", { "sec-websocket-version": "13" });
  }
  return ctx.life.sockets.upgrade(x);
}

/** What the router answers itself: 404, 405 with Allow, 400 for a malformed path. */
function refuse(match: Exclude<Match, { status: 200 }>): Response {
  if (match.status === 404) return answer("notFound");
  if (match.status === 405) return answer("methodNotAllowed", { allow: match.allow });
  return errorResponse(400, `Bad Request: ${match.reason}`);
}

/** The exchange with the request as the bridge takes it (its body comes later). */
function withCall(
  x: Exchange,
  match: Extract<Match, { status: 200 }>,
  target: { path: string; query: string },
): Routed {
  const { req, server, ctx } = x;
  const headers: string[] = [];
  let incomingId: string | null = null;
  req.headers.forEach((v, k) => {
    headers.push(k, v);
    if (k === "x-request-id") incomingId = v;
  });
  x.requestId = requestId(incomingId);
  const app = match.route === ctx.app;
  x.call = {
    route: match.route,
    method: req.method,
    path: target.path,
    // Deno's peer address costs more than most handlers save by it: Python asks when it reads
    // `req.client` (a socket's handler may read it long after, so an upgrade gets it now).
    // An ASGI scope always holds the client, so an app's request gets it now too.
    client: ctx.websocket[match.route] || app ? clientFor(x) : "",
    query: parseQueryPairs(target.query),
    headers,
    params: app ? appParts(x, target) : match.params,
    mayHaveControl: x.url.includes("%0"),
    clientCert: x.clientCert,
    requestId: x.requestId,
    timeoutMs: server.request_timeout_ms,
    bodyStream: null,
    body: null,
    seq: 0,
    lazy: () => clientFor(x),
  };
  return x as Routed;
}

/** What an ASGI scope needs beyond a script's request (contract.ts `APP_PARTS`, in order). */
function appParts(x: Exchange, target: { path: string; query: string }): string[] {
  const { listen, tls } = x.server;
  const version = x.req.headers.has("host") ? "1.1" : "2";
  return [
    target.path,
    target.query,
    tls ? "https" : "http",
    listen.hostname,
    `${listen.port}`,
    version,
  ];
}

/** An ASGI app's request body up to this long, with a Content-Length, is read before the app. */
export const APP_WHOLE_BODY_BYTES = 65536;

/** The body — none, streamed to Python, or read whole under the deadline — then Python. */
function admit(x: Routed, announced: string | null): Response | Promise<Response> {
  const { req, ctx, server, call } = x;
  x.deadline = Date.now() + server.request_timeout_ms;
  if (req.body === null) return callPython(x, true);
  // An ASGI app gets a small announced body in one piece (as uvicorn hands on a body that came
  // with its head): waiting for it in Python would cost a turn of the loop per request.
  const whole = call.route === ctx.app && announced !== null &&
    Number(announced) <= APP_WHOLE_BODY_BYTES;
  if (ctx.streaming[call.route] && !whole) {
    call.bodyStream = { stream: req.body, cap: server.max_body_bytes };
    return callPython(x, true);
  }
  let cancelRead: (() => void) | undefined;
  const token = ctx.clock.begin(x.deadline, () => cancelRead?.());
  const onCancel = (cancel: () => void) => cancelRead = cancel;
  const read = announced === null
    ? readBody(req.body, { cap: server.max_body_bytes, onCancel })
    : readAnnounced(req, onCancel);
  return read.then((body) => {
    ctx.clock.end(token);
    if (body === "too_large") {
      ctx.life.metrics.hit("max_body_bytes");
      return answer("tooLarge");
    }
    if (body === "timeout") return answer("bodyTimeout");
    if (body === "aborted") return answer("badBody");
    call.body = body;
    return callPython(x, false);
  });
}

/**
 * A body whose Content-Length was announced (and already checked against the cap): hyper holds
 * the client to that length, so the native whole-body read is safe and cheaper than a reader.
 */
function readAnnounced(
  req: Request,
  onCancel: (cancel: () => void) => void,
): Promise<Uint8Array | BodyFailure> {
  return new Promise((resolve) => {
    onCancel(() => resolve("timeout"));
    req.bytes().then(resolve, () => resolve("aborted"));
  });
}
