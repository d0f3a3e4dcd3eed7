/**
 * The JS half of the request bridge (the Python half is workers/python/siphon/_bridge.py; the
 * format both follow is ./contract.ts's). One string and the body go into a Python-owned
 * bytearray; a packed head string (and the body in a second bytearray) come back. No
 * per-request proxies on the sync path.
 *
 * Boundary: worker-side, after routing and limits; before this the request is Deno's, after it
 * the Response is Deno's.
 *
 * @module
 */
import type { PyBuffer, PyCallable, PyProxy } from "pyodide/ffi";
import { answer } from "../../src/http/errors.ts";
import type { Limit } from "../../src/metrics_snapshot.ts";
import type { DeadlineClock } from "../base/deadlines.ts";
import {
  type BridgeEntries,
  ITEM,
  MARKER_LIMITS,
  MARKERS,
  type PackedParts,
  packRequest,
} from "./contract.ts";
import { type BodySources, pythonStream } from "./streams.ts";

/** The parts of a request Python sees, already routed and decoded. */
export interface BridgeRequest extends PackedParts {
  route: number;
  /** The listener's `request_timeout_ms`: each chunk of a streamed response must come in it. */
  timeoutMs: number;
  /** On `stream=True` routes: the body, unread, and the listener's cap; else null. */
  bodyStream: { stream: ReadableStream<Uint8Array>; cap: number } | null;
  body: Uint8Array | null;
}

/** A handler that suspended: its result arrives later and it can be cancelled. */
export interface Pending {
  result: Promise<Response>;
  cancel(): void;
}

/**
 * The interpreter itself failed (os._exit, a wasm trap, out of memory): Python exceptions never
 * get here, `dispatch` turns them into 500s. The worker cannot be trusted after this.
 */
export class BridgeFatal extends Error {
  /** @param cause what Pyodide reported */
  constructor(cause: string) {
    super(`the Python runtime failed: ${cause}`);
    this.name = "BridgeFatal";
  }
}

/** What a {@link Bridge} needs besides Python's `siphon._bridge`. */
export interface BridgeOptions {
  /** The request bodies Python reads as streams (the `readBody` service reads them too). */
  sources: BodySources;
  /** The worker's deadline clock (streamed response chunks have deadlines too). */
  clock: DeadlineClock;
  /** Pyodide's interrupt flag. */
  interrupt: Int32Array;
  /** A bound refused a response (counted in /metrics). @default nothing */
  onLimit?: (limit: Limit) => void;
}

/** Per call: what the response side needs to know. */
interface CallState {
  timeoutMs: number;
  /** The request body Python may be streaming (0: none); closed once the response is done. */
  source: number;
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);
/** Bytes RFC 9110 forbids in a header besides NUL (the head's separator): C0 but HTAB, and DEL. */
// deno-lint-ignore no-control-regex -- these are the bytes being refused
const UNSENDABLE = /[\x01-\x08\x0A-\x1F\x7F]/;

/** One worker's bridge to its interpreter. */
export class Bridge {
  readonly #module: BridgeEntries;
  readonly #dispatch: PyCallable;
  readonly #encoder = new TextEncoder();
  readonly #options: BridgeOptions;
  readonly #sources: BodySources;
  #inProxy: PyProxy | null = null;
  #inBuffer: PyBuffer | null = null;
  #in!: Uint8Array;
  #outProxy: PyProxy;
  #outBuffer!: PyBuffer;
  #out!: Uint8Array;

  /**
   * @param module Python's `siphon._bridge` (./contract.ts `attach`)
   * @param options body sources, deadline clock, interrupt flag
   */
  constructor(module: BridgeEntries, options: BridgeOptions) {
    this.#options = options;
    this.#sources = options.sources;
    this.#module = module;
    this.#dispatch = module.dispatch;
    this.#outProxy = module.outbuf;
    this.#acquireIn();
    this.#acquireOut();
  }

  /**
   * Runs the request through Python's middleware and handler.
   *
   * @param req the routed request
   * @returns the Response, or a {@link Pending} when an async step suspended
   */
  call(req: BridgeRequest): Response | Pending {
    const meta = packRequest(req);
    const source = req.bodyStream
      ? this.#sources.open(req.bodyStream.stream, req.bodyStream.cap)
      : 0;
    const state: CallState = { timeoutMs: req.timeoutMs, source };
    return this.#dispatchPacked(source ? meta + source : meta, req, state);
  }

