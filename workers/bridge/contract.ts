/**
 * The contract between JS and Python inside a worker — everything that crosses between them, in
 * one place. Python's half is workers/python/siphon/_contract.py, which spells the same names and
 * values; workers/bridge/contract_test.ts checks that the two agree. (The other boundary, between
 * the main thread and a worker, is src/protocol.ts.)
 *
 * - **The request.** JS writes one UTF-8 string into Python's input buffer (`inbuf` of
 *   `siphon._bridge`): the {@link REQUEST_SECTIONS} in that order, each ended by
 *   {@link SECTION}; a list (query pairs, header pairs, path-parameter values) joins its items
 *   with {@link ITEM}, or — when a value could hold a separator — is {@link JSON_SECTION} and a
 *   JSON array. The body's bytes follow. {@link packRequest} writes it; `_bridge.read_request`
 *   reads it. An empty `client` was left out (working it out costs Deno more than most handlers
 *   save by it): Python asks for it with `requestPart(seq, "client")` if the handler reads it.
 *   A request for the ASGI app's route carries its client always, and in its `params` section
 *   (the app's route has no path parameters) the {@link APP_PARTS} an ASGI scope needs.
 * - **The answer.** `dispatch` returns a head `status\0length\0name\0value…` (the body in
 *   `outbuf`), a `(head, bytes)` or `(head, None, streamer)` tuple, an asyncio Task resolving to
 *   one of those, or one of the {@link MARKERS}: an error status and nothing else.
 * - **What JS calls in Python**: {@link BridgeEntries} and {@link RuntimeEntries}.
 * - **What Python calls in JS**: the {@link PythonServices}, handed over by {@link attach} —
 *   once per interpreter, and nowhere else.
 *
 * @module
 */
import type { PyodideAPI } from "pyodide";
import type { PyCallable, PyProxy } from "pyodide/ffi";
import type { Answer } from "../../src/http/errors.ts";
import type { Limit } from "../../src/metrics_snapshot.ts";

/** Ends each section of the packed request. */
export const SECTION = "\x01";
/** Separates the items of a list section (and the fields of a response head). */
export const ITEM = "\0";
/** Starts a list section written as JSON (a value holds `\0` or `\x01`). */
export const JSON_SECTION = "\x02";
/** The sections of the packed request, in order. */
export const REQUEST_SECTIONS = [
  "method",
  "path",
  "client",
  "query",
  "headers",
  "params",
  "cert",
  "request_id",
  "seq",
  "stream",
] as const;

/**
 * What the `params` section holds for the ASGI app's route (`siphon._asgi.scope_base`): the raw
 * path and query as they arrived, `http`/`https`, the listener's host and port, and the HTTP
 * version (`"2"` for a request without a Host header — HTTP/2 carries `:authority` instead —
 * else `"1.1"`: Deno does not say which HTTP/1 it was).
 */
export const APP_PARTS = ["raw_path", "query", "scheme", "host", "port", "http_version"] as const;

/** The parts of a request Python sees, as {@link packRequest} writes them. */
export interface PackedParts {
  method: string;
  /** Raw path, as it arrived. */
  path: string;
  client: string;
  /** Decoded query pairs, flat: `[k, v, k, v…]`. */
  query: string[];
  /** Header pairs, flat, lower-case names. */
  headers: string[];
  /** Decoded path-parameter values in template order. */
  params: string[];
  /** The verified client certificate as JSON (mutual TLS listeners), else `""`. */
  clientCert: string;
  requestId: string;
  /** The bridge's number for the request (what `requestPart` names it by). */
  seq: number;
  /** True when a decoded value may contain `\0` or `\x01` (the raw text had `%00`/`%01`). */
  mayHaveControl: boolean;
}

// deno-lint-ignore no-control-regex -- the packing separators are control characters by design
const SEPARATOR = /[\0\x01]/;

/**
 * The request's sections but the last, each ended by {@link SECTION}; the caller appends the
 * `stream` section (a body source id, or nothing).
 *
 * @param req the routed request
 * @returns the packed text
 */
export function packRequest(req: PackedParts): string {
  return req.method + SECTION + req.path + SECTION + req.client + SECTION +
    listSection(req.query, req.mayHaveControl) + SECTION + req.headers.join(ITEM) + SECTION +
    listSection(req.params, req.mayHaveControl) + SECTION + req.clientCert + SECTION +
    req.requestId + SECTION + req.seq + SECTION;
}

function listSection(values: string[], mayHaveControl: boolean): string {
  const joined = values.join(ITEM);
  if (!mayHaveControl || !values.some((v) => SEPARATOR.test(v))) return joined;
  return JSON_SECTION + JSON.stringify(values);
}

/**
 * What Python returns instead of a response when it answers with an error status only: a
 * streamed body over the cap nobody caught (413), a handler that failed (500), one whose response
 * header held a forbidden byte (500, counted apart), one interrupted at its deadline (504).
 */
