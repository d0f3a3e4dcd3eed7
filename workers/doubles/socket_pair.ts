/**
 * An in-memory WebSocket for the script test harness (`harness.websocket(...)`): the upgrade
 * goes through the same request path, guards and handler as serving, and instead of Deno's
 * socket the handler gets the server end of a pair whose other end the test drives.
 *
 * The server end has what ../serve/sockets.ts uses of a `WebSocket` (`on*` handlers, close
 * listeners, `readyState`, `bufferedAmount`, `send`, `close`). The client end's method names
 * avoid `send`/`next`/`close`: Python reaches it through a JsProxy, which answers those itself.
 *
 * Boundary: the test worker only; serving uses `Deno.upgradeWebSocket`.
 *
 * @module
 */
import type { Upgrade } from "../serve/context.ts";

type Data = string | ArrayBuffer;

/** The server end, as ../serve/sockets.ts sees a socket. */
class ServerEnd extends EventTarget {
  readyState: number = WebSocket.CONNECTING;
  binaryType = "arraybuffer";
  bufferedAmount = 0;
  onopen: ((e: Event) => void) | null = null;
  onmessage: ((e: MessageEvent<Data>) => void) | null = null;
  onclose: ((e: CloseEvent) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;
  #client: ClientEnd;

  constructor(client: ClientEnd) {
    super();
    this.#client = client;
  }

  send(data: string | Uint8Array): void {
    if (this.readyState !== WebSocket.OPEN) return;
    this.#client.arrive(typeof data === "string" ? data : data.slice());
  }

  close(code = 1000, reason = ""): void {
    if (this.readyState >= WebSocket.CLOSING) return;
    this.#client.closedBy(code, reason);
    this.ended(code, reason);
  }

  /** Fires an event at both the `on…` handler and the listeners. */
  fire(event: Event): void {
    const handler = (this as unknown as Record<string, ((e: Event) => void) | null>)[
      "on" + event.type
    ];
    handler?.(event);
    this.dispatchEvent(event);
  }

  opened(): void {
    this.readyState = WebSocket.OPEN;
    this.fire(new Event("open"));
  }

  ended(code: number, reason: string): void {
    if (this.readyState === WebSocket.CLOSED) return;
    this.readyState = WebSocket.CLOSED;
    this.fire(new CloseEvent("close", { code, reason, wasClean: true }));
  }
}

/** The end a test drives (through `siphon_sdk.http_testing.WebSocketSession`). */
export class ClientEnd {
  readonly #queue: (Data | null)[] = [];
  #wake: (() => void) | null = null;
  #server: ServerEnd | null = null;
  /** The subprotocol the handler accepted ("" none). */
  protocol = "";
  /** Set once closed, by either end. */
  closeCode = 0;
  closeReason = "";

  /** @internal the server end sends */
  arrive(data: Data | Uint8Array): void {
    this.#queue.push(data instanceof Uint8Array ? data.buffer as ArrayBuffer : data);
    this.#wake?.();
  }

  /** @internal the server end closed */
  closedBy(code: number, reason: string): void {
    if (this.closeCode !== 0) return;
    this.closeCode = code;
    this.closeReason = reason;
    this.#queue.push(null);
    this.#wake?.();
  }

  /** @internal */
  attach(server: ServerEnd): void {
    this.#server = server;
  }

  /**
   * Sends a message to the handler.
   *
   * @param data text, or bytes
   * @returns false when the socket is closed
   */
  put(data: string | Uint8Array): boolean {
    const server = this.#server;
    if (!server || server.readyState !== WebSocket.OPEN || this.closeCode !== 0) return false;
    const copy = typeof data === "string" ? data : data.slice().buffer as ArrayBuffer;
    queueMicrotask(() => server.fire(new MessageEvent("message", { data: copy })));
    return true;
  }

  /**
   * The next message from the handler.
   *
   * @param timeoutMs how long to wait
   * @returns the message, or null once closed
   * @throws {Error} when nothing came in time
   */
  async get(timeoutMs: number): Promise<Data | null> {
    const deadline = Date.now() + timeoutMs;
    while (this.#queue.length === 0) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no message from the handler within ${timeoutMs / 1000} s`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = null;
    }
    const item = this.#queue[0];
    if (item !== null) this.#queue.shift(); // the close stays: later reads see it too
    return item;
  }

  /**
   * Closes from the client's side.
   *
   * @param code close code
   * @param reason close reason
   * @returns once the handler's side has seen it
   */
  async shut(code: number, reason: string): Promise<void> {
    this.closedBy(code, reason);
    this.#server?.ended(code, reason);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/**
 * An upgrade that makes an in-memory pair; `accepted()` gives the client end of the last one.
 *
 * @returns the upgrade for the request path and the way to the client end
 */
export function pairUpgrade(): { upgrade: Upgrade; accepted(): ClientEnd | null } {
  let last: ClientEnd | null = null;
  return {
    upgrade: (_req, options) => {
      const client = new ClientEnd();
      client.protocol = options.protocol ?? "";
      const server = new ServerEnd(client);
      client.attach(server);
      last = client;
      setTimeout(() => server.opened(), 0);
      // A 101 cannot be built by hand; the harness reads the socket, not this response.
      return { socket: server as unknown as WebSocket, response: new Response(null) };
    },
    accepted: () => {
      const client = last;
      last = null;
      return client;
    },
  };
}
