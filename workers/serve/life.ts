/**
 * The one builder of a {@link WorkerLife}: the lasting state of a thread that serves (a request
 * worker, the script test worker, an in-process bench host).
 *
 * @module
 */
import { Batcher } from "./batcher.ts";
import type { WorkerLife } from "./context.ts";
import { Metrics } from "../base/metrics.ts";
import { Sockets } from "./sockets.ts";

/**
 * A fresh worker life: no requests counted, empty metrics, no sockets.
 *
 * @param options `batch`: run busy turns' Python back to back (serving: true); `onRequest`:
 *   called after each response
 * @returns the life
 */
export function workerLife(
  options: { batch?: boolean; onRequest?: () => void } = {},
): WorkerLife {
  const metrics = new Metrics();
  return {
    requests: 0,
    metrics,
    batcher: new Batcher({ batch: options.batch ?? true }),
    sockets: new Sockets(metrics),
    onRequest: options.onRequest ?? (() => {}),
  };
}
