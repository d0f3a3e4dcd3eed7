/**
 * "Did you mean" for unknown config keys.
 *
 * @module
 */

/**
 * Picks the known word closest to `word` by edit distance, if it is close enough to be a typo.
 *
 * @param word what the user wrote
 * @param known the valid words
 * @returns the suggestion, or `undefined` when nothing is close
 * @example
 * ```ts
 * closest("max_body_byte", ["max_body_bytes", "listen"]); // "max_body_bytes"
 * ```
 */
export function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const k of known) {
    const d = distance(word.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
    }
    prev = cur;
  }
  return prev[b.length];
}
