/**
 * One thread of the load driver: owns a share of the connections, sends the same encoded
 * request on each (keep-alive, one in flight per connection), parses the responses, and counts
 * statuses, error kinds and latencies (HDR histogram, microseconds). Closed loop, or open loop
 * with `rate`: requests are due on a fixed schedule and a connection that frees up takes the
 * oldest one due; a request sent late because every connection was busy counts its latency
 * from when it was due (the server's queueing shows), one sent on time from when it was sent
 * (the timer's own slack does not).
 *
 * @module
 */
/// <reference lib="deno.worker" />
import * as hdr from "hdr-histogram-js";
import { MalformedResponse, ResponseParser } from "./http1.ts";
import type { ClientJob, ClientResult, ClientStop, ErrorKind, FromClient } from "./protocol.ts";
import { SeriesRecorder } from "./series.ts";

let stopped = false;

self.onmessage = async (event: MessageEvent<ClientJob | ClientStop>) => {
  if (event.data.type === "stop") {
    stopped = true;
    return;
  }
  const result = await run(event.data);
  self.postMessage({ type: "done", result } satisfies FromClient);
  self.close();
};

interface Slot {
  conn: Deno.TcpConn | null;
  sentAt: number;
  timedOut: boolean;
}

async function run(job: ClientJob): Promise<ClientResult> {
  const histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const result: ClientResult = {
    responses: 0,
    status: { "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0 },
    errors: { refused: 0, reset: 0, timeout: 0, malformed: 0, other: 0 },
    histogram: "",
    series: [],
  };
  const series = new SeriesRecorder(job.startMs);
  let tickets = job.count ?? Infinity;
  const take = () => !stopped && (job.until === null || Date.now() < job.until) && tickets-- > 0;
  /** Open loop: when the next request is due (performance.now() ms). */
  let due = performance.now();
  const interval = job.rate === null ? 0 : 1000 / job.rate;
  const slots: Slot[] = Array.from(
    { length: job.connections },
    () => ({ conn: null, sentAt: 0, timedOut: false }),
  );
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const s of slots) {
      if (s.conn && s.sentAt && now - s.sentAt > job.timeoutMs) {
        s.timedOut = true;
        s.conn.close();
        s.conn = null;
      }
    }
  }, Math.min(100, job.timeoutMs));
  let done = 0;
  const progress = setInterval(
    () => self.postMessage({ type: "progress", done } as FromClient),
    250,
  );
  const fail = (kind: ErrorKind) => {
    result.errors[kind]++;
    series.error(Date.now());
    done++;
  };
  await Promise.all(slots.map(async (slot) => {
    const buf = new Uint8Array(64 * 1024);
    let parser = new ResponseParser(job.headRequest);
    let status = 0;
    const onResponse = (s: number) => {
      if (status !== 0) throw new MalformedResponse("more than one response to one request");
      status = s;
    };
    while (take()) {
      let origin = 0; // open loop: where this request's latency starts, when not at sending
      if (interval > 0) {
        const at = due;
        due += interval;
        const wait = at - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        else origin = at; // late: it waited for this connection to free up
      }
      if (!slot.conn) {
        try {
          slot.conn = await Deno.connect({ hostname: job.host, port: job.port });
          slot.conn.setNoDelay(true);
        } catch (e) {
          fail(e instanceof Deno.errors.ConnectionRefused ? "refused" : classify(e));
          continue;
        }
      }
      const conn = slot.conn;
      status = 0;
      slot.timedOut = false;
      slot.sentAt = performance.now();
      try {
        await writeAll(conn, job.request);
        while (status === 0) {
          const n = await conn.read(buf);
          if (n === null) throw new Deno.errors.UnexpectedEof("server closed the connection");
          parser.push(buf.subarray(0, n), onResponse);
        }
        if (!parser.idle) throw new MalformedResponse("bytes after the response");
      } catch (e) {
        slot.sentAt = 0;
        fail(slot.timedOut ? "timeout" : classify(e));
        try {
          slot.conn?.close();
        } catch { /* already closed */ }
        slot.conn = null;
        parser = new ResponseParser(job.headRequest); // a fresh connection starts clean
        continue;
      }
      const elapsedUs = Math.round((performance.now() - (origin || slot.sentAt)) * 1000);
      slot.sentAt = 0;
      const cls = `${Math.floor(status / 100)}xx` as keyof ClientResult["status"];
      if (!(cls in result.status)) {
        fail("malformed");
        continue;
      }
      histogram.recordValue(Math.max(1, elapsedUs));
      series.response(Date.now(), cls, elapsedUs);
      result.status[cls]++;
      result.responses++;
      done++;
      if (parser.closeRequested) {
        conn.close();
        slot.conn = null;
      }
    }
    try {
      slot.conn?.close();
    } catch { /* already closed */ }
  }));
  clearInterval(watchdog);
  clearInterval(progress);
  result.histogram = hdr.encodeIntoCompressedBase64(histogram);
  result.series = series.toCounts();
  return result;
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.byteLength) off += await conn.write(bytes.subarray(off));
}

function classify(e: unknown): ErrorKind {
  if (e instanceof MalformedResponse) return "malformed";
  if (e instanceof Deno.errors.ConnectionRefused) return "refused";
  if (
    e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe ||
    e instanceof Deno.errors.ConnectionAborted || e instanceof Deno.errors.UnexpectedEof ||
    e instanceof Deno.errors.NotConnected
  ) return "reset";
  if (e instanceof Deno.errors.TimedOut) return "timeout";
  return "other";
}
