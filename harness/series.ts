/**
 * The run second by second, for the report's charts: per second since the run began, the
 * responses by status class, the transport errors, and the latencies in log-spaced buckets
 * (each 25 % wider than the one before, so a percentile read from them is within 12.5 %) — small
 * enough to keep one per second in every client thread and merge in the driver. The run's own
 * percentiles come from its HDR histogram; these are for the shape over time.
 *
 * @module
 */

/** Latency buckets: bucket i holds latencies in [GROWTH^i, GROWTH^(i+1)) microseconds. */
const GROWTH = 1.25;
const LOG_GROWTH = Math.log(GROWTH);
/** Buckets up to an hour in microseconds. */
export const LATENCY_BUCKETS = Math.ceil(Math.log(3_600_000_000) / LOG_GROWTH) + 1;
/** The series keeps this many seconds; later ones are added to the last (a run's first hour). */
export const MAX_SECONDS = 3600;

/** Status classes as the driver counts them. */
export type StatusClass = "2xx" | "3xx" | "4xx" | "5xx";
const CLASSES: readonly StatusClass[] = ["2xx", "3xx", "4xx", "5xx"];

/** One second of a run, as sent between threads (plain arrays: structured-clone friendly). */
export interface SecondCounts {
  /** Responses by class: [2xx, 3xx, 4xx, 5xx]. */
  status: [number, number, number, number];
  /** Transport errors (refused, reset, timeout, malformed, other together). */
  transport: number;
  /** Sparse latency buckets: [bucket, count, bucket, count, …]. */
  latency: number[];
}

/** Records one thread's part of a run, second by second from `startMs` (epoch ms). */
export class SeriesRecorder {
  readonly #startMs: number;
  readonly #seconds: { status: number[]; transport: number; latency: Uint32Array }[] = [];

  /** @param startMs the run's start, epoch ms, the same for every thread */
  constructor(startMs: number) {
    this.#startMs = startMs;
  }

  #second(nowMs: number) {
    const i = Math.min(MAX_SECONDS - 1, Math.max(0, Math.floor((nowMs - this.#startMs) / 1000)));
    while (this.#seconds.length <= i) {
      this.#seconds.push({
        status: [0, 0, 0, 0],
        transport: 0,
        latency: new Uint32Array(LATENCY_BUCKETS),
      });
    }
    return this.#seconds[i];
  }

  /**
   * A response.
   *
   * @param nowMs when it finished, epoch ms
   * @param cls its status class
   * @param latencyUs its latency in microseconds
   */
  response(nowMs: number, cls: StatusClass, latencyUs: number): void {
    const s = this.#second(nowMs);
    s.status[CLASSES.indexOf(cls)]++;
    s.latency[bucketOf(latencyUs)]++;
  }

  /**
   * A transport error.
   *
   * @param nowMs when it happened, epoch ms
   */
  error(nowMs: number): void {
    this.#second(nowMs).transport++;
  }

  /** @returns the seconds so far, compact */
  toCounts(): SecondCounts[] {
    return this.#seconds.map((s) => {
      const latency: number[] = [];
      s.latency.forEach((n, b) => n && latency.push(b, n));
      return { status: s.status as SecondCounts["status"], transport: s.transport, latency };
    });
  }
}

/** The bucket of a latency in microseconds. */
export function bucketOf(us: number): number {
  return Math.min(
    LATENCY_BUCKETS - 1,
    Math.max(0, Math.floor(Math.log(Math.max(1, us)) / LOG_GROWTH)),
  );
}

/** One second of the merged run, as the summary (`--json`) and the report have it. */
export interface SecondPoint {
  /** Seconds since the start (this second is [t, t+1)). */
  t: number;
  /** How much of this second the run lasted: 1, less for the last. */
  span_s: number;
  /** Responses and transport errors that finished in this second. */
  requests: number;
  /** 2xx + 3xx. */
  ok: number;
  /** 4xx + 5xx + transport errors. */
  errors: number;
  status: Record<StatusClass, number>;
  transport: number;
  /** Latency percentiles of this second's responses (ms), null with none. */
  p50_ms: number | null;
  p99_ms: number | null;
}

/**
 * Merges the threads' seconds into one series.
 *
 * @param parts each thread's {@link SeriesRecorder.toCounts}
 * @param elapsedS how long the run lasted, for the last second's span
 * @returns one point per second, from the start to the last second anything finished in
 */
export function mergeSeries(parts: SecondCounts[][], elapsedS: number): SecondPoint[] {
  const length = Math.max(0, ...parts.map((p) => p.length));
  const points: SecondPoint[] = [];
  for (let t = 0; t < length; t++) {
    const status = [0, 0, 0, 0];
    let transport = 0;
    const latency = new Float64Array(LATENCY_BUCKETS);
    for (const part of parts) {
      const s = part[t];
      if (!s) continue;
      s.status.forEach((n, i) => status[i] += n);
      transport += s.transport;
      for (let i = 0; i < s.latency.length; i += 2) latency[s.latency[i]] += s.latency[i + 1];
    }
    const responses = status.reduce((a, b) => a + b, 0);
    points.push({
      t,
      span_s: t === MAX_SECONDS - 1
        ? Math.max(1, elapsedS - t)
        : Math.round(Math.min(1, Math.max(0.001, elapsedS - t)) * 1000) / 1000,
      requests: responses + transport,
      ok: status[0] + status[1],
      errors: status[2] + status[3] + transport,
      status: { "2xx": status[0], "3xx": status[1], "4xx": status[2], "5xx": status[3] },
      transport,
      p50_ms: percentileMs(latency, responses, 50),
      p99_ms: percentileMs(latency, responses, 99),
    });
  }
  return points;
}

/** A percentile read from buckets: the geometric middle of the bucket it falls in, in ms. */
function percentileMs(latency: Float64Array, total: number, p: number): number | null {
  if (total === 0) return null;
  const want = Math.max(1, Math.ceil((p / 100) * total));
  let seen = 0;
  for (let b = 0; b < latency.length; b++) {
    seen += latency[b];
    if (seen >= want) return Math.round(GROWTH ** (b + 0.5)) / 1000;
  }
  return null;
}
