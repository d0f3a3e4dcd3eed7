/**
 * A worker's WebSockets: the upgrade of a request routed to a websocket route, and every open
 * socket until it closes. Python's handler decides the handshake (./../bridge/bridge.ts
 * `openSocket`); once it accepts, Deno upgrades the connection, incoming messages queue in the
 * socket's {@link Inbox} for Python to take, and Python's sends go straight to the socket.
 *
 * Limits, per listener: `ws_max_message_bytes` (a larger message closes the socket with 1009),
 * `ws_idle_timeout_ms` (Deno pings a socket idle for half of it and closes it with 1001 when
 * nothing came back by the end), `ws_max_connections` per worker (an upgrade beyond it gets
 * 503), `ws_close_timeout_ms` (a peer that does not answer our close frame in time has its
 * connection dropped: ./ws_abort.ts). A send waits while the socket's outgoing buffer is over
 * {@link SEND_BUFFER_BYTES}. Unread messages are bounded per socket ({@link inboxCap}) and summed
 * over the worker's sockets on the listener (`ws_max_unread_bytes`): the socket whose message
 * goes over either is closed with 1008 (Deno cannot stop reading a socket, so the alternative
 * would be memory without bound).
 *
 * A socket counts (`ws_max_connections`, the open gauge) until its connection is really gone,
 * not when a close frame was sent; its access-log line is written then (./observe.ts).
 *
 * A socket lives on the generation that accepted it: a reload leaves it there until it closes.
 *
 * Boundary: worker-side; the request path hands upgrades here, Python calls {@link forPython}
 * (its calls are ../bridge/contract.ts's `SocketsForPython`).
 *
 * @module
 */
import { answer } from "../../src/http/errors.ts";
import { BridgeFatal, type BridgeRequest } from "../bridge/bridge.ts";
import type { SocketsForPython } from "../bridge/contract.ts";
import type { Accepted } from "../bridge/response.ts";
import type { Exchange, RequestContext, ServerConfig, Upgrade, WorkerSockets } from "./context.ts";
import { Inbox } from "../base/inbox.ts";
import type { Metrics } from "../base/metrics.ts";
import { socketGone } from "./observe.ts";
import { abortSocket } from "./ws_abort.ts";
import { drain, queuedSize, SEND_BUFFER_BYTES, textBytes, Unread } from "./ws_limits.ts";

/** A message, or `undefined` once the socket closed. */
type Taken = string | ArrayBuffer | undefined;

interface Entry {
  id: number;
  ctx: RequestContext;
  /** The upgrade request (its access line is written when the socket is gone). */
  exchange: Exchange;
  requestId: string;
  path: string;
  /** The listener (unread bytes are summed per listener). */
  listen: string;
  /** Its `ws_close_timeout_ms`. */
  closeTimeoutMs: number;
  socket: WebSocket | null;
  inbox: Inbox<string | ArrayBuffer>;
  /** Bytes queued in the inbox and not taken. */
  queued: number;
  opened: Promise<boolean>;
  settleOpened: (open: boolean) => void;
  /** Set once the socket closed for Python (our close frame went, or the peer's came). */
  code: number;
  reason: string;
  /** Counted in the open gauge (the open event fired). */
  counted: boolean;
  /** The connection is gone (or never came): it no longer counts. */
  gone: boolean;
  /** Drops the connection when the peer does not answer our close frame. */
  closeTimer: ReturnType<typeof setTimeout> | undefined;
}

/** One worker's WebSockets. */
export class Sockets implements WorkerSockets {
  readonly #entries = new Map<number, Entry>();
  readonly #metrics: Metrics;
  #nextId = 1;
  /** Upgrading, open or closing (what `ws_max_connections` limits). */
  #live = 0;
  /** Unread bytes, per socket and over every socket per listener. */
  readonly #unread = new Unread();
  #stopping: { code: number; reason: string } | null = null;
  #released: (() => void) | null = null;

  /** @param metrics the worker's counters (open sockets, messages in and out) */
  constructor(metrics: Metrics) {
    this.#metrics = metrics;
  }

