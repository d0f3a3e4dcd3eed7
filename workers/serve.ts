/**
 * A worker's listeners and its request path, read top to bottom: route → limits → body →
 * Python → response. Each worker binds every listener with `reusePort`, so the kernel spreads
 * connections and no request crosses a thread.
 *
 * Boundary: wire-layer work for one worker. Python's part is behind {@link Bridge}.
 *
 * @module
 */
import type { Config } from "../src/config/load.ts";
import type { HandshakeFailure } from "../src/protocol.ts";
import { type BodyFailure, readBody } from "../src/http/body.ts";
import { clientAddress, parseTrusted, type Trusted } from "../src/http/client_addr.ts";
import { errorResponse } from "../src/http/errors.ts";
import { parseQueryPairs } from "../src/http/query.ts";
import type { Logger } from "../src/log.ts";
import type { Router } from "../src/router/router.ts";
import { type Bridge, BridgeFatal, type BridgeRequest, type Pending } from "./bridge.ts";
import type { Metrics } from "./metrics.ts";
import { type RunningListener, startMutualTls } from "./mtls.ts";
import type { DeadlineClock } from "./deadlines.ts";
import { requestId } from "./request_id.ts";
import type { Batcher } from "./batcher.ts";

type ServerConfig = Config["servers"][number];

/** What every listener of a worker shares. */
export interface RequestContext {
  router: Router;
  bridge: Bridge;
  clock: DeadlineClock;
  /** Pyodide's interrupt flag; reset before each call so a stale interrupt cannot hit it. */
  interrupt: Int32Array;
  log: Logger;
  /** Called when the interpreter itself failed; the worker must be replaced. */
  onFatal: (cause: string) => void;
  /** Called when a client's mutual-TLS handshake failed (the supervisor logs it). */
  onHandshakeError: (failure: HandshakeFailure) => void;
  /** Per worker: requests answered by the current interpreter (for recycling), metrics. */
  life: WorkerLife;
  /** Route templates by route id, for metrics. */
  labels: readonly string[];
  /** By route id: the handler reads its body as a stream (`stream=True`). */
  streaming: readonly boolean[];
  /** Count requests for /metrics (`admin.metrics`). */
  metrics: boolean;
  /** Write one access-log line per request (`log.access`). */
  access: boolean;
  /** Names the request's OpenTelemetry span after its route (only when tracing is on). */
  traceRoute: ((method: string, template: string) => void) | null;
}

/** What a worker tracks about itself: for recycling, its metrics, its Python batches. */
export interface WorkerLife {
  requests: number;
  metrics: Metrics;
  /** Hands requests to Python back to back under load (./batcher.ts). */
  batcher: Batcher;
  /** Called after each response is built. */
  onRequest: () => void;
}

/**
 * A listener's settings and request context. A reload swaps both fields in place; each request
 * reads them once when it starts, so it finishes on the generation it started on.
 */
export interface Listener {
  server: ServerConfig;
  ctx: RequestContext;
  /** `server.trusted_proxies`, parsed; set with `server`. */
  trusted: Trusted;
}

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
  if (!into) return { server, ctx, trusted };
  into.server = server;
  into.ctx = ctx;
  into.trusted = trusted;
  return into;
}

