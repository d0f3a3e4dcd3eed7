/**
 * The load driver as a library: spreads connections over client worker threads, waits for
 * them, and merges their counts and HDR histograms into one summary.
 *
 * Boundary: no printing and no process exit; `main.ts` is the command line.
 *
 * @module
 */
import * as hdr from "hdr-histogram-js";
import { encodeRequest } from "./http1.ts";
import {
  type ClientJob,
  type ClientResult,
  type ClientStop,
  ERROR_KINDS,
  type ErrorKind,
  type FromClient,
} from "./protocol.ts";

/** What to drive. Exactly one of `count` and `durationMs`. */
export interface DriveOptions {
  host: string;
  port: number;
  path: string;
  /** @default "GET" */
  method?: string;
  headers?: [string, string][];
  body?: Uint8Array;
  /** Total requests to send. */
  count?: number;
  /** How long to keep sending. */
  durationMs?: number;
  /** Open connections, one request in flight on each. @default 64 */
  concurrency?: number;
  /**
   * Open loop: send this many requests per second on a schedule, whatever the server does,
   * and count each latency from the request's scheduled time, so queueing is not hidden
   * (closed loop when absent: each connection sends its next request when the last answered).
   */
  rate?: number;
  /** Worker threads. @default the number of cores */
  threads?: number;
  /** A request with no response for this long counts as a timeout. @default 10000 */
  timeoutMs?: number;
  /** Called about every 250 ms with the requests finished so far. */
  onProgress?: (done: number) => void;
  /** Stops the run early (requests in flight still finish and count). */
  signal?: AbortSignal;
}

/** The driver's result; this is exactly what `--json` writes. */
export interface DriveSummary {
  /** Responses plus transport errors. */
  requests: number;
  /** 2xx and 3xx responses. */
  ok: number;
  /** Everything else: 4xx, 5xx and transport errors. */
  errors: number;
  elapsed_s: number;
  /** Requests per second over the whole run. */
  rps: number;
  latency_ms: { p50: number; p90: number; p99: number; p999: number; max: number };
  status: { "2xx": number; "3xx": number; "4xx": number; "5xx": number };
  error_kinds: Record<ErrorKind, number>;
}

/** A summary plus the merged latency histogram (microseconds), for reports. */
export interface DriveOutcome {
  summary: DriveSummary;
  histogram: hdr.Histogram;
}

/**
 * Runs the load.
 *
 * @param options target, request, amount of load
 * @returns counts, throughput and latency percentiles
 * @throws {RangeError} for options that do not describe a run
 * @example
 * ```ts
 * const { summary } = await drive({ host: "127.0.0.1", port: 8080, path: "/", count: 1000 });
 * ```
 */
export async function drive(options: DriveOptions): Promise<DriveOutcome> {
  const concurrency = options.concurrency ?? 64;
  if ((options.count === undefined) === (options.durationMs === undefined)) {
    throw new RangeError("Cannot drive: give exactly one of count and duration");
  }
  if (!(concurrency >= 1)) throw new RangeError("Cannot drive: concurrency must be at least 1");
  if (options.rate !== undefined && !(options.rate > 0)) {
    throw new RangeError("Cannot drive: rate must be above 0 requests per second");
  }
  const method = (options.method ?? "GET").toUpperCase();
  const request = encodeRequest({
    method,
    host: options.host,
    port: options.port,
    path: options.path,
    headers: options.headers ?? [],
    body: options.body,
  });
  const threads = Math.max(
    1,
    Math.min(options.threads ?? navigator.hardwareConcurrency, concurrency),
  );
  const start = performance.now();
  const until = options.durationMs === undefined ? null : Date.now() + options.durationMs;
  const progress = new Array<number>(threads).fill(0);
  const results = await Promise.all(Array.from({ length: threads }, (_, t) => {
    const connections = share(concurrency, threads, t);
    const job: ClientJob = {
      type: "run",
      host: options.host,
      port: options.port,
      request,
      headRequest: method === "HEAD",
      connections,
      count: options.count === undefined ? null : share(options.count, threads, t),
      until,
      timeoutMs: options.timeoutMs ?? 10000,
      rate: options.rate === undefined ? null : options.rate * connections / concurrency,
    };
    return runWorker(job, options.signal, (done) => {
      progress[t] = done;
      options.onProgress?.(progress.reduce((a, b) => a + b, 0));
    });
  }));
  const elapsed = (performance.now() - start) / 1000;
  return merge(results, elapsed);
}

/** Splits `total` over `parts` as evenly as possible; part `i` gets this many. */
export function share(total: number, parts: number, i: number): number {
  return Math.floor(total / parts) + (i < total % parts ? 1 : 0);
}

function runWorker(
  job: ClientJob,
  signal: AbortSignal | undefined,
  onProgress: (done: number) => void,
): Promise<ClientResult> {
  const worker = new Worker(new URL("./client_worker.ts", import.meta.url), { type: "module" });
  const stop = () => worker.postMessage({ type: "stop" } satisfies ClientStop);
  if (signal?.aborted) stop();
  signal?.addEventListener("abort", stop, { once: true });
  return new Promise<ClientResult>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<FromClient>) => {
      if (e.data.type === "progress") onProgress(e.data.done);
      else resolve(e.data.result);
    };
    worker.onerror = (e) => {
      e.preventDefault();
      reject(new Error(`driver thread failed: ${e.message}`));
    };
    worker.postMessage(job);
  }).finally(() => {
    signal?.removeEventListener("abort", stop);
    worker.terminate();
  });
}

function merge(results: ClientResult[], elapsed: number): DriveOutcome {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const status = { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 };
  const errorKinds = Object.fromEntries(ERROR_KINDS.map((k) => [k, 0])) as Record<
    ErrorKind,
    number
  >;
  let responses = 0;
  for (const r of results) {
    histogram.add(hdr.decodeFromCompressedBase64(r.histogram));
    responses += r.responses;
    for (const k of Object.keys(status) as (keyof typeof status)[]) status[k] += r.status[k];
    for (const k of ERROR_KINDS) errorKinds[k] += r.errors[k];
  }
  const transport = ERROR_KINDS.reduce((a, k) => a + errorKinds[k], 0);
  const requests = responses + transport;
  const ok = status["2xx"] + status["3xx"];
  const ms = (us: number) => Math.round(us) / 1000;
  const at = (p: number) => (histogram.totalCount ? ms(histogram.getValueAtPercentile(p)) : 0);
  return {
    summary: {
      requests,
      ok,
      errors: requests - ok,
      elapsed_s: Math.round(elapsed * 1000) / 1000,
      rps: elapsed > 0 ? Math.round((requests / elapsed) * 10) / 10 : 0,
      latency_ms: {
        p50: at(50),
        p90: at(90),
        p99: at(99),
        p999: at(99.9),
        max: histogram.totalCount ? ms(histogram.maxValue) : 0,
      },
      status,
      error_kinds: errorKinds,
    },
    histogram,
  };
}