  /**
   * Starts a websocket route's handler on the upgrade request (Python's `open_socket`):
   * guards, then the handler, until it accepts or refuses.
   *
   * @param req the routed upgrade request
   * @param socketId the worker's id for the socket
   * @returns the refusal as a Response, or the subprotocol the handler accepted with ("": none)
   */
  async openSocket(req: BridgeRequest, socketId: number): Promise<Response | string> {
    const metaLength = this.#write(packRequest(req), null);
    let handshake: PyProxy;
    try {
      handshake = this.#module.open_socket(req.route, metaLength, socketId);
    } catch (e) {
      throw new BridgeFatal((e as Error).message ?? String(e));
    }
    let done: string | PyProxy;
    try {
      done = await (handshake as unknown as Promise<string | PyProxy>);
    } catch (e) {
      throw new BridgeFatal((e as Error).message ?? String(e));
    }
    if (typeof done !== "string") {
      try {
        return this.#fromTuple(done, { timeoutMs: req.timeoutMs, source: 0 });
      } finally {
        done.destroy();
      }
    }
    return done.charCodeAt(0) === 33 ? this.#fromMarker(done) : done.slice(1);
  }

  /** The upgrade missed its deadline: cancel the socket's handler. */
  abortSocket(socketId: number): void {
    this.#module.abort_socket(socketId);
  }

  /** Writes the packed request and its body into Python's input buffer; returns meta bytes. */
  #write(meta: string, body: Uint8Array | null): number {
    const bodyLength = body ? body.byteLength : 0;
    if (this.#in.byteLength === 0) this.#acquireIn();
    let written = this.#encoder.encodeInto(meta, this.#in);
    if (written.read < meta.length || written.written + bodyLength > this.#in.byteLength) {
      this.#growIn(meta.length * 3 + bodyLength);
      written = this.#encoder.encodeInto(meta, this.#in);
    }
    if (body) this.#in.set(body, written.written);
    return written.written;
  }