export const MARKERS: Readonly<Record<string, Answer>> = {
  "!413": "tooLarge",
  "!500": "internal",
  "!500h": "internal",
  "!504": "timeout",
};

/** The marker of a handler stopped at its deadline (interrupted or cancelled): 504. */
export const STOPPED = "!504";

/** The markers that mean a bound refused the response (counted in `/metrics`). */
export const MARKER_LIMITS: Readonly<Record<string, Limit>> = {
  "!413": "max_body_bytes",
  "!500h": "response_headers",
};

/** The prefix of a request-body read error that Python raises as `http.PayloadTooLarge`. */
export const TOO_LARGE_PREFIX = "PayloadTooLarge:";

/** A message, or `undefined` once closed (Python sees `None`; `null` would not be). */
export type Taken<T> = T | undefined;
/** Python's hand-over for a reader that waits (`siphon._waiters.Waiters.deliver`). */
export type Deliver<T> = (id: number, item: Taken<T>) => boolean;

/** What `siphon._websocket` calls: the worker's WebSockets. */
export interface SocketsForPython {
  /** Resolves true once the socket is open, false when it never will be. */
  opened(id: number): Promise<boolean>;
  /** A message, `undefined` once closed, or `false`: nothing yet, `deliver(id, item)` will
   * hand over the next one. */
  take(id: number, deliver: Deliver<string | ArrayBuffer>): Taken<string | ArrayBuffer> | false;
  /** `undefined`: sent; `false`: the socket is closed; a promise: sent, wait for the buffer. */
  write(id: number, data: string | Uint8Array): undefined | false | Promise<void>;
  end(id: number, code: number, reason: string): void;
  /** `"code\0reason"` of a closed socket. */
  closedWith(id: number): string;
  /** The handler returned: forget the socket. */
  release(id: number): void;
}

/** A published message: text or bytes. */
export type Message = string | Uint8Array;

/** What `siphon.pubsub` calls. */
export interface PubSubForPython {
  /** `undefined` once handed on (memory), or a promise of Redis's acknowledgement. */
  publish(topic: string, message: Message): undefined | Promise<void>;
  subscribe(topic: string): number;
  /** Resolves once the backend delivers the topic's messages to this worker. */
  ready(id: number): Promise<void>;
  /** A message, `undefined` once unsubscribed, or `false` (as {@link SocketsForPython.take}). */
  take(id: number, deliver: Deliver<Message>): Taken<Message> | false;
  unsubscribe(id: number): void;
}

/** An outbound response, whole: headers as JSON pairs. */
export interface OutboundResponse {
  status: number;
  headers: string;
  body: Uint8Array;
}

/** An outbound response whose body Python reads as it arrives (`readStream`). */
export interface OutboundStream {
  status: number;
  headers: string;
  id: number;
}

/** What `siphon_sdk`'s harness calls in the test thread (workers/test_worker.ts). */
export interface HarnessForPython {
  /** `load_script`: JSON `{script, config, inline, env}`; answers JSON `{routes, config}`. */
  load(call: string): Promise<string>;
  /** One request: JSON `{method, target, headers, client}` and the body. */
  request(call: string, body: Uint8Array | null): Promise<HarnessAnswer>;
  /** An upgrade: JSON `{target, headers, client}`; the client end, or the refusal. */
  websocket(call: string): Promise<unknown>;
  write(text: string): void;
  /** harness.cache.set_data / clear: a memory cache filled, emptied, or dropped (null). */
  cacheData(name: string, entries?: string | null): void;
}

/** A harness request's answer: status, headers (JSON pairs), body. */
export interface HarnessAnswer {
  status: number;
  headers: string;
  body: Uint8Array;
}

/** The functions Python calls into; Python reads them from `siphon._contract.host`. */
export interface PythonServices {
  /** A `log.*` line: level, text, request id ("" outside a request). */
  log(level: string, text: string, requestId: string): void;
  /** `time.sleep`'s wait: returns early when the interrupt flag is set. */
  wait(ms: number): unknown;
  /** Whether the watchdog asked the interpreter to exit at the next interrupt. */
  killed(): boolean;
  /** asyncio's scheduler (a MessageChannel one: no clamped zero-delay timers). */
  schedule?: (callback: () => void, delayMs?: number) => void;
  /** asyncio's steps may call `run_sync` (the script test runner); serving leaves it off, so
   * the watchdog's interrupt reaches a step that blocks. */
  stackSwitching?: boolean;
  /** `http.Client`: one request, JSON `{client, method, url, headers, timeout_ms}`, whole. */
  fetch(request: string, body: Uint8Array | null): Promise<OutboundResponse>;
  /** The same, answering at the response head. */
  fetchStream?: (request: string, body: Uint8Array | null) => Promise<OutboundStream>;
  /** The next chunk of a streamed outbound body; `undefined` at its end. */
  readStream?: (id: number) => Promise<Uint8Array | undefined>;
  closeStream?: (id: number) => void;
  /** A part of a request left out of its packing (`"client"`), by the request's `seq`; fails
   * once the request was answered. */
  requestPart?: (seq: string, part: string) => string;
  /** The route of the app that answered the request with this `seq` (an ASGI app's matched
   * route template), for metrics and the access log. */
  routeLabel?: (seq: string, label: string) => void;
  /** The next chunk of a `stream=True` request's body (`req.stream()`); `undefined` at its end.
   * A read past the cap fails with {@link TOO_LARGE_PREFIX}. */
  readBody?: (id: number) => Promise<Uint8Array | undefined>;
  /** A `siphon.cache` call on a memory cache (answered synchronously). */
  cache?: (name: string, callJson: string) => string;
  /** A `siphon.cache` call on a redis cache. */
  cacheAsync?: (name: string, callJson: string) => Promise<string>;
  sockets?: SocketsForPython;
  pubsub?: PubSubForPython;
  /** Only in the test thread: `siphon_sdk`'s harness. */
  harness?: HarnessForPython;
}

