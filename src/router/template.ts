/**
 * Path templates: `/users/{id:int}/files/{*rest}` → a list of typed segments.
 *
 * Boundary: pure parsing, shared by the config validator (to point at the bad column) and the
 * router compiler. Nothing here touches a request.
 *
 * @module
 */

/** The value types a `{name:type}` segment accepts. */
export type ParamType = "str" | "int" | "uuid";

/** One segment of a parsed template. */
export type Segment =
  | { kind: "static"; value: string }
  | { kind: "param"; name: string; type: ParamType }
  | { kind: "catchall"; name: string };

/** A template that cannot be parsed; `offset` is the 0-based character where the problem is. */
export class TemplateError extends Error {
  /** 0-based offset into the template text. */
  readonly offset: number;
  /**
   * @param message what is wrong and what to write instead
   * @param offset 0-based offset into the template text
   */
  constructor(message: string, offset: number) {
    super(message);
    this.name = "TemplateError";
    this.offset = offset;
  }
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TYPES: readonly ParamType[] = ["str", "int", "uuid"];

/**
 * Parses a path template. `"/"` is one empty static segment, and a trailing `/` adds an empty
 * static segment, so `/a` and `/a/` are different routes.
 *
 * @param template e.g. `/users/{id:int}/orders/{order:uuid}`
 * @returns the segments, in order
 * @throws {TemplateError} with the offending offset and what to write instead
 * @example
 * ```ts
 * parseTemplate("/files/{*path}"); // [{kind:"static",value:"files"},{kind:"catchall",name:"path"}]
 * ```
 */
export function parseTemplate(template: string): Segment[] {
  if (!template.startsWith("/")) {
    throw new TemplateError(`path must start with "/", got "${template}"`, 0);
  }
  for (const ch of ["?", "#"]) {
    const at = template.indexOf(ch);
    if (at !== -1) throw new TemplateError(`path must not contain "${ch}"`, at);
  }
  const segments: Segment[] = [];
  const names = new Set<string>();
  let offset = 1;
  const parts = template.slice(1).split("/");
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    if (part === "" && !last) {
      throw new TemplateError(`empty segment ("//") in path "${template}"`, offset);
    }
    const seg = parseSegment(part, offset);
    if (seg.kind !== "static") {
      if (names.has(seg.name)) {
        throw new TemplateError(`parameter "${seg.name}" appears twice`, offset);
      }
      names.add(seg.name);
    }
    if (seg.kind === "catchall" && !last) {
      throw new TemplateError(`catch-all {*${seg.name}} must be the last segment`, offset);
    }
    segments.push(seg);
    offset += part.length + 1;
  });
  return segments;
}

function parseSegment(part: string, offset: number): Segment {
  const open = part.indexOf("{");
  const close = part.indexOf("}");
  if (open === -1 && close === -1) return { kind: "static", value: part };
  if (open !== 0 || close !== part.length - 1 || part.indexOf("{", 1) !== -1) {
    throw new TemplateError(
      `a parameter must fill its whole segment, like {name} or {name:int}; got "${part}"`,
      offset + Math.max(open, 0),
    );
  }
  const inner = part.slice(1, -1);
  if (inner.startsWith("*")) {
    const name = inner.slice(1);
    if (!NAME.test(name)) {
      throw new TemplateError(`invalid catch-all name "${name}" (use letters, digits, _)`, offset);
    }
    return { kind: "catchall", name };
  }
  const colon = inner.indexOf(":");
  const name = colon === -1 ? inner : inner.slice(0, colon);
  const type = colon === -1 ? "str" : inner.slice(colon + 1);
  if (!NAME.test(name)) {
    throw new TemplateError(
      `invalid parameter name "${name}" (use letters, digits, _)`,
      offset + 1,
    );
  }
  if (!TYPES.includes(type as ParamType)) {
    throw new TemplateError(
      `unknown parameter type "${type}" in {${inner}}; use one of ${TYPES.join(", ")}`,
      offset + 1 + colon + 1,
    );
  }
  return { kind: "param", name, type: type as ParamType };
}

/**
 * The shape of a template: what decides which paths it matches, without parameter names.
 * Two routes with the same shape and a common method can never be told apart.
 *
 * @param segments parsed template
 * @returns e.g. `/users/{:int}/{*}`
 */
export function shapeOf(segments: readonly Segment[]): string {
  return "/" +
    segments.map((s) =>
      s.kind === "static"
        ? s.value.replaceAll("{", "{{")
        : s.kind === "param"
        ? `{:${s.type}}`
        : "{*}"
    ).join("/");
}
