/**
 * WebSocket clients for the end-to-end tests: Deno's `WebSocket` with its messages queued for
 * `next()`, and a raw TCP one that completes the handshake and then reads (or does not read)
 * frames itself — for what a browser-grade client would hide (pings it must not answer, a
 * client that stops reading).
 *
 * @module
 */
import { PATIENCE_MS } from "./launch.ts";

/** A connected (or refused) client. */
export interface Client {
  ws: WebSocket;
  /** Whether the handshake succeeded. */
  opened: Promise<boolean>;
  /** The close event, whenever it comes. */
  closed: Promise<CloseEvent>;
  /** The next message (text as string, binary as Uint8Array). */
  next(): Promise<string | Uint8Array>;
  send(data: string | Uint8Array): void;
}

/**
 * Opens a WebSocket to `url`.
 *
 * @param url `ws://127.0.0.1:PORT/path`
 * @param protocols subprotocols to offer
 * @returns the client
 */
export function connect(url: string, protocols?: string[]): Client {
  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const queue: (string | Uint8Array)[] = [];
  let wake: (() => void) | null = null;
  ws.onmessage = (e) => {
    queue.push(typeof e.data === "string" ? e.data : new Uint8Array(e.data));
    wake?.();
  };
  const closed = new Promise<CloseEvent>((resolve) => ws.addEventListener("close", resolve));
  const opened = new Promise<boolean>((resolve) => {
    ws.addEventListener("open", () => resolve(true));
    ws.addEventListener("close", () => resolve(false));
  });
  return {
    ws,
    opened,
    closed,
    send: (data) => ws.send(data),
    async next() {
      const deadline = Date.now() + PATIENCE_MS;
      while (queue.length === 0) {
        if (ws.readyState === WebSocket.CLOSED) throw new Error(`${url}: closed, no message`);
        if (Date.now() > deadline) throw new Error(`${url}: no message within the patience`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return queue.shift()!;
    },
  };
}

/** A client on a bare TCP connection after the handshake: it answers nothing by itself. */
export interface RawClient {
  /** The handshake response's status line and headers. */
  head: string;
  conn: Deno.TcpConn;
  /**
   * Reads until the server's close frame (or the end of the connection); returns every byte
   * after the handshake. It does not answer the close: the caller closes the connection.
   */
  readAll(): Promise<Uint8Array>;
}

/** The headers of a WebSocket upgrade request (for `fetch`, which then sees the answer). */
export const UPGRADE_HEADERS = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

/**
 * An upgrade request as it goes on the wire.
 *
 * @param port the server's port
 * @param path request target
 * @param extra more headers (e.g. `Authorization`, which Deno's WebSocket cannot send)
 * @returns the bytes
 */
export function handshakeRequest(
  port: number,
  path: string,
  extra: Record<string, string> = {},
): Uint8Array {
  const headers = { host: `127.0.0.1:${port}`, ...UPGRADE_HEADERS, ...extra };
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  return new TextEncoder().encode(`GET ${path} HTTP/1.1\r\n${lines}\r\n`);
}

/**
 * Upgrades a TCP connection to `127.0.0.1:port` + `path` by hand.
 *
 * @param extra more request headers
 * @returns the client, once the 101 arrived
 */
export async function rawConnect(
  port: number,
  path: string,
  extra: Record<string, string> = {},
): Promise<RawClient> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(handshakeRequest(port, path, extra));
  let got = new Uint8Array(0);
  const buf = new Uint8Array(65536);
  while (true) {
    const text = new TextDecoder().decode(got);
    const end = text.indexOf("\r\n\r\n");
    if (end !== -1) {
      const rest = got.slice(new TextEncoder().encode(text.slice(0, end + 4)).byteLength);
      return {
        head: text.slice(0, end),
        conn,
        async readAll() {
          let all = new Uint8Array(Math.max(rest.byteLength, 1 << 20));
          all.set(rest);
          let size = rest.byteLength;
          let scan = 0; // start of the first frame not yet seen whole
          const sawClose = () => {
            for (;;) {
              const next = frameEnd(all.subarray(0, size), scan);
              if (next === -1) return false;
              if ((all[scan] & 0x0f) === 8) return true;
              scan = next;
            }
          };
          while (!sawClose()) {
            const n = await conn.read(buf).catch(() => null);
            if (n === null) break;
            if (size + n > all.byteLength) {
              const grown = new Uint8Array(all.byteLength * 2);
              grown.set(all.subarray(0, size));
              all = grown;
            }
            all.set(buf.subarray(0, n), size);
            size += n;
          }
          return all.slice(0, size);
        },
      };
    }
    const n = await conn.read(buf);
    if (n === null) throw new Error(`no handshake response:\n${text}`);
    const next = new Uint8Array(got.byteLength + n);
    next.set(got);
    next.set(buf.subarray(0, n), got.byteLength);
    got = next;
  }
}

/** Where the frame at `at` ends, or -1 when it has not arrived whole. */
function frameEnd(bytes: Uint8Array, at: number): number {
  if (at + 2 > bytes.byteLength) return -1;
  let len = bytes[at + 1] & 0x7f;
  let head = 2;
  if (len === 126) {
    if (at + 4 > bytes.byteLength) return -1;
    len = (bytes[at + 2] << 8) | bytes[at + 3];
    head = 4;
  } else if (len === 127) {
    if (at + 10 > bytes.byteLength) return -1;
    len = Number(new DataView(bytes.buffer, bytes.byteOffset + at + 2).getBigUint64(0));
    head = 10;
  }
  return at + head + len <= bytes.byteLength ? at + head + len : -1;
}

/**
 * The frames in bytes a server sent (unmasked), as `[opcode, payload]`.
 *
 * @param bytes what arrived after the handshake
 * @returns the frames, in order
 */
export function frames(bytes: Uint8Array): [number, Uint8Array][] {
  const out: [number, Uint8Array][] = [];
  let at = 0;
  while (at + 2 <= bytes.byteLength) {
    const opcode = bytes[at] & 0x0f;
    let len = bytes[at + 1] & 0x7f;
    at += 2;
    if (len === 126) {
      len = (bytes[at] << 8) | bytes[at + 1];
      at += 2;
    } else if (len === 127) {
      len = Number(new DataView(bytes.buffer, bytes.byteOffset + at).getBigUint64(0));
      at += 8;
    }
    if (at + len > bytes.byteLength) break; // not all here yet
    out.push([opcode, bytes.subarray(at, at + len)]);
    at += len;
  }
  return out;
}
