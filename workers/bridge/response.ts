/**
 * An answer from Python made a Response: the head (`status\0length\0name\0value…`, see
 * ./contract.ts) parsed, its header bytes checked once more, and the body — text, bytes or a
 * stream — attached.
 *
 * Boundary: worker-side, inside the bridge (./bridge.ts); after this the Response is Deno's.
 *
 * @module
 */
import type { Limit } from "../../src/metrics_snapshot.ts";
import { ITEM } from "./contract.ts";

const NULL_BODY = new Set([101, 103, 204, 205, 304]);
/** Bytes RFC 9110 forbids in a header besides NUL (the head's separator): C0 but HTAB, and DEL. */
// deno-lint-ignore no-control-regex -- these are the bytes being refused
const UNSENDABLE = /[\x01-\x08\x0A-\x1F\x7F]/;

/**
 * Builds the Response of an answer head.
 *
 * @param head the head: status, length (`t<n>` for a text body), header names and values
 * @param body makes the body, given its length
 * @param onLimit a bound refused the response (counted in /metrics)
 * @returns the response
 * @throws {TypeError} naming the header when the head cannot be sent
 */
export function responseOf(
  head: string,
  body: (length: number) => Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | string,
  onLimit: (limit: Limit) => void,
): Response {
  const parts = head.split(ITEM);
  const status = Number(parts[0]);
  const text = parts[1].charCodeAt(0) === 116;
  const length = Number(text ? parts[1].slice(1) : parts[1]);
  // Python refuses these already and names the header (_bridge._head); this is the wall for
  // whatever else reaches here: Deno 2.9.6 sends a NUL as a line break, and panics on some
  // values (docs/internals.md "Response headers").
  if (UNSENDABLE.test(head) || parts.length % 2 !== 0) {
    onLimit("response_headers");
    throw new TypeError(`Cannot send the handler's response: ${unsendable(parts)}`);
  }
  let res: Response;
  try {
    const empty = NULL_BODY.has(status) || length === 0;
    res = new Response(empty ? null : body(length), { status });
    // A text body makes Deno add `text/plain;charset=UTF-8`: the handler's own content type
    // replaces it, and without one it goes (a str body gets none, as in siphon-http).
    const defaulted = text && !empty;
    let typed = false;
    for (let i = 2; i < parts.length; i += 2) {
      const name = parts[i];
      if (defaulted && !typed && name.length === 12 && name.toLowerCase() === "content-type") {
        res.headers.set(name, parts[i + 1]);
        typed = true;
      } else res.headers.append(name, parts[i + 1]);
    }
    if (defaulted && !typed) res.headers.delete("content-type");
  } catch (e) {
    throw new TypeError(`Cannot build the handler's response: ${(e as Error).message}`);
  }
  return res;
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

/** A WebSocket handshake Python accepted. */
export interface Accepted {
  /** The subprotocol chosen; "" for none. */
  protocol: string;
  /** Headers the handler added to the 101 response, checked (a `Headers` refuses bad names). */
  headers: Headers;
}

/**
 * The accepted handshake from Python's answer (`subprotocol\0name\0value…`, the leading NUL
 * taken off), its header bytes checked as a response's are.
 *
 * @param text the answer without its leading NUL
 * @param onLimit a bound refused it (counted in /metrics)
 * @returns the subprotocol and the headers
 * @throws {TypeError} naming the header when one cannot be sent
 */
export function acceptedOf(text: string, onLimit: (limit: Limit) => void): Accepted {
  const parts = text.split(ITEM);
  const headers = new Headers();
  if (parts.length === 1) return { protocol: text, headers };
  // laid out as a head, with the subprotocol where the status is and an empty length
  const head = ["101", "", ...parts.slice(1)];
  if (UNSENDABLE.test(text) || head.length % 2 !== 0) {
    onLimit("response_headers");
    throw new TypeError(`Cannot accept the WebSocket: ${unsendable(head)}`);
  }
  try {
    for (let i = 2; i < head.length; i += 2) headers.append(head[i], head[i + 1]);
  } catch (e) {
    onLimit("response_headers");
    throw new TypeError(`Cannot accept the WebSocket: ${(e as Error).message}`);
  }
  return { protocol: parts[0], headers };
}
