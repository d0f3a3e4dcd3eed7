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
import { RouteLabels } from "./labels.ts";
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
  STOPPED,
} from "./contract.ts";
import { type Accepted, acceptedOf, responseOf } from "./response.ts";
import { type BodySources, pythonStream } from "./streams.ts";

/** The parts of a request Python sees, already routed and decoded. */
export interface BridgeRequest extends PackedParts {
  route: number;
  /** The listener's `request_timeout_ms`: each chunk of a streamed response must come in it. */
  timeoutMs: number;
  /** On `stream=True` routes: the body, unread, and the listener's cap; else null. */
  bodyStream: { stream: ReadableStream<Uint8Array>; cap: number } | null;
  body: Uint8Array | null;
  /** Works out a part left out of the packing (`"client"`) when Python asks for it. */
  lazy: (part: string) => string;
  /** The route label Python gave for it (an ASGI app's matched route), if any. */
  label?: string;
  /** Set when Python answered it 504 because the handler was stopped at its deadline. */
  stopped?: boolean;
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
  /** The request (its `seq`, its `timeoutMs` for streamed chunks, where `stopped` is marked). */
  req: BridgeRequest;
  /** The request body Python may be streaming (0: none); closed once the response is done. */
  source: number;
}

/** One worker's bridge to its interpreter. */
export class Bridge {
  readonly #module: BridgeEntries;
  readonly #dispatch: PyCallable;
  readonly #encoder = new TextEncoder();
  readonly #options: BridgeOptions;
  readonly #onLimit: (limit: Limit) => void;
  readonly #sources: BodySources;
  /** The request Python runs now, synchronously, and those it answers later, by `seq`. */
  #current: BridgeRequest | null = null;
  readonly #held = new Map<number, BridgeRequest>();
  readonly #labels = new RouteLabels();
  #seq = 0;
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
    this.#onLimit = options.onLimit ?? (() => {});
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
    req.seq = ++this.#seq;
    const meta = packRequest(req);
    const source = req.bodyStream
      ? this.#sources.open(req.bodyStream.stream, req.bodyStream.cap)
      : 0;
    const state: CallState = { req, source };
    return this.#dispatchPacked(source ? meta + source : meta, req, state);
  }

  /**
   * A part of a request left out of its packing, for Python (the `requestPart` service).
   *
   * @param seq the request's number, as Python has it
   * @param part `"client"`
   * @returns the part
   * @throws {Error} once the request was answered, or for a part never left out
   */
  part(seq: string, part: string): string {
    if (part !== "client") throw new Error(`req.${part}: not a part the bridge leaves out`);
    const n = Number(seq);
    const req = this.#current?.seq === n ? this.#current : this.#held.get(n);
    if (!req) {
      throw new Error(
        `req.${part}: the request was already answered; read it while handling the request`,
      );
    }
    return req.lazy(part);
  }

  /**
   * The route that answered a request, as Python names it (the `routeLabel` service): an ASGI
   * app's matched route template. Ignored once the request was answered, and when
   * {@link RouteLabels.admit} refuses it.
   *
   * @param seq the request's number, as Python has it
   * @param label the route template
   */
  label(seq: string, label: string): void {
    const n = Number(seq);
    const req = this.#current?.seq === n ? this.#current : this.#held.get(n);
    if (!req) return;
    const text = this.#labels.admit(label);
    if (text !== null) req.label = text;
  }

  /**
   * Starts a websocket route's handler on the upgrade request (Python's `open_socket`):
   * guards, then the handler, until it accepts or refuses.
   *
   * @param req the routed upgrade request
   * @param socketId the worker's id for the socket
   * @returns the refusal as a Response, or the accepted handshake (subprotocol, headers)
   * @throws {TypeError} when the accept's headers cannot be sent
   */
  async openSocket(req: BridgeRequest, socketId: number): Promise<Response | Accepted> {
    req.seq = ++this.#seq;
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
        return this.#fromTuple(done, { req, source: 0 });
      } finally {
        done.destroy();
      }
    }
    // "\0subprotocol\0name\0value…": accepted; anything else is the refusal as an answer
    return done.charCodeAt(0) === 0
      ? acceptedOf(done.slice(1), this.#onLimit)
      : this.#fromHead(done, req);
  }

  /**
   * The client of a request went away while Python may still be at work on it (an ASGI app's
   * `receive` then says `http.disconnect`). Nothing to do once the request is answered.
   *
   * @param seq the request's number
   */
  disconnect(seq: number): void {
    try {
      this.#module.disconnect(seq);
    } catch (e) {
      throw new BridgeFatal((e as Error).message ?? String(e));
    }
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
    this.#current = req;
    try {
      out = this.#dispatch(req.route, metaLength, bodyLength);
    } catch (e) {
      this.#done(state);
      throw new BridgeFatal((e as Error).message ?? String(e));
    } finally {
      this.#current = null;
    }
    if (typeof out === "string") {
      this.#done(state);
      return this.#fromHead(out, req);
    }
    this.#held.set(req.seq, req); // answered later, or streamed: Python may still ask
    return this.#fromProxy(out as PyProxy, state);
  }

  /**
   * An answer string: a marker, a head with the body inside it (`status\0t<n>…\0<body>`), or
   * a sync result's head with the body in the output buffer.
   */
  #fromHead(reply: string, req: BridgeRequest): Response {
    if (reply.charCodeAt(0) === 33) return this.#fromMarker(reply, req);
    const at = reply.indexOf(ITEM) + 1;
    if (reply.charCodeAt(at) === 116) { // "t": the last n characters are the body
      const end = reply.indexOf(ITEM, at);
      const n = Number(reply.slice(at + 1, end));
      const text = reply.slice(reply.length - n);
      return responseOf(reply.slice(0, reply.length - n - 1), () => text, this.#onLimit);
    }
    if (this.#out.byteLength === 0) this.#acquireOut();
    return responseOf(reply, (length) => this.#out.slice(0, length), this.#onLimit);
  }

  /** `"!413"`, `"!500"`, `"!504"`…: Python answered with an error status only. */
  #fromMarker(marker: string, req: BridgeRequest): Response {
    const limit = MARKER_LIMITS[marker];
    if (limit) this.#onLimit(limit);
    if (marker === STOPPED) req.stopped = true; // the request path says so in the log
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
          this.#done(state);
          throw new BridgeFatal((e as Error).message ?? String(e));
        }
        if (typeof done === "string") {
          this.#done(state);
          return this.#fromHead(done, state.req);
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
    this.#done(state);
    try {
      return responseOf(head, () => {
        const view = bytes.getBuffer("u8");
        try {
          return (view.data as Uint8Array).slice() as Uint8Array<ArrayBuffer>;
        } finally {
          view.release();
        }
      }, this.#onLimit);
    } finally {
      bytes.destroy();
    }
  }

  /** The answer is complete: its body source closes, and Python can no longer ask about it. */
  #done(state: CallState): void {
    this.#sources.close(state.source);
    this.#held.delete(state.req.seq);
  }

  #streamed(head: string, streamer: PyProxy, state: CallState): Response {
    const body = pythonStream(streamer, {
      clock: this.#options.clock,
      interrupt: this.#options.interrupt,
      chunkTimeoutMs: state.req.timeoutMs,
      onEnd: () => this.#done(state),
    });
    return responseOf(head, () => body, this.#onLimit);
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