  #dispatchPacked(meta: string, req: BridgeRequest, state: CallState): Response | Pending {
    const bodyLength = req.body ? req.body.byteLength : 0;
    const metaLength = this.#write(meta, req.body);
    let out: unknown;
    try {
      out = this.#dispatch(req.route, metaLength, bodyLength);
    } catch (e) {
      this.#sources.close(state.source);
      throw new BridgeFatal((e as Error).message ?? String(e));
    }
    if (typeof out === "string") {
      this.#sources.close(state.source);
      return this.#fromHead(out);
    }
    return this.#fromProxy(out as PyProxy, state);
  }

  /** Sync result: head string, body (if any) in the output buffer. */
  #fromHead(head: string): Response {
    if (head.charCodeAt(0) === 33) return this.#fromMarker(head);
    if (this.#out.byteLength === 0) this.#acquireOut();
    return this.#build(head, (length) => this.#out.slice(0, length));
  }

  /** `"!413"`, `"!500"`, `"!504"`…: Python answered with an error status only. */
  #fromMarker(marker: string): Response {
    const limit = MARKER_LIMITS[marker];
    if (limit) this.#options.onLimit?.(limit);
    return answer(MARKERS[marker] ?? "internal");
  }

  #fromProxy(out: PyProxy, state: CallState): Response | Pending {
    if (out.type === "tuple") {
      try {
        return this.#fromTuple(out, state);
      } finally {
        out.destroy();
      }
    }
    // Awaiting a PyProxy destroys it (Pyodide's _ensure_future), so take `cancel` first.
    const borrowed: PyCallable = out.cancel;
    const cancel = borrowed.copy() as PyCallable;
    let settled = false;
    const result = (async () => {
      try {
        let done: string | PyProxy;
        try {
          done = await (out as unknown as Promise<string | PyProxy>);
        } catch (e) {
          this.#sources.close(state.source);
          throw new BridgeFatal((e as Error).message ?? String(e));
        }
        if (typeof done === "string") {
          this.#sources.close(state.source);
          return this.#fromMarker(done);
        }
        try {
          return this.#fromTuple(done, state);
        } finally {
          done.destroy();
        }
      } finally {
        settled = true;
        cancel.destroy();
      }
    })();
    return {
      result,
      cancel: () => {
        if (!settled) cancel();
      },
    };
  }

  /**
   * `(head, bytes)` from Python: a large body, or any body of a suspended handler; or
   * `(head, None, streamer)`: a body Python produces as it is sent.
   */
  #fromTuple(tuple: PyProxy, state: CallState): Response {
    const head: string = tuple.get(0);
    const bytes: PyProxy | undefined = tuple.get(1);
    if (bytes === undefined) return this.#streamed(head, tuple.get(2), state);
    this.#sources.close(state.source);
    try {
      return this.#build(head, () => {
        const view = bytes.getBuffer("u8");
        try {
          return (view.data as Uint8Array).slice() as Uint8Array<ArrayBuffer>;
        } finally {
          view.release();
        }
      });
    } finally {
      bytes.destroy();
    }
  }

  #streamed(head: string, streamer: PyProxy, state: CallState): Response {
    const body = pythonStream(streamer, {
      clock: this.#options.clock,
      interrupt: this.#options.interrupt,
      chunkTimeoutMs: state.timeoutMs,
      onEnd: () => this.#sources.close(state.source),
    });
    return this.#build(head, () => body);
  }

  #build(
    head: string,
    body: (length: number) => Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>,
  ): Response {
    const parts = head.split(ITEM);
    const status = Number(parts[0]);
    const length = Number(parts[1]);
    // Python refuses these already and names the header (_bridge._head); this is the wall for
    // whatever else reaches here: Deno 2.9.6 sends a NUL as a line break, and panics on some
    // values (docs/internals.md "Response headers").
    if (UNSENDABLE.test(head) || parts.length % 2 !== 0) {
      this.#options.onLimit?.("response_headers");
      throw new TypeError(`Cannot send the handler's response: ${unsendable(parts)}`);
    }
    let res: Response;
    try {
      res = new Response(NULL_BODY.has(status) || length === 0 ? null : body(length), { status });
      for (let i = 2; i < parts.length; i += 2) res.headers.append(parts[i], parts[i + 1]);
    } catch (e) {
      throw new TypeError(`Cannot build the handler's response: ${(e as Error).message}`);
    }
    return res;
  }

  /** (Re)takes a view of Python's input buffer; views go empty when wasm memory grows. */
  #acquireIn(): void {
    this.#releaseIn();
    const proxy = this.#module.inbuf;
    const buffer = proxy.getBuffer("u8");
    this.#inProxy = proxy;
    this.#inBuffer = buffer;
    this.#in = buffer.data as Uint8Array;
  }

  #releaseIn(): void {
    this.#inBuffer?.release();
    this.#inProxy?.destroy();
    this.#inBuffer = this.#inProxy = null;
  }

  /** A bytearray with an exported buffer cannot be replaced, so release the view first. */
  #growIn(size: number): void {
    this.#releaseIn();
    this.#module.grow_in(size);
    this.#acquireIn();
  }

  #acquireOut(): void {
    this.#outBuffer?.release();
    this.#outBuffer = this.#outProxy.getBuffer("u8");
    this.#out = this.#outBuffer.data as Uint8Array;
  }
}

/** Which header of a packed head (`status, length, name, value…`) cannot be sent, and why. */
function unsendable(parts: string[]): string {
  if (parts.length % 2 !== 0) return `header ${JSON.stringify(parts.at(-1))} has no value`;
  for (let i = 2; i < parts.length; i += 2) {
    for (const [what, text] of [["name", parts[i]], ["value", parts[i + 1]]]) {
      const at = text.search(UNSENDABLE);
      if (at !== -1) {
        return `header ${JSON.stringify(parts[i].slice(0, 64))}: its ${what} holds the control ` +
          `byte 0x${text.charCodeAt(at).toString(16).padStart(2, "0")} at offset ${at}, which ` +
          "HTTP forbids (RFC 9110 section 5.5)";
      }
    }
  }
  return "a header holds a byte HTTP forbids";
}
