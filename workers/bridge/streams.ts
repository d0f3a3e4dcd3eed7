/**
 * Streamed bodies between Deno and Python, both ways, each pulled one chunk at a time so
 * neither side buffers a whole body:
 *
 * - request: on a `stream=True` route Python reads `req.stream()`; each step asks
 *   {@link BodySources.read} for the next chunk of the request's ReadableStream, counting bytes
 *   against the listener's cap;
 * - response: a Python iterator body becomes a ReadableStream whose `pull` asks Python for the
 *   next chunk; hyper pulls only as fast as the client takes data (back-pressure), and a client
 *   that goes away cancels the stream, which closes the Python iterator.
 *
 * Boundary: worker-side, inside the bridge (workers/bridge/bridge.ts); Python's half is
 * workers/python/siphon/_stream.py.
 *
 * @module
 */
import type { PyProxy } from "pyodide/ffi";
import type { DeadlineClock } from "../base/deadlines.ts";
import { TOO_LARGE_PREFIX } from "./contract.ts";

interface Source {
  reader: ChunkReader;
  cap: number;
  received: number;
}

const CHUNK_BYTES = 64 * 1024;
/** Streamed bytes between two young-generation collections. */
const COLLECT_EVERY = 8 * 1024 * 1024;
/** Bytes streamed in this thread since the last collection. */
const streamed = { sinceCollect: 0 };

/**
 * Counts bytes a stream moved. Every chunk leaves a short-lived ArrayBuffer behind whose memory
 * lives outside V8's heap, so V8 collects them late: a 50 MB transfer would leave tens of MiB of
 * dead chunks. A minor collection every 8 MiB (about a millisecond; the launch paths pass
 * --expose-gc) keeps that bounded.
 *
 * @param bytes bytes just moved
 */
export function noteStreamed(bytes: number): void {
  streamed.sinceCollect += bytes;
  if (streamed.sinceCollect < COLLECT_EVERY) return;
  streamed.sinceCollect = 0;
  (globalThis as { gc?: (options?: { type: string }) => void }).gc?.({ type: "minor" });
}

/**
 * Reads a body stream chunk by chunk. Byte streams are read into one reused buffer (BYOB):
 * Python copies each chunk out before asking for the next, and a fresh ArrayBuffer per chunk
 * would be garbage V8 frees late — tens of MiB during a large upload.
 */
export class ChunkReader {
  readonly #byob: ReadableStreamBYOBReader | null;
  readonly #plain: ReadableStreamDefaultReader<Uint8Array> | null;
  #buffer = new Uint8Array(CHUNK_BYTES);

  /** @param body the stream to read */
  constructor(body: ReadableStream<Uint8Array>) {
    let byob: ReadableStreamBYOBReader | null = null;
    try {
      byob = body.getReader({ mode: "byob" });
    } catch { /* not a byte stream (e.g. a small body already received) */ }
    this.#byob = byob;
    this.#plain = byob ? null : body.getReader();
  }

  /**
   * @returns the next chunk (valid until the next call), or undefined at the end
   */
  async read(): Promise<Uint8Array | undefined> {
    if (!this.#byob) {
      const step = await this.#plain!.read();
      return step.done ? undefined : step.value;
    }
    const step = await this.#byob.read(this.#buffer);
    if (step.done || !step.value) return undefined;
    this.#buffer = new Uint8Array(step.value.buffer);
    return step.value;
  }

  /** Stops reading; the rest of the body is discarded. */
  cancel(): void {
    (this.#byob ?? this.#plain)!.cancel().catch(() => {});
  }
}

/** The request bodies Python is reading as streams, by id. */
export class BodySources {
  readonly #open = new Map<number, Source>();
  #next = 1;

  /**
   * Makes a request body readable from Python.
   *
   * @param body the request's body stream
   * @param cap `max_body_bytes` of the listener
   * @returns the id Python reads it by
   */
  open(body: ReadableStream<Uint8Array>, cap: number): number {
    const id = this.#next++;
    this.#open.set(id, { reader: new ChunkReader(body), cap, received: 0 });
    return id;
  }

  /**
   * The next chunk of a body.
   *
   * @param id from {@link open}
   * @returns the chunk, or undefined at the end (Python sees None; null would be JsNull)
   * @throws {Error} `PayloadTooLarge: …` past the cap; a message when the body is gone or failed
   */
  async read(id: number): Promise<Uint8Array | undefined> {
    const source = this.#open.get(id);
    if (!source) {
      throw new Error("the request body can no longer be read: the response was already sent");
    }
    let chunk;
    try {
      chunk = await source.reader.read();
    } catch (e) {
      throw new Error(`the request body stream failed: ${(e as Error).message}`);
    }
    if (chunk === undefined) return undefined;
    source.received += chunk.byteLength;
    noteStreamed(chunk.byteLength);
    if (source.received > source.cap) {
      this.close(id);
      throw new Error(
        `${TOO_LARGE_PREFIX} the request body is larger than max_body_bytes (${source.cap} bytes)`,
      );
    }
    return chunk;
  }

  /**
   * Forgets a body (the response is complete); what was not read is discarded.
   *
   * @param id from {@link open}, or 0 for none
   */
  close(id: number): void {
    const source = this.#open.get(id);
    if (!source) return;
    this.#open.delete(id);
    source.reader.cancel();
  }
}

/** What a streamed response needs besides the Python iterator. */
export interface StreamOptions {
  clock: DeadlineClock;
  /** Pyodide's interrupt flag, reset before each chunk. */
  interrupt: Int32Array;
  /** Each chunk must come within this long (the listener's `request_timeout_ms`). */
  chunkTimeoutMs: number;
  /** Called once when the stream ends, fails or is cancelled. */
  onEnd: (error?: string) => void;
}

/**
 * A ReadableStream over Python's `_stream.ResponseBody`.
 *
 * @param streamer the Python object (`next()` → a Future of a Uint8Array or None; `close()`);
 *   destroyed when the stream ends
 * @param options deadline and end callback
 * @returns the body for a Response
 */
export function pythonStream(
  streamer: PyProxy,
  options: StreamOptions,
): ReadableStream<Uint8Array> {
  let ended = false;
  const end = (error?: string) => {
    if (ended) return;
    ended = true;
    try {
      streamer.close();
    } finally {
      streamer.destroy();
      options.onEnd(error);
    }
  };
  return new ReadableStream<Uint8Array>({
    pull: async (controller) => {
      options.interrupt[0] = 0;
      const deadline = Date.now() + options.chunkTimeoutMs;
      const token = options.clock.begin(deadline, () => {
        controller.error(new Error("the response stream produced no chunk within its deadline"));
        end(`no chunk within ${options.chunkTimeoutMs} ms`);
      });
      try {
        const chunk = await (streamer.next() as Promise<Uint8Array | null | undefined>);
        if (ended) return;
        if (chunk == null) {
          controller.close();
          end();
        } else {
          controller.enqueue(chunk);
          noteStreamed(chunk.byteLength);
        }
      } catch (e) {
        if (ended) return;
        controller.error(e);
        end((e as Error).message);
      } finally {
        options.clock.end(token);
      }
    },
    cancel: () => end(),
  }, { highWaterMark: 0 });
}