/** One listener's request path with its own limits. */
export function requestHandler(listener: Listener) {
  let inflight = 0;
  const done = () => {
    inflight--;
    listener.ctx.life.metrics.inflight--;
  };
  const answer = (
    req: Request,
    info: Deno.ServeHandlerInfo,
    clientCert: string,
  ): Response | Promise<Response> => {
    const { server, ctx, trusted } = listener;
    const url = req.url;
    const pathStart = url.indexOf("/", url.indexOf("//") + 2);
    const q = url.indexOf("?", pathStart);
    const path = q === -1 ? url.slice(pathStart) : url.slice(pathStart, q);
    const query = q === -1 ? "" : url.slice(q + 1);
    const match = ctx.router.match(req.method, path);
    if (match.status === 200) {
      matchedRoute = ctx.labels[match.route] ?? "";
      ctx.traceRoute?.(req.method, matchedRoute);
    }
    if (match.status === 404) return errorResponse(404, "Not Found");
    if (match.status === 405) {
      return errorResponse(405, "Method Not Allowed", { allow: match.allow });
    }
    if (match.status === 400) return errorResponse(400, `Bad Request: ${match.reason}`);
    if (inflight >= server.max_inflight) {
      return errorResponse(503, "Service Unavailable: too many requests in flight", {
        "retry-after": "1",
      });
    }
    const announced = req.headers.get("content-length");
    if (announced !== null && Number(announced) > server.max_body_bytes) {
      return errorResponse(413, "Payload Too Large");
    }
    const headers: string[] = [];
    let incomingId: string | null = null;
    req.headers.forEach((v, k) => {
      headers.push(k, v);
      if (k === "x-request-id") incomingId = v;
    });
    const call: BridgeRequest = {
      route: match.route,
      method: req.method,
      path,
      client: clientOf(req, info, trusted),
      query: parseQueryPairs(query),
      headers,
      params: match.params,
      mayHaveControl: url.includes("%0"),
      clientCert,
      requestId: requestId(incomingId),
      timeoutMs: server.request_timeout_ms,
      bodyStream: null,
      body: null,
    };
    currentRequestId = call.requestId;
    const deadline = Date.now() + server.request_timeout_ms;
    inflight++;
    ctx.life.metrics.inflight++;
    if (req.body === null) return finish(python(call, deadline, ctx, true), done);
    if (ctx.streaming[match.route]) {
      call.bodyStream = { stream: req.body, cap: server.max_body_bytes };
      return finish(run(call, deadline, ctx), done);
    }
    let cancelRead: (() => void) | undefined;
    const token = ctx.clock.begin(deadline, () => cancelRead?.());
    const read = announced === null
      ? readBody(req.body, {
        cap: server.max_body_bytes,
        onCancel: (cancel) => cancelRead = cancel,
      })
      : readAnnounced(req, (cancel) => cancelRead = cancel);
    return read.then((body) => {
      ctx.clock.end(token);
      if (body === "too_large") return errorResponse(413, "Payload Too Large");
      if (body === "timeout") {
        return errorResponse(408, "Request Timeout: body not received in time");
      }
      if (body === "aborted") return errorResponse(400, "Bad Request: body stream failed");
      call.body = body;
      return python(call, deadline, ctx, false);
    }).finally(done);
  };
  return (
    req: Request,
    info: Deno.ServeHandlerInfo,
    clientCert = "",
  ): Response | Promise<Response> => {
    const { ctx, trusted } = listener;
    // performance.now() costs ~80 ns: two calls for a synchronous answer, none when unused.
    const timed = ctx.metrics || ctx.access;
    const t0 = timed ? performance.now() : 0;
    matchedRoute = "";
    currentRequestId = "";
    const out = answer(req, info, clientCert);
    // Set by answer's synchronous part, so they are this request's.
    const seen: Seen = { req, info, route: matchedRoute, requestId: currentRequestId, t0, trusted };
    const t1 = timed ? performance.now() : 0;
    if (ctx.metrics) ctx.life.metrics.busyMs += t1 - t0;
    if (out instanceof Response) return after(ctx, out, seen, t1);
    return out.then((res) => after(ctx, res, seen, timed ? performance.now() : 0));
  };
}

/** The template answer() matched for the request it is running synchronously… */
let matchedRoute = "";
/** …and the id it gave that request ("" when the request did not reach Python). */
let currentRequestId = "";

/** What the request path learnt about a request, for metrics and the access log. */
interface Seen {
  req: Request;
  info: Deno.ServeHandlerInfo;
  route: string;
  requestId: string;
  t0: number;
  trusted: Trusted;
}

/** Counts the answered request and writes its access line; `end` is performance.now() or 0. */
function after(ctx: RequestContext, res: Response, seen: Seen, end: number): Response {
  const life = ctx.life;
  life.requests++;
  if (ctx.metrics || ctx.access) {
    const seconds = (end - seen.t0) / 1000;
    if (ctx.metrics) life.metrics.record(seen.route, seen.req.method, res.status, seconds);
    if (ctx.access) accessLine(ctx, res.status, seen, seconds);
  }
  life.onRequest();
  return res;
}

