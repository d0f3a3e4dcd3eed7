/**
 * The one place the request path turns a status into a response of its own making: the table
 * of its answers (status and the one line the client reads). The markers Python answers with
 * instead of a response name these (workers/bridge/contract.ts).
 *
 * @module
 */

/** The request path's own answers: never a traceback or any detail of the handler. */
export const ANSWERS = {
  badBody: { status: 400, message: "Bad Request: body stream failed" },
  badUpgrade: { status: 400, message: "Bad Request: not a valid WebSocket upgrade" },
  notFound: { status: 404, message: "Not Found" },
  methodNotAllowed: { status: 405, message: "Method Not Allowed" },
  bodyTimeout: { status: 408, message: "Request Timeout: body not received in time" },
  tooLarge: { status: 413, message: "Payload Too Large" },
  upgradeRequired: {
    status: 426,
    message: "Upgrade Required: this route takes WebSocket connections",
  },
  internal: { status: 500, message: "Internal Server Error" },
  overloaded: { status: 503, message: "Service Unavailable: too many requests in flight" },
  socketsFull: { status: 503, message: "Service Unavailable: too many WebSockets open" },
  stopping: { status: 503, message: "Service Unavailable: shutting down" },
  timeout: { status: 504, message: "Gateway Timeout: the handler ran past its deadline" },
} as const;

/** One of the request path's own answers. */
export type Answer = keyof typeof ANSWERS;

/**
 * One of the request path's own answers as a response.
 *
 * @param kind which answer
 * @param headers extra headers, e.g. `Allow` for 405
 * @returns the response
 * @example
 * ```ts
 * answer("tooLarge"); // 413 "Payload Too Large"
 * ```
 */
export function answer(kind: Answer, headers?: Record<string, string>): Response {
  const { status, message } = ANSWERS[kind];
  return errorResponse(status, message, headers);
}

/**
 * A short plain-text error response. Never carries a traceback or any detail of the handler.
 *
 * @param status HTTP status
 * @param message one short line for the client
 * @param headers extra headers, e.g. `Allow` for 405
 * @returns the response
 * @example
 * ```ts
 * errorResponse(400, "Bad Request: invalid percent-encoding");
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
