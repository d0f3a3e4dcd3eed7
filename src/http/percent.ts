/**
 * Percent-decoding of URL pieces as UTF-8.
 *
 * Boundary: wire-layer work. The router decodes path segments with {@link percentDecode} (strict:
 * an invalid sequence is a 400), the query parser with {@link percentDecodeLenient} (a bad
 * sequence stays as written, like URLSearchParams). Python only ever sees decoded strings.
 *
 * @module
 */

/**
 * Decodes `%XX` escapes as UTF-8; returns `null` when an escape is malformed or the bytes are not
 * valid UTF-8 (overlong forms and encoded surrogates included).
 *
 * @param raw a path segment exactly as it arrived on the wire
 * @returns the decoded text, or `null` for an invalid sequence
 * @example
 * ```ts
 * percentDecode("caf%C3%A9"); // "café"
 * percentDecode("%E9");       // null
 * ```
 */
export function percentDecode(raw: string): string | null {
  if (raw.indexOf("%") === -1) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

const lossy = new TextDecoder("utf-8", { fatal: false });
const encoder = new TextEncoder();

/**
 * Decodes `%XX` escapes as UTF-8 without ever failing: a `%` not followed by two hex digits stays
 * literal and invalid UTF-8 becomes U+FFFD.
 *
 * @param raw text as it arrived on the wire
 * @returns the decoded text
 * @example
 * ```ts
 * percentDecodeLenient("100%"); // "100%"
 * ```
 */
export function percentDecodeLenient(raw: string): string {
  const strict = percentDecode(raw);
  if (strict !== null) return strict;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 && isHex(raw, i + 1) && isHex(raw, i + 2)) {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      const cp = raw.codePointAt(i)!;
      for (const b of encoder.encode(String.fromCodePoint(cp))) bytes.push(b);
      if (cp > 0xffff) i++;
    }
  }
  return lossy.decode(new Uint8Array(bytes));
}

function isHex(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
