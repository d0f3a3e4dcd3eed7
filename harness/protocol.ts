/**
 * Messages between the driver (main thread) and its client workers.
 *
 * @module
 */

import type { SecondCounts } from "./series.ts";

/** Transport-level failures, counted apart from HTTP statuses. */
export const ERROR_KINDS = ["refused", "reset", "timeout", "malformed", "other"] as const;
/** One transport-level failure kind. */
export type ErrorKind = typeof ERROR_KINDS[number];

/** What one client worker does. */
export interface ClientJob {
  type: "run";
  host: string;
  port: number;
  /** The encoded request, sent as is for every request. */
  request: Uint8Array;
  headRequest: boolean;
  connections: number;
  /** This worker's share of `--count`, or null in duration mode. */
  count: number | null;
  /** Epoch ms to stop at in duration mode, or null. */
  until: number | null;
  /** A request without a response for this long is a timeout. */
  timeoutMs: number;
  /** The run's start, epoch ms, the same in every worker: the series' second 0. */
  startMs: number;
  /**
   * Open loop: this worker's requests per second, sent on a fixed schedule whatever the server
   * does (at most one in flight per connection; a request that waits for a free connection is
   * late, and its latency counts from its scheduled time). Null: closed loop.
   */
  rate: number | null;
}

/** Driver → client worker while running: finish the requests in flight and report. */
export interface ClientStop {
  type: "stop";
}

/** A client worker's totals. */
export interface ClientResult {
  responses: number;
  status: { "2xx": number; "3xx": number; "4xx": number; "5xx": number };
  errors: Record<ErrorKind, number>;
  /** HDR histogram of latencies in microseconds, compressed base64. */
  histogram: string;
  /** The same, second by second (harness/series.ts). */
  series: SecondCounts[];
}

/** Client worker → driver. */
export type FromClient =
  | { type: "progress"; done: number }
  | { type: "done"; result: ClientResult };
