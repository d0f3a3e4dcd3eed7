/**
 * A worker's synchronous line to the supervisor's memory caches. The worker posts a request and
 * waits (Atomics.wait, no event-loop turn) until the supervisor writes the answer into shared
 * memory; a `siphon.cache` call then costs a message round trip and no coroutine suspension.
 *
 * Layout of the shared buffer: Int32[0] state (0 idle / 1 answered), Int32[1] ok (1/0),
 * Int32[2] answer length in bytes, then the answer (UTF-8 JSON).
 *
 * @module
 */

const HEADER = 12;
/** Room for one answer; larger answers (a huge list_pop_all) are refused with a clear error. */
export const CHANNEL_BYTES = 4 * 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The supervisor's side: write an answer and wake the worker.
 *
 * @param buffer the worker's channel
 * @param ok whether the operation succeeded
 * @param json the result, or the error message, as JSON
 */
export function answer(buffer: SharedArrayBuffer, ok: boolean, json: string): void {
  const bytes = new Uint8Array(buffer, HEADER);
  let written = encoder.encodeInto(json, bytes).written;
  if (written < encoder.encode(json).byteLength) {
    ok = false;
    written = encoder.encodeInto(
      JSON.stringify(`the answer is larger than ${CHANNEL_BYTES} bytes`),
      bytes,
    ).written;
  }
  const head = new Int32Array(buffer, 0, 3);
  head[1] = ok ? 1 : 0;
  head[2] = written;
  Atomics.store(head, 0, 1);
  Atomics.notify(head, 0);
}

/**
 * The worker's side: send with `post`, then block until answered.
 *
 * @param buffer this worker's channel
 * @param post sends the request to the supervisor
 * @param timeoutMs give up after this long
 * @returns the result as JSON
 * @throws {Error} with the supervisor's message, or on timeout
 */
export function ask(buffer: SharedArrayBuffer, post: () => void, timeoutMs: number): string {
  const head = new Int32Array(buffer, 0, 3);
  Atomics.store(head, 0, 0);
  post();
  if (Atomics.wait(head, 0, 0, timeoutMs) === "timed-out") {
    throw new Error(`the supervisor did not answer within ${timeoutMs} ms`);
  }
  const json = decoder.decode(new Uint8Array(buffer, HEADER, head[2]).slice());
  Atomics.store(head, 0, 0);
  if (head[1] !== 1) throw new Error(JSON.parse(json));
  return json;
}