  /**
   * Upgrades a request routed to a websocket route, if its handler accepts.
   *
   * @param x the upgrade request on its way (its request, generation, listener settings, bridge
   *   call and access-log timing)
   * @returns the handshake response (101), or the refusal
   */
  async upgrade(x: Exchange & { call: BridgeRequest }): Promise<Response> {
    const { req, ctx, call, server } = x;
    if (this.#stopping) return answer("stopping");
    if (this.#live >= server.ws_max_connections) {
      this.#metrics.hit("ws_max_connections");
      return answer("socketsFull", { "retry-after": "1" });
    }
    const entry = this.#entry(x);
    this.#live++;
    let handshake: Response | Accepted;
    try {
      handshake = await this.#handshake(call, entry, server.request_timeout_ms);
    } catch (e) {
      this.#ended(entry, 1006, "");
      ctx.log.error(`WebSocket ${call.path}: ${(e as Error).message}`, {
        request_id: call.requestId,
      });
      if (e instanceof BridgeFatal) ctx.onFatal(e.message);
      return answer("internal");
    }
    if (handshake instanceof Response) {
      this.#ended(entry, 1006, "");
      return handshake;
    }
    const stopping = this.#stopping as { code: number; reason: string } | null;
    if (stopping) {
      this.#ended(entry, stopping.code, stopping.reason);
      return answer("stopping");
    }
    let upgraded: ReturnType<Upgrade>;
    try {
      upgraded = ctx.upgrade(req, {
        protocol: handshake.protocol || undefined,
        idleTimeout: server.ws_idle_timeout_ms / 1000,
      });
      for (const [name, value] of handshake.headers) upgraded.response.headers.append(name, value);
    } catch (e) {
      this.#ended(entry, 1006, "");
      ctx.log.warning(`WebSocket ${call.path}: ${(e as Error).message}`, {
        request_id: call.requestId,
      });
      return answer("badUpgrade");
    }
    this.#wire(entry, upgraded.socket, server);
    return upgraded.response;
  }

  #entry(x: Exchange & { call: BridgeRequest }): Entry {
    const { call, server } = x;
    let settleOpened!: (open: boolean) => void;
    const opened = new Promise<boolean>((resolve) => settleOpened = resolve);
    const entry: Entry = {
      id: this.#nextId++,
      ctx: x.ctx,
      exchange: x,
      requestId: call.requestId,
      path: call.path,
      listen: server.listen.text,
      closeTimeoutMs: server.ws_close_timeout_ms,
      socket: null,
      inbox: new Inbox(),
      queued: 0,
      opened,
      settleOpened,
      code: 0,
      reason: "",
      counted: false,
      gone: false,
      closeTimer: undefined,
    };
    this.#entries.set(entry.id, entry);
    return entry;
  }

