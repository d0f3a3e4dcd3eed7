/**
 * The load driver as a library: spreads connections over client worker threads, waits for
 * them, and merges their counts and HDR histograms into one summary.
 *
 * Boundary: no printing and no process exit; `main.ts` is the command line.
 *
 * @module
 */
import * as hdr from "hdr-histogram-js";
import { VERSION } from "../src/version.ts";
import { encodeRequest } from "./http1.ts";
import { mergeSeries, type SecondPoint } from "./series.ts";
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

/** What was run, for the report: the target and the load's shape. */
export interface RunParameters {
  /** `METHOD http://host:port/path`. */
  target: string;
  method: string;
  connections: number;
  threads: number;
  /** Open loop's requests per second, or null (closed loop). */
  rate: number | null;
  /** `--duration` in seconds, or null when `--count` was given. */
  duration_s: number | null;
  /** `--count`, or null when `--duration` was given. */
  count: number | null;
  /** When the run started (ISO 8601, UTC). */
  started: string;
  /** The driver's version (siphon-deno's). */
  version: string;
}

/** The driver's result; this is exactly what `--json` writes. */
export interface DriveSummary {
  run: RunParameters;
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
  /** Latency (ms) at percentiles from 0 to 100, spaced for a log axis (HdrHistogram's plot). */
  percentiles: [number, number][];
  /** Second by second (harness/series.ts). */
  series: SecondPoint[];
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
  const startMs = Date.now();
  const until = options.durationMs === undefined ? null : startMs + options.durationMs;
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
      startMs,
      rate: options.rate === undefined ? null : options.rate * connections / concurrency,
    };
    return runWorker(job, options.signal, (done) => {
      progress[t] = done;
      options.onProgress?.(progress.reduce((a, b) => a + b, 0));
    });
  }));
  const elapsed = (performance.now() - start) / 1000;
  const run: RunParameters = {
    target: `${method} http://${options.host}:${options.port}${options.path}`,
    method,
    connections: concurrency,
    threads,
    rate: options.rate ?? null,
    duration_s: options.durationMs === undefined ? null : options.durationMs / 1000,
    count: options.count ?? null,
    started: new Date(startMs).toISOString(),
    version: VERSION,
  };
  return merge(results, elapsed, run);
}

/** Percentiles of the report's curve: 0, then ten a decade of 1/(1-p) up to 99.999, then 100. */
export const CURVE_PERCENTILES: readonly number[] = [
  ...Array.from({ length: 51 }, (_, k) => Math.round((100 - 100 * 10 ** (-k / 10)) * 1e6) / 1e6),
  100,
];

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

function merge(results: ClientResult[], elapsed: number, run: RunParameters): DriveOutcome {
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
      run,
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
      percentiles: histogram.totalCount
        ? CURVE_PERCENTILES.map((p) => [p, ms(histogram.getValueAtPercentile(p))])
        : [],
      series: mergeSeries(results.map((r) => r.series), elapsed),
    },
    histogram,
  };
}
