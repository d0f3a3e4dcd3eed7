/**
 * The three records the request path of one worker works with, from the longest-lived: the
 * worker's own lasting state (counts, metrics, Python batches, sockets), which a reload keeps;
 * the generation's request context (router, bridge, logger, switches), swapped in place on
 * reload; and each request's {@link Exchange}, made when Deno hands the request over and carried
 * through every stage to the access log.
 *
 * Boundary: types only; workers/generation/generation.ts builds the context,
 * ./request_path.ts makes each exchange and reads both.
 *
 * @module
 */
import type { Config } from "../../src/config/load.ts";
import type { Trusted } from "../../src/http/client_addr.ts";
import type { Logger } from "../../src/log.ts";
import type { HandshakeFailure } from "../../src/protocol.ts";
import type { Router } from "../../src/router/router.ts";
import type { DeadlineClock } from "../base/deadlines.ts";
import type { Bridge, BridgeRequest } from "../bridge/bridge.ts";
import type { SocketsForPython } from "../bridge/contract.ts";
import type { Batcher } from "./batcher.ts";
import type { Metrics } from "../base/metrics.ts";

/** One listener's settings (`servers[]` in http.yaml). */
export type ServerConfig = Config["servers"][number];

/** How a connection becomes a socket: `Deno.upgradeWebSocket`, or the test harness's pair. */
export type Upgrade = (
  req: Request,
  options: Deno.UpgradeWebSocketOptions,
) => { socket: WebSocket; response: Response };

/** One request on its way from accept to observe: what each stage learnt about it. */
export interface Exchange {
  req: Request;
  info: Deno.ServeHandlerInfo;
  /** The verified client certificate as JSON (mutual-TLS listeners), else "". */
  clientCert: string;
  /** The generation the request started on (a reload swaps the listener's, not this one). */
  ctx: RequestContext;
  /** The listener's settings when the request started. */
  server: ServerConfig;
  trusted: Trusted;
  /** The request URL, read once on the way in (an upgraded request's fields may be gone). */
  url: string;
  /** The matched route template ("" when nothing matched). */
  route: string;
  /** The id its log lines carry ("" when it did not reach Python). */
  requestId: string;
  /** What Python sees as `req.client` ("" until worked out). */
  client: string;
  /** The request as the bridge takes it, once routed to Python. */
  call: BridgeRequest | null;
  /** Epoch ms by which Python must have answered (0 until admitted). */
  deadline: number;
  /** Counted against the listener's `max_inflight` until it is answered. */
  inflight: boolean;
  /** performance.now() at arrival, or 0 when neither metrics nor the access log want it. */
  t0: number;
}

/** A worker's WebSockets, as the request path and the thread use them (./sockets.ts). */
export interface WorkerSockets {
  /** Upgrades a request routed to a websocket route, if its handler accepts. */
  upgrade(x: Exchange & { call: BridgeRequest }): Promise<Response>;
  /** Closes every open socket; upgrades after this are refused. */
  closeAll(code: number, reason: string, waitMs?: number): Promise<void>;
  /** Resolves once every socket's handler has returned. */
  drained(): Promise<void>;
  /** What Python's `siphon._websocket` calls. */
  forPython(): SocketsForPython;
}

/** What every listener of a worker shares for one generation. */
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
  /** The ASGI app's route id: what no other route takes goes there; -1 without `app:`. */
  app: number;
  /** By route id: the handler reads its body as a stream (`stream=True`). */
  streaming: readonly boolean[];
  /** By route id: a websocket route (`@http.websocket`, `websocket: true`). */
  websocket: readonly boolean[];
  /** How an accepted upgrade becomes a socket (`Deno.upgradeWebSocket` when serving). */
  upgrade: Upgrade;
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
  /** The worker's WebSockets, of every generation. */
  sockets: WorkerSockets;
  /** Called after each response is built. */
  onRequest: () => void;
}
