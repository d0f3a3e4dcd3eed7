/**
 * The one place the request path turns a status into a response of its own making.
 *
 * @module
 */

/**
 * A short plain-text error response. Never carries a traceback or any detail of the handler.
 *
 * @param status HTTP status
 * @param message one short line for the client
 * @param headers extra headers, e.g. `Allow` for 405
 * @returns the response
 * @example
 * ```ts
 * errorResponse(413, "Payload Too Large");
 * ```
 */
export function errorResponse(
  status: number,
  message: string,
  headers?: Record<string, string>,
): Response {
  const res = new Response(message + "\n", { status });
  res.headers.set("content-type", "text/plain; charset=utf-8");
  if (headers) { for (const k in headers) res.headers.set(k, headers[k]); }
  return res;
}
