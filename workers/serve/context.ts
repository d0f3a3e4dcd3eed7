/**
 * What the request path of one worker works with: the generation's request context (router,
 * bridge, logger, switches), swapped in place on reload, and the worker's own lasting state
 * (counts, metrics, Python batches), which a reload keeps.
 *
 * Boundary: types only; workers/host/generation.ts builds the context, ./request_path.ts reads it.
 *
 * @module
 */
import type { HandshakeFailure } from "../../src/protocol.ts";
import type { Logger } from "../../src/log.ts";
import type { Router } from "../../src/router/router.ts";
import type { Bridge } from "../bridge/bridge.ts";
import type { Batcher } from "./batcher.ts";
import type { DeadlineClock } from "./deadlines.ts";
import type { Metrics } from "./metrics.ts";
import type { Sockets, Upgrade } from "./sockets.ts";

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
  sockets: Sockets;
  /** Called after each response is built. */
  onRequest: () => void;
}
