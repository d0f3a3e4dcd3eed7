/**
 * The supervisor trusts no worker: every message a worker sends is checked against the shapes of
 * src/protocol.ts before anything reads it. A worker runs the user's Python, and Python can reach
 * the worker's JavaScript, so a message may be forged or broken; one that does not check out is
 * refused with a reason (the supervisor logs it and replaces the worker) — it never throws deeper.
 *
 * Boundary: shared shapes; the supervisor calls {@link checkFromWorker} on each message.
 *
 * @module
 */
import { z } from "zod";
import { LIMITS } from "./metrics_snapshot.ts";
import type { FromWorker } from "./protocol.ts";

const text = (max = 1 << 20) => z.string().max(max);
const count = z.number().int().nonnegative();
const id = z.number().int();

const cacheCall = z.strictObject({
  op: z.enum([
    "fetch",
    "store",
    "exists",
    "delete",
    "add",
    "incr",
    "expire",
    "list_push",
    "list_len",
    "list_len_sum",
    "list_pop_all",
  ]),
  key: text(),
  value: z.string().optional(),
  ttlMs: z.number().nonnegative().optional(),
  by: z.number().int().optional(),
});

const snapshot = z.strictObject({
  requests: z.array(z.tuple([text(4096), text(64), count, count])),
  buckets: z.array(count),
  sumSeconds: z.number().nonnegative(),
  count,
  busySeconds: z.number().nonnegative(),
  inflight: count,
  sockets: z.strictObject({
    open: count,
    accepted: count,
    messagesIn: count,
    messagesOut: count,
  }),
  pubsub: z.strictObject({ published: count, delivered: count, dropped: count }),
  limits: z.partialRecord(z.enum(LIMITS), count),
  listenerFailures: count,
});

/** Every message a request worker may send (src/protocol.ts `FromWorker`). */
const fromWorker: z.ZodType<FromWorker> = z.discriminatedUnion("type", [
  z.strictObject({
    type: z.literal("prepared"),
    id,
    python: z.enum(["snapshot", "cold"]),
    ms: z.number().nonnegative(),
    routes: count,
  }),
  z.strictObject({ type: z.literal("prepare_failed"), id, message: text() }),
  z.strictObject({ type: z.literal("committed"), id }),
  z.strictObject({ type: z.literal("commit_failed"), id, message: text() }),
  z.strictObject({ type: z.literal("aborted"), id }),
  z.strictObject({ type: z.literal("checked"), id, routes: count }),
  z.strictObject({ type: z.literal("check_failed"), id, message: text() }),
  z.strictObject({
    type: z.literal("stats"),
    stats: z.strictObject({ id, heapUsed: count, wasmBytes: count, pyObjects: count }),
  }),
  z.strictObject({ type: z.literal("metrics"), id, snapshot }),
  z.strictObject({ type: z.literal("stopped"), id }),
  z.strictObject({ type: z.literal("died"), id, cause: text() }),
  z.strictObject({ type: z.literal("recycle"), id, reason: text() }),
  z.strictObject({
    type: z.literal("listener"),
    id,
    listen: text(300),
    up: z.boolean(),
    cause: text(),
  }),
  z.strictObject({ type: z.literal("cache"), name: text(1024), call: cacheCall }),
  z.strictObject({
    type: z.literal("publish"),
    topic: text(4096),
    message: z.union([z.string(), z.instanceof(Uint8Array)]),
  }),
  z.strictObject({
    type: z.literal("handshake_failed"),
    failure: z.strictObject({
      listen: text(300),
      clientCa: text(4096),
      peer: text(300),
      error: text(),
    }),
  }),
]);

/**
 * Checks one message from worker `workerId`.
 *
 * @param data what arrived
 * @param workerId the worker it came from (a message naming another worker is refused)
 * @returns the message, or why it is refused
 * @example
 * ```ts
 * const checked = checkFromWorker({ type: "committed", id: 1 }, 1); // { ok: true, message }
 * ```
 */
export function checkFromWorker(
  data: unknown,
  workerId: number,
): { ok: true; message: FromWorker } | { ok: false; why: string } {
  const parsed = fromWorker.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length ? ` at ${issue.path.join(".")}` : "";
    return { ok: false, why: `${issue.message}${where} (type ${JSON.stringify(typeOf(data))})` };
  }
  const message = parsed.data;
  if ("id" in message && message.id !== workerId) {
    return { ok: false, why: `it names worker ${message.id}` };
  }
  return { ok: true, message };
}

function typeOf(data: unknown): unknown {
  const type = data && typeof data === "object" ? (data as { type?: unknown }).type : undefined;
  return typeof type === "string" ? type.slice(0, 64) : typeof data;
}
