/**
 * Reading a request body under a byte cap.
 *
 * Boundary: wire-layer. Python gets the body only once it is whole and within the cap; a body
 * over the cap is never buffered past the cap.
 *
 * @module
 */

/** Why a body could not be read. */
export type BodyFailure = "too_large" | "timeout" | "aborted";

/** Options for {@link readBody}. */
export interface ReadBodyOptions {
  /** Most bytes accepted. */
  cap: number;
  /** The Content-Length the client announced, if any (used to size the buffer). */
  announced?: number;
  /**
   * Receives a function that stops the read; the read then resolves to `"timeout"`. The caller
   * owns the clock (the worker sweeps all its deadlines on one timer).
   */
  onCancel?: (cancel: () => void) => void;
}

/**
 * Reads a stream whole, stopping (and cancelling the stream) as soon as it passes `cap`.
 *
 * @param stream the request body
 * @param options cap, announced length and a hook to stop the read
 * @returns the bytes, or why they could not be read
 * @example
 * ```ts
 * const body = await readBody(req.body!, { cap: 1 << 20 });
 * if (body === "too_large") return errorResponse(413, "Payload Too Large");
 * ```
 */
export async function readBody(
  stream: ReadableStream<Uint8Array>,
  options: ReadBodyOptions,
): Promise<Uint8Array | BodyFailure> {
  const reader = stream.getReader();
  let stopped = false;
  options.onCancel?.(() => {
    stopped = true;
    reader.cancel().catch(() => {});
  });
  const sized = options.announced !== undefined && options.announced <= options.cap;
  let buffer = new Uint8Array(sized ? options.announced! : Math.min(options.cap, 16384));
  let length = 0;
  try {
    while (true) {
      const next = await reader.read();
      if (stopped) return "timeout";
      if (next.done) break;
      const chunk = next.value;
      if (length + chunk.byteLength > options.cap) {
        await reader.cancel().catch(() => {});
        return "too_large";
      }
      if (length + chunk.byteLength > buffer.byteLength) {
        const size = Math.max(buffer.byteLength * 2, length + chunk.byteLength);
        const grown = new Uint8Array(Math.min(options.cap, size));
        grown.set(buffer.subarray(0, length));
        buffer = grown;
      }
      buffer.set(chunk, length);
      length += chunk.byteLength;
    }
  } catch {
    return stopped ? "timeout" : "aborted";
  } finally {
    reader.releaseLock();
  }
  return length === buffer.byteLength ? buffer : buffer.subarray(0, length);
}
