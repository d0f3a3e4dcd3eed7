/**
 * The Python part of one request: handed to the worker's batcher (at once under light load, or
 * back to back with the others of a busy turn), then run under the request's deadline — the
 * deadline clock lets the watchdog interrupt Python that blocks, an async handler still waiting
 * at the deadline is cancelled with 504, and a failure of the interpreter itself asks for the
 * worker's replacement.
 *
 * Boundary: worker-side, between the request path (./request_path.ts) and the bridge.
 *
 * @module
 */
import { answer } from "../../src/http/errors.ts";
import { BridgeFatal, type BridgeRequest, type Pending } from "../bridge/bridge.ts";
import type { Exchange } from "./context.ts";

/** A request admitted to Python: its call made, its deadline set. */
type Admitted = Exchange & { call: BridgeRequest };

/**
 * Python's part of a request. Busy time is counted once: by the caller for a run inside the
 * handler's synchronous part (`inline` and nothing waiting), here for a run that happens later
 * (after the body arrived, or in a batch).
 *
 * @param x the request, with its bridge call and deadline
 * @param inline whether the caller is still in the handler's synchronous part
 * @returns the response, now or later
 */
export function callPython(x: Admitted, inline: boolean): Response | Promise<Response> {
  const { ctx } = x;
  const { batcher } = ctx.life;
  const work = () => run(x);
  if (!ctx.metrics || (inline && batcher.immediate)) return batcher.submit(work);
  return batcher.submit(() => {
    const t = performance.now();
    try {
      return work();
    } finally {
      ctx.life.metrics.busyMs += performance.now() - t;
    }
  });
}

/** Python's part, under the request deadline. */
function run(x: Admitted): Response | Promise<Response> {
  const { ctx } = x;
  ctx.interrupt[0] = 0;
  let out: Response | Pending;
  const earliest = ctx.clock.enter(x.deadline);
  try {
    out = ctx.bridge.call(x.call);
  } catch (e) {
    return failed(x, e);
  } finally {
    ctx.clock.leave(earliest);
  }
  if (out instanceof Response) return x.call.stopped ? stopped(x, out, "interrupted") : out;
  // Python waits for something: the deadline gets an entry, which expiring cancels the handler.
  const pending = out;
  if (x.call.route === ctx.app) {
    // An ASGI app may wait in `receive` for the client to go away (`http.disconnect`).
    const seq = x.call.seq;
    x.req.signal.addEventListener("abort", () => ctx.bridge.disconnect(seq), { once: true });
  }
  let expire: (() => void) | undefined;
  let expired = false; // then the line is said here, not again when Python answers 504
  const token = ctx.clock.begin(x.deadline, () => expire?.());
  const timedOut = new Promise<Response>((resolve) => {
    expire = () => {
      expired = true;
      resolve(stopped(x, answer("timeout"), "cancelled"));
      cancel(x, pending);
    };
  });
  const result = pending.result.then(
    (res) => x.call.stopped && !expired ? stopped(x, res, "interrupted") : res,
    (e) => failed(x, e),
  );
  return Promise.race([result, timedOut]).finally(() => ctx.clock.end(token));
}

/** A failure of the bridge (not of the handler: Python answers those with markers). */
function failed(x: Admitted, e: unknown): Response {
  const { ctx, call } = x;
  ctx.log.error(`${call.method} ${call.path}: ${(e as Error).message}`, about(x));
  if (e instanceof BridgeFatal) ctx.onFatal(e.message);
  return answer("internal");
}

/**
 * The one line about a request stopped at its deadline, with its id and route: Python was
 * interrupted (the watchdog) or the waiting handler cancelled; either way the client got 504.
 */
function stopped(x: Admitted, res: Response, how: "interrupted" | "cancelled"): Response {
  const { ctx, call } = x;
  ctx.log.warning(
    `${call.method} ${call.path}: no answer within request_timeout_ms (${call.timeoutMs} ms); ` +
      `the handler was ${how} and the client got 504`,
    about(x),
  );
  return res;
}

/** The fields of the server's own log lines about a request. */
function about(x: Admitted): Record<string, string> {
  return x.route
    ? { request_id: x.call.requestId, route: x.route }
    : { request_id: x.call.requestId };
}

function cancel(x: Admitted, pending: Pending): void {
  const { ctx, call } = x;
  try {
    pending.cancel();
  } catch (e) {
    ctx.log.error(
      `${call.method} ${call.path}: cannot cancel the handler: ${(e as Error).message}`,
      about(x),
    );
  }
}
