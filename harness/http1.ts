/**
 * The load driver's HTTP/1.1 wire code: encode one request once, then parse responses
 * incrementally from raw bytes (Content-Length, chunked, no-body statuses).
 *
 * Boundary: pure and allocation-light; no sockets. `client_worker.ts` owns the connections.
 *
 * @module
 */

/** A response the server sent that is not valid HTTP/1.1. */
export class MalformedResponse extends Error {
  /** @param message what was wrong */
  constructor(message: string) {
    super(message);
    this.name = "MalformedResponse";
  }
}

/** What to send. */
export interface RequestSpec {
  method: string;
  host: string;
  port: number;
  path: string;
  headers: [string, string][];
  body?: Uint8Array;
}

const encoder = new TextEncoder();

/**
 * Encodes a keep-alive HTTP/1.1 request once, for sending many times.
 *
 * @param spec method, target, headers, body
 * @returns the bytes to write per request
 * @example
 * ```ts
 * encodeRequest({ method: "GET", host: "127.0.0.1", port: 8080, path: "/", headers: [] });
 * ```
 */
export function encodeRequest(spec: RequestSpec): Uint8Array {
  const has = (name: string) => spec.headers.some(([k]) => k.toLowerCase() === name);
  let head = `${spec.method} ${spec.path} HTTP/1.1\r\n`;
  if (!has("host")) head += `host: ${spec.host}:${spec.port}\r\n`;
  for (const [k, v] of spec.headers) head += `${k}: ${v}\r\n`;
  if (spec.body && !has("content-length")) head += `content-length: ${spec.body.byteLength}\r\n`;
  head += "\r\n";
  const h = encoder.encode(head);
  if (!spec.body?.byteLength) return h;
  const out = new Uint8Array(h.byteLength + spec.body.byteLength);
  out.set(h);
  out.set(spec.body, h.byteLength);
  return out;
}

const enum State {
  Head,
  Body,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
}

const MAX_HEAD = 64 * 1024;

/**
 * Parses a stream of responses on one connection. Feed it bytes as they arrive; it reports
 * each complete response's status.
 */
export class ResponseParser {
  #state = State.Head;
  #pending: Uint8Array = new Uint8Array(0);
  #remaining = 0;
  #status = 0;
  #close = false;
  #headRequest: boolean;

  /** @param headRequest true when the requests are HEAD (responses then carry no body) */
  constructor(headRequest = false) {
    this.#headRequest = headRequest;
  }

  /** True when the last complete response asked to close the connection. */
  get closeRequested(): boolean {
    return this.#close;
  }

  /** True when no response is partly received. */
  get idle(): boolean {
    return this.#state === State.Head && this.#pending.byteLength === 0;
  }

  /**
   * Consumes bytes.
   *
   * @param chunk bytes read from the socket
   * @param onResponse called with the status of each complete response
   * @throws {MalformedResponse} when the bytes are not HTTP/1.1
   */
  push(chunk: Uint8Array, onResponse: (status: number) => void): void {
    let buf = chunk;
    if (this.#pending.byteLength) {
      buf = new Uint8Array(this.#pending.byteLength + chunk.byteLength);
      buf.set(this.#pending);
      buf.set(chunk, this.#pending.byteLength);
      this.#pending = new Uint8Array(0);
    }
    let i = 0;
    while (i < buf.byteLength) {
      if (this.#state === State.Head) {
        const end = findHeadEnd(buf, i);
        if (end === -1) {
          if (buf.byteLength - i > MAX_HEAD) {
            throw new MalformedResponse("response head over 64 KiB");
          }
          break;
        }
        const complete = this.#head(buf.subarray(i, end));
        i = end + 4;
        if (complete) onResponse(this.#status);
      } else if (this.#state === State.Body) {
        const take = Math.min(this.#remaining, buf.byteLength - i);
        this.#remaining -= take;
        i += take;
        if (this.#remaining === 0) {
          this.#state = State.Head;
          onResponse(this.#status);
        }
      } else if (this.#state === State.ChunkSize || this.#state === State.Trailers) {
        const eol = findCrlf(buf, i);
        if (eol === -1) break;
        const line = latin1(buf.subarray(i, eol));
        i = eol + 2;
        if (this.#state === State.Trailers) {
          if (line === "") {
            this.#state = State.Head;
            onResponse(this.#status);
          }
          continue;
        }
        const size = parseInt(line.split(";")[0].trim(), 16);
        if (!Number.isFinite(size) || size < 0 || !/^[0-9a-fA-F]+/.test(line.trim())) {
          throw new MalformedResponse(`bad chunk size line ${JSON.stringify(line)}`);
        }
        if (size === 0) this.#state = State.Trailers;
        else [this.#state, this.#remaining] = [State.ChunkData, size];
      } else if (this.#state === State.ChunkData) {
        const take = Math.min(this.#remaining, buf.byteLength - i);
        this.#remaining -= take;
        i += take;
        if (this.#remaining === 0) this.#state = State.ChunkDataEnd;
      } else {
        if (buf.byteLength - i < 2) break;
        if (buf[i] !== 13 || buf[i + 1] !== 10) {
          throw new MalformedResponse("chunk not followed by CRLF");
        }
        i += 2;
        this.#state = State.ChunkSize;
      }
    }
    if (i < buf.byteLength) this.#pending = buf.slice(i);
  }

  /** Parses a response head; returns true when the response has no body to wait for. */
  #head(bytes: Uint8Array): boolean {
    const lines = latin1(bytes).split("\r\n");
    const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]);
    if (!m) throw new MalformedResponse(`bad status line ${JSON.stringify(lines[0].slice(0, 80))}`);
    this.#status = Number(m[1]);
    let length = -1;
    let chunked = false;
    this.#close = false;
    for (let n = 1; n < lines.length; n++) {
      const line = lines[n];
      const colon = line.indexOf(":");
      if (colon <= 0) {
        throw new MalformedResponse(`bad header line ${JSON.stringify(line.slice(0, 80))}`);
      }
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (!/^\d+$/.test(value)) throw new MalformedResponse(`bad content-length ${value}`);
        length = Number(value);
      } else if (name === "transfer-encoding") chunked = /chunked/i.test(value);
      else if (name === "connection") this.#close = /close/i.test(value);
    }
    if (this.#status < 200) return false; // 1xx is not the answer: the real head follows
    if (this.#headRequest || this.#status === 204 || this.#status === 304 || length === 0) {
      return true;
    }
    if (chunked) this.#state = State.ChunkSize;
    else if (length > 0) [this.#state, this.#remaining] = [State.Body, length];
    else throw new MalformedResponse("response has neither content-length nor chunked body");
    return false;
  }
}

function findHeadEnd(buf: Uint8Array, from: number): number {
  for (let i = from; i + 3 < buf.byteLength; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

function findCrlf(buf: Uint8Array, from: number): number {
  for (let i = from; i + 1 < buf.byteLength; i++) if (buf[i] === 13 && buf[i + 1] === 10) return i;
  return -1;
}

const latin1Decoder = new TextDecoder("latin1");
function latin1(bytes: Uint8Array): string {
  return latin1Decoder.decode(bytes);
}