  /**
   * Python's handshake under the request deadline, on the worker's deadline clock as a
   * request's Python is (504 and the handler cancelled after it).
   */
  #handshake(call: BridgeRequest, entry: Entry, timeoutMs: number): Promise<Response | Accepted> {
    const { ctx } = entry;
    let token = 0;
    const timedOut = new Promise<Response>((resolve) => {
      token = ctx.clock.begin(Date.now() + timeoutMs, () => {
        ctx.log.warning(`WebSocket ${call.path}: not accepted within ${timeoutMs} ms`, {
          request_id: call.requestId,
        });
        ctx.bridge.abortSocket(entry.id);
        resolve(answer("timeout"));
      });
    });
    return Promise.race([ctx.bridge.openSocket(call, entry.id), timedOut])
      .finally(() => ctx.clock.end(token));
  }

  #wire(entry: Entry, socket: WebSocket, server: ServerConfig): void {
    const metrics = this.#metrics;
    entry.socket = socket;
    socket.binaryType = "arraybuffer";
    // A client gone before the 101 went out leaves a socket that never opens and never closes:
    // give up on it, so the handler's accept() ends (1006) instead of waiting forever.
    const never = setTimeout(() => {
      this.#ended(entry, 1006, "the connection closed before the handshake completed");
      abortSocket(socket);
      this.#gone(entry);
    }, server.request_timeout_ms);
    socket.onopen = () => {
      clearTimeout(never);
      if (entry.code !== 0) { // gave up on it already
        this.#close(entry, { code: 1001, reason: "the handshake took too long" });
        return;
      }
      entry.counted = true;
      metrics.wsOpen++;
      metrics.wsAccepted++;
      entry.settleOpened(true);
    };
    socket.onmessage = (e: MessageEvent<string | ArrayBuffer>) =>
      this.#received(entry, e.data, server);
    socket.onclose = (e: CloseEvent) => {
      clearTimeout(never);
      this.#ended(entry, e.code, e.reason);
      this.#gone(entry);
    };
    socket.onerror = () => {}; // a close event follows
  }

  /** A message came: queued for Python, or refused by a limit (the socket closes). */
  #received(entry: Entry, data: string | ArrayBuffer, server: ServerConfig): void {
    const metrics = this.#metrics;
    const maxBytes = server.ws_max_message_bytes;
    const size = typeof data === "string" ? textBytes(data, maxBytes) : data.byteLength;
    metrics.wsIn++;
    if (entry.code !== 0) return; // closing: nobody reads it any more
    if (size > maxBytes) {
      metrics.hit("ws_max_message_bytes");
      this.#refuse(entry, 1009, `message of ${size} bytes > ws_max_message_bytes ${maxBytes}`);
      return;
    }
    const over = this.#unread.add(entry, queuedSize(data), server);
    if (over) {
      metrics.hit("ws_max_unread_bytes");
      this.#refuse(entry, 1008, over);
      return;
    }
    entry.inbox.push(data);
  }

  /** Closes a socket for breaking a limit and tells the log why. */
  #refuse(entry: Entry, code: number, why: string): void {
    entry.ctx.log.warning(`WebSocket ${entry.path}: closed with ${code}: ${why}`, {
      request_id: entry.requestId,
    });
    this.#close(entry, { code, reason: why.slice(0, 120), logged: why });
  }

  /**
   * Sends the close frame (if the socket is still open) and ends the entry for Python; the
   * connection counts until the peer answers, or `closeTimeoutMs` passed and it was dropped.
   */
  #close(entry: Entry, frame: { code: number; reason: string; logged?: string }): void {
    const { code, reason, logged = reason } = frame;
    const socket = entry.socket;
    try {
      socket?.close(code, reason);
    } catch { /* closing already */ }
    this.#ended(entry, code, logged);
    if (!socket || entry.gone || entry.closeTimer !== undefined) return;
    entry.closeTimer = setTimeout(() => {
      if (entry.gone) return;
      const dropped = abortSocket(socket);
      this.#metrics.hit("ws_close_timeout_ms");
      entry.ctx.log.warning(
        `WebSocket ${entry.path}: the peer did not answer the close frame within ` +
          `ws_close_timeout_ms (${entry.closeTimeoutMs} ms); ` +
          (dropped ? "dropped its connection" : "this Deno cannot drop it; the OS will"),
        { request_id: entry.requestId },
      );
      if (dropped) this.#gone(entry);
    }, entry.closeTimeoutMs);
  }

  /** The socket is closed for Python: its reads end and its close code is known. */
  #ended(entry: Entry, code: number, reason: string): void {
    if (entry.code !== 0) return;
    entry.code = code || 1005;
    entry.reason = reason;
    entry.inbox.close();
    entry.settleOpened(false);
    if (!entry.socket) this.#gone(entry); // refused before any connection was upgraded
  }

  /** The connection is gone (or never came): the counts drop; the access line is written. */
  #gone(entry: Entry): void {
    if (entry.gone) return;
    entry.gone = true;
    clearTimeout(entry.closeTimer);
    this.#live--;
    if (entry.counted) this.#metrics.wsOpen--;
    this.#unread.drop(entry);
    if (entry.socket) socketGone(entry.exchange, entry.code);
  }

  /**
   * Closes every open socket (`1001` at shutdown, `1011` when the interpreter failed); upgrades
   * after this are refused.
   *
   * @param code close code
   * @param reason close reason
   * @param waitMs longest to wait for the close frames to go out
   * @returns once every socket closed, or `waitMs` passed
   */
  closeAll(code: number, reason: string, waitMs = 1000): Promise<void> {
    this.#stopping = { code, reason };
    const closing: Promise<unknown>[] = [];
    for (const entry of this.#entries.values()) {
      const socket = entry.socket;
      if (!socket || socket.readyState > WebSocket.OPEN) continue;
      closing.push(new Promise((resolve) => socket.addEventListener("close", resolve)));
      this.#close(entry, { code, reason });
    }
    if (closing.length === 0) return Promise.resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      Promise.all(closing),
      new Promise((resolve) => timer = setTimeout(resolve, waitMs)),
    ]).then(() => clearTimeout(timer));
  }

  /** Python took `item` from the socket's inbox: it no longer counts as unread. */
  #taken(entry: Entry, item: string | ArrayBuffer | null): Taken {
    if (item === null) return undefined;
    if (!entry.gone) this.#unread.take(entry, queuedSize(item)); // a gone one's were dropped
    return item;
  }

  /** @returns a promise that resolves once every socket's handler has returned */
  drained(): Promise<void> {
    if (this.#entries.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#released = resolve);
  }

  /** @returns the functions Python's `siphon._websocket` calls, bound to this table */
  forPython(): SocketsForPython {
    const entries = this.#entries;
    const metrics = this.#metrics;
    return {
      opened: (id) => entries.get(id)?.opened ?? Promise.resolve(false),
      take: (id, deliver) => {
        const entry = entries.get(id);
        if (!entry) return undefined;
        const got = entry.inbox.take((item) => {
          if (!deliver(id, item)) return false;
          this.#taken(entry, item ?? null);
          return true;
        });
        return got === false ? false : this.#taken(entry, got);
      },
      write: (id, data) => {
        const socket = entries.get(id)?.socket;
        if (!socket || socket.readyState !== WebSocket.OPEN) return false;
        socket.send(data);
        metrics.wsOut++;
        if (socket.bufferedAmount <= SEND_BUFFER_BYTES) return undefined;
        return drain(socket);
      },
      end: (id, code, reason) => {
        const entry = entries.get(id);
        if (entry?.socket) this.#close(entry, { code, reason });
      },
      closedWith: (id) => {
        const entry = entries.get(id);
        return entry ? `${entry.code || 1006}\0${entry.reason}` : "1006\0";
      },
      release: (id) => {
        entries.delete(id);
        if (entries.size === 0 && this.#released) {
          this.#released();
          this.#released = null;
        }
      },
    };
  }
}