/** Every service's name, in the order Python's `SERVICES` lists them. */
export const SERVICE_NAMES = [
  "log",
  "wait",
  "killed",
  "schedule",
  "stackSwitching",
  "fetch",
  "fetchStream",
  "readStream",
  "closeStream",
  "requestPart",
  "routeLabel",
  "readBody",
  "cache",
  "cacheAsync",
  "sockets",
  "pubsub",
  "harness",
] as const satisfies readonly (keyof PythonServices)[];
// A service added to the interface but not to the list fails to compile here.
const _everyService: Exclude<keyof PythonServices, typeof SERVICE_NAMES[number]> extends never
  ? true
  : never = true;
void _everyService;

/** `siphon._bridge` as JS calls it. */
export interface BridgeEntries {
  /** Runs a route's chain on the request in `inbuf`; see the module text for what it returns. */
  dispatch: PyCallable;
  /** Starts a websocket route's handler: a Future of `"\0subprotocol"`, a refusal or a marker. */
  open_socket: PyCallable;
  /** The upgrade missed its deadline: cancel the handler. */
  abort_socket: PyCallable;
  /** Replaces `inbuf` with one of at least the given size. */
  grow_in: PyCallable;
  /** The client of the request with this `seq` went away (an ASGI app's `http.disconnect`). */
  disconnect: PyCallable;
  inbuf: PyProxy;
  outbuf: PyProxy;
}

/** `siphon._runtime` as JS calls it (a generation's life, from script to shutdown). */
export interface RuntimeEntries {
  configure: PyCallable;
  forget_script: PyCallable;
  load_script: PyCallable;
  /** Imports `app:` and checks it is an ASGI 3 application (`siphon._asgi.load`). */
  load_app: PyCallable;
  unresolved_imports: PyCallable;
  install: PyCallable;
  startup: PyCallable;
  shutdown: PyCallable;
  /** A reload replaced the generation: its app's lifespan shuts down once nothing runs. */
  retire: PyCallable;
  memory_stats: PyCallable;
}

/** Names of {@link BridgeEntries} and {@link RuntimeEntries}, as Python's `ENTRIES` has them. */
export const ENTRY_NAMES = {
  "siphon._bridge": [
    "dispatch",
    "open_socket",
    "abort_socket",
    "grow_in",
    "disconnect",
    "inbuf",
    "outbuf",
  ],
  "siphon._runtime": [
    "configure",
    "forget_script",
    "load_script",
    "load_app",
    "unresolved_imports",
    "install",
    "startup",
    "shutdown",
    "retire",
    "memory_stats",
  ],
} as const satisfies {
  "siphon._bridge": readonly (keyof BridgeEntries)[];
  "siphon._runtime": readonly (keyof RuntimeEntries)[];
};

/** Python's side of an attached interpreter, as JS calls it. */
export interface Attached {
  bridge: BridgeEntries & PyProxy;
  runtime: RuntimeEntries & PyProxy;
}

/**
 * Connects an interpreter to its thread: Python's `siphon._contract.attach` takes the services
 * (the only place they are set), then `siphon._runtime.start` sets `os.environ`, the
 * interruptible sleep and asyncio's scheduler from them. Once per interpreter.
 *
 * @param py the interpreter, with the siphon package written
 * @param services what Python may call
 * @param env Python's `os.environ`
 * @returns the Python modules JS calls
 */
export function attach(
  py: PyodideAPI,
  services: PythonServices,
  env: Record<string, string>,
): Attached {
  py.pyimport("siphon._contract").attach(services);
  const runtime = py.pyimport("siphon._runtime") as Attached["runtime"];
  runtime.start(JSON.stringify(env));
  return { bridge: py.pyimport("siphon._bridge") as Attached["bridge"], runtime };
}
