/**
 * Request ids for the log: a well-formed `X-Request-Id` from the client (or the proxy in front)
 * is kept, so one id follows a request across services; otherwise the worker makes one,
 * `<8 random hex>-<counter in base 36>` — unique per worker thread without any coordination.
 *
 * Boundary: worker-side, on the request path; Python reads the id through `siphon.log`.
 *
 * @module
 */

const PREFIX = Array.from(
  crypto.getRandomValues(new Uint8Array(4)),
  (b) => b.toString(16).padStart(2, "0"),
).join("") + "-";
/** The last id made in this thread. */
const made = { count: 0 };
/** Printable ASCII without spaces or quotes, at most 128 characters. */
const WELL_FORMED = /^[\x21\x23-\x26\x28-\x7e]{1,128}$/;

/**
 * The id of a request.
 *
 * @param incoming the request's `X-Request-Id` header, or null
 * @returns `incoming` when it is well formed, else a fresh id
 * @example
 * ```ts
 * requestId(null); // "3f9a1c2b-1"
 * requestId("edge-42"); // "edge-42"
 * ```
 */
export function requestId(incoming: string | null): string {
  if (incoming !== null && WELL_FORMED.test(incoming)) return incoming;
  return PREFIX + (++made.count).toString(36);
}
