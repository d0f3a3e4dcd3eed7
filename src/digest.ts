/**
 * SHA-256 over a run of parts, as lowercase hex: what names a snapshot, a folder of installed
 * wheels, and the state of the watched files.
 *
 * Boundary: shared by the supervisor and the config's package installer.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Hashes the parts one after another (strings as UTF-8), as if concatenated.
 *
 * @param parts what to hash
 * @returns 64 hex digits
 */
export async function sha256Hex(parts: readonly (string | Uint8Array)[]): Promise<string> {
  const bytes = parts.map((p) => typeof p === "string" ? encoder.encode(p) : p);
  const all = new Uint8Array(bytes.reduce((n, p) => n + p.length, 0));
  bytes.reduce((at, p) => (all.set(p, at), at + p.length), 0);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}