function accessLine(ctx: RequestContext, status: number, seen: Seen, seconds: number): void {
  const { req, info } = seen;
  const url = req.url;
  const path = url.slice(url.indexOf("/", url.indexOf("//") + 2));
  ctx.log.access(`${req.method} ${path} ${status}`, {
    request_id: seen.requestId || requestId(req.headers.get("x-request-id")),
    method: req.method,
    path,
    route: seen.route || undefined,
    status,
    duration_ms: Math.round(seconds * 1e6) / 1000,
    client: clientOf(req, info, seen.trusted),
  });
}

/** `ip:port` of the peer, or the forwarded client when the peer is a trusted proxy. */
function clientOf(req: Request, info: Deno.ServeHandlerInfo, trusted: Trusted): string {
  const addr = info.remoteAddr as Deno.NetAddr;
  if (trusted.ranges.length) {
    return clientAddress(addr, req.headers.get("x-forwarded-for"), trusted);
  }
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
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

function finish(
  out: Response | Promise<Response>,
  done: () => void,
): Response | Promise<Response> {
  if (out instanceof Response) {
    done();
    return out;
  }
  return out.finally(done);
}

/**
 * Python's part: at once under light load, else in the turn's batch (./batcher.ts). Busy time
 * is counted once: by the caller for an inline run in the handler's synchronous part, here for
 * a run that happens later (after the body arrived, or in a batch).
 */
function python(
  call: BridgeRequest,
  deadline: number,
  ctx: RequestContext,
  inline: boolean,
): Response | Promise<Response> {
  const { batcher } = ctx.life;
  const work = () => run(call, deadline, ctx);
  if (!ctx.metrics || (inline && batcher.immediate)) return batcher.submit(work);
  return batcher.submit(() => {
    const t = performance.now();
    try {
      return work();
    } finally {
      ctx.life.metrics.busyMs += performance.now() - t;
    }
  });
}

/** Python's part, under the request deadline. */
function run(
  call: BridgeRequest,
  deadline: number,
  ctx: RequestContext,
): Response | Promise<Response> {
  let expire: (() => void) | undefined;
  const token = ctx.clock.begin(deadline, () => expire?.());
  ctx.interrupt[0] = 0;
  let out: Response | Pending;
  const about = { request_id: call.requestId };
  try {
    out = ctx.bridge.call(call);
  } catch (e) {
    ctx.clock.end(token);
    ctx.log.error(`${call.method} ${call.path}: ${(e as Error).message}`, about);
    if (e instanceof BridgeFatal) ctx.onFatal(e.message);
    return errorResponse(500, "Internal Server Error");
  }
  if (out instanceof Response) {
    ctx.clock.end(token);
    return out;
  }
  const pending = out;
  const timedOut = new Promise<Response>((resolve) => {
    expire = () => {
      resolve(errorResponse(504, "Gateway Timeout: the handler ran past its deadline"));
      ctx.log.warning(`${call.method} ${call.path}: handler cancelled at its deadline`, about);
      try {
        pending.cancel();
      } catch (e) {
        ctx.log.error(
          `${call.method} ${call.path}: cannot cancel the handler: ${(e as Error).message}`,
          about,
        );
      }
    };
  });
  const result = pending.result.catch((e) => {
    ctx.log.error(`${call.method} ${call.path}: ${(e as Error).message}`, about);
    if (e instanceof BridgeFatal) ctx.onFatal(e.message);
    return errorResponse(500, "Internal Server Error");
  });
  return Promise.race([result, timedOut]).finally(() => ctx.clock.end(token));
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
    return errorResponse(500, "Internal Server Error");
  };
  if (server.tls?.client_ca) {
    return await startMutualTls({
      hostname: server.listen.hostname,
      port: server.listen.port,
      cert: await Deno.readTextFile(server.tls.cert_path),
      key: await Deno.readTextFile(server.tls.key_path),
      ca: await Deno.readTextFile(server.tls.client_ca),
      handler: requestHandler(listener),
      onError,
      onHandshakeError: (peer, error) =>
        listener.ctx.onHandshakeError({
          listen: server.listen.text,
          clientCa: server.tls!.client_ca!,
          peer,
          error,
        }),
    });
  }
  const tls = server.tls
    ? {
      cert: await Deno.readTextFile(server.tls.cert_path),
      key: await Deno.readTextFile(server.tls.key_path),
    }
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
