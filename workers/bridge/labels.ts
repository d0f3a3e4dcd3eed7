/**
 * Route labels Python gives requests (an ASGI app's matched route template, through the
 * `routeLabel` service), bounded: metrics keep one series per label, and a text log prints it.
 *
 * @module
 */

/** The longest label kept; a longer one is cut. */
export const MAX_LABEL = 200;
/**
 * How many different labels one interpreter may give: past it a request keeps its route table
 * label. An app that names its routes by the raw path would otherwise grow the metrics without
 * end.
 */
export const MAX_LABELS = 500;
// deno-lint-ignore no-control-regex -- these are the characters being refused
const CONTROL = /[\x00-\x1f\x7f]/;

/** The labels one interpreter gave so far. */
export class RouteLabels {
  readonly #seen = new Set<string>();

  /**
   * A label as it may be used, or null when it is refused.
   *
   * @param label what Python gave (any value: it is made a string)
   * @returns the label cut to {@link MAX_LABEL}; null past {@link MAX_LABELS} different ones or
   *   when it holds a control character (it would forge a line in a text log)
   */
  admit(label: unknown): string | null {
    const text = String(label).slice(0, MAX_LABEL);
    if (this.#seen.has(text)) return text;
    if (CONTROL.test(text) || this.#seen.size >= MAX_LABELS) return null;
    this.#seen.add(text);
    return text;
  }
}
