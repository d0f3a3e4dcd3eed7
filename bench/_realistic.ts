/**
 * The "realistic" request every benchmark sends, as bench/peers/realistic.lua sends it to wrk:
 * a path parameter, three query parameters, 8 headers (with Host) and a 100-byte JSON body.
 *
 * @module
 */

/** Path and query. */
export const REALISTIC_PATH = "/realistic/42?page=2&limit=50&sort=name";

/** The headers besides Host, as wrk sends them. */
export const REALISTIC_HEADERS: readonly [string, string][] = [
  ["User-Agent", "bench/1.0"],
  ["Accept", "application/json"],
  ["Accept-Encoding", "gzip, deflate"],
  ["Content-Type", "application/json"],
  ["X-Request-Id", "8d3b7f0e-1c2a-4b5e-9f00-aa11bb22cc33"],
  ["Authorization", "Bearer abcdef0123456789"],
  ["Cookie", "session=0123456789abcdef"],
];

/** The JSON body: 100 bytes. */
export const REALISTIC_BODY = '{"items": [1, 2, 3, 4, 5], "note": "' + "x".repeat(62) + '"}';

/**
 * The request as a `Request`, for benchmarks that call the request path in process.
 *
 * @param base scheme, host and port, e.g. `http://127.0.0.1:8090`
 * @returns a fresh request (a body can be read once)
 */
export function realisticRequest(base: string): Request {
  return new Request(base + REALISTIC_PATH, {
    method: "POST",
    // wrk announces the length; a Request made here would not, and its body would be streamed
    headers: [...REALISTIC_HEADERS, ["Content-Length", String(REALISTIC_BODY.length)]],
    body: REALISTIC_BODY,
  });
}
