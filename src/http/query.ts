/**
 * Query-string parsing.
 *
 * Boundary: wire-layer work; the worker packs the decoded pairs for Python, which turns them into
 * `req.query_params` (a dict, so a repeated key keeps its last value, as siphon-http does).
 *
 * @module
 */
import { percentDecodeLenient } from "./percent.ts";

/**
 * Splits a raw query string (without the `?`) into decoded key/value pairs, flat:
 * `[k0, v0, k1, v1, …]`, in the order they appear. `+` means a space, a bare key gets `""`,
 * and empty pieces (`a=1&&b=2`) are skipped.
 *
 * @param raw the query string as it arrived, without the leading `?`
 * @returns the flat list of decoded pairs
 * @example
 * ```ts
 * parseQueryPairs("a=1&b&a=x+y"); // ["a", "1", "b", "", "a", "x y"]
 * ```
 */
export function parseQueryPairs(raw: string): string[] {
  const out: string[] = [];
  if (raw.length === 0) return out;
  let start = 0;
  while (start <= raw.length) {
    let end = raw.indexOf("&", start);
    if (end === -1) end = raw.length;
    if (end > start) {
      const eq = raw.indexOf("=", start);
      if (eq === -1 || eq > end) {
        out.push(decodeComponent(raw.slice(start, end)), "");
      } else {
        out.push(decodeComponent(raw.slice(start, eq)), decodeComponent(raw.slice(eq + 1, end)));
      }
    }
    start = end + 1;
  }
  return out;
}

/**
 * Parses a raw query string into a record; a repeated key keeps its last value.
 *
 * @param raw the query string as it arrived, without the leading `?`
 * @returns key → value
 * @example
 * ```ts
 * parseQuery("page=2&page=3&q"); // { page: "3", q: "" }
 * ```
 */
export function parseQuery(raw: string): Record<string, string> {
  const pairs = parseQueryPairs(raw);
  const out: Record<string, string> = Object.create(null);
  for (let i = 0; i < pairs.length; i += 2) out[pairs[i]] = pairs[i + 1];
  return out;
}

function decodeComponent(s: string): string {
  if (s.indexOf("+") !== -1) s = s.replaceAll("+", " ");
  return percentDecodeLenient(s);
}
