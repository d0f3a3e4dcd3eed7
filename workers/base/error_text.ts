/**
 * One line of text for whatever a worker caught: a Python error (its last line, or the whole
 * message of siphon's ScriptError, which already names file:line), an Emscripten file-system
 * error, or a JS error.
 *
 * @module
 */

/**
 * Describes a caught value for the log or a reply.
 *
 * @param e what was thrown
 * @returns the message
 */
export function errorText(e: unknown): string {
  if (e && typeof e === "object" && "type" in e && e.type === "ScriptError") {
    // A PythonError's message is the Python traceback; keep just the ScriptError text.
    const text = String((e as { message?: unknown }).message);
    const at = text.lastIndexOf("ScriptError: ");
    return at === -1 ? text : text.slice(at + "ScriptError: ".length).trimEnd();
  }
  if (e && typeof e === "object" && "type" in e) {
    const text = String((e as { message?: unknown }).message).trimEnd();
    return text.slice(text.lastIndexOf("\n") + 1);
  }
  if (e instanceof Error) return e.message;
  if (e && typeof e === "object" && "errno" in e) return `file system error, errno ${e.errno}`;
  return String(e);
}
