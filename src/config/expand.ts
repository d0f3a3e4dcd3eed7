/**
 * `${VAR}` and `${VAR:-default}` expansion for http.yaml string values.
 *
 * Boundary: pure; the loader calls it on every string scalar and turns a thrown
 * {@link ExpandError} into a positioned config error.
 *
 * @module
 */

/** A reference that cannot be expanded; `offset` is where it starts in the input. */
export class ExpandError extends Error {
  /**
   * @param message what went wrong and what to do
   * @param offset 0-based offset of the `$` in the input
   */
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = "ExpandError";
  }
}

const REF = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{/g;

/**
 * Expands environment references. `$${` writes a literal `${`. An unset variable with no default
 * is an error; a set but empty variable expands to `""` (and `:-` then uses the default).
 *
 * @param text the string as written in http.yaml
 * @param env the environment to read, e.g. `Deno.env.toObject()`
 * @returns the expanded string
 * @throws {ExpandError} for an unset variable without default or a malformed reference
 * @example
 * ```ts
 * expandEnv("0.0.0.0:${PORT:-8080}", {}); // "0.0.0.0:8080"
 * ```
 */
export function expandEnv(text: string, env: Readonly<Record<string, string>>): string {
  if (text.indexOf("$") === -1) return text;
  return text.replace(REF, (whole, name: string | undefined, fallback: string | undefined, at) => {
    if (whole === "$${") return "${";
    if (name === undefined) {
      throw new ExpandError(
        'malformed "${" reference; write ${NAME} or ${NAME:-default} (or $${ for a literal)',
        at,
      );
    }
    const value = env[name];
    if (fallback !== undefined) return value ? value : fallback;
    if (value === undefined) {
      throw new ExpandError(
        `environment variable ${name} is not set; set it or write \${${name}:-default}`,
        at,
      );
    }
    return value;
  });
}
