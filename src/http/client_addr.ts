/**
 * The request's client address: the socket peer, or the left-most `X-Forwarded-For` entry when
 * the peer is a trusted proxy. Trusted proxies are IPs and CIDR ranges, IPv4 and IPv6.
 *
 * Boundary: pure wire-layer helper; the worker calls {@link clientAddress} per request, the
 * config loader calls {@link parseTrusted} to validate `trusted_proxies`.
 *
 * @module
 */

/** A parsed address: family and value (IPv4 in the low 32 bits; IPv6 as 128 bits). */
interface Ip {
  v6: boolean;
  value: bigint;
}

/** A parsed `trusted_proxies` entry. */
interface Range {
  v6: boolean;
  base: bigint;
  mask: bigint;
}

/** The trusted-proxy set of one listener. */
export interface Trusted {
  readonly ranges: readonly Range[];
}

/**
 * Parses an IPv4 or IPv6 address (an IPv4-mapped IPv6 address counts as IPv4).
 *
 * @param text e.g. `10.0.0.1`, `::1`, `2001:db8::7`, `::ffff:127.0.0.1`
 * @returns the address, or null when `text` is not one
 */
export function parseIp(text: string): Ip | null {
  const t = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (t.includes(":")) {
    const v6 = parseV6(t);
    if (v6 === null) return null;
    if (v6 >> 32n === 0xffffn) return { v6: false, value: v6 & 0xffffffffn };
    return { v6: true, value: v6 };
  }
  const v4 = parseV4(t);
  return v4 === null ? null : { v6: false, value: v4 };
}

function parseV4(t: string): bigint | null {
  const parts = t.split(".");
  if (parts.length !== 4) return null;
  let out = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255 || (p.length > 1 && p[0] === "0")) return null;
    out = (out << 8n) | BigInt(p);
  }
  return out;
}

function parseV6(text: string): bigint | null {
  let t = text.includes("%") ? text.slice(0, text.indexOf("%")) : text;
  let tail: bigint[] = [];
  const lastColon = t.lastIndexOf(":");
  if (t.slice(lastColon + 1).includes(".")) {
    // Embedded IPv4 (::ffff:1.2.3.4): two 16-bit words at the end.
    const v4 = parseV4(t.slice(lastColon + 1));
    if (v4 === null) return null;
    tail = [v4 >> 16n, v4 & 0xffffn];
    t = t.slice(0, lastColon + 1);
    if (!t.endsWith("::")) t = t.slice(0, -1);
  }
  const halves = t.split("::");
  if (halves.length > 2) return null;
  const words = (s: string) =>
    s === "" ? [] : s.split(":").map((g) => /^[0-9a-fA-F]{1,4}$/.test(g) ? BigInt(`0x${g}`) : -1n);
  const head = words(halves[0]);
  const rest = halves.length === 2 ? words(halves[1]) : [];
  if ([...head, ...rest].some((w) => w < 0n)) return null;
  const count = head.length + rest.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return null;
  const zeros: bigint[] = Array(8 - count).fill(0n);
  return [...head, ...zeros, ...rest, ...tail].reduce((acc, w) => (acc << 16n) | w, 0n);
}

/**
 * Parses `trusted_proxies` entries.
 *
 * @param entries IPs and CIDR ranges, e.g. `["10.0.0.0/8", "::1", "fd00::/8"]`
 * @returns the set, or the first entry that is not an IP or CIDR range
 * @example
 * ```ts
 * const t = parseTrusted(["10.0.0.0/8"]);
 * if ("error" in t) throw new Error(t.error);
 * ```
 */
export function parseTrusted(
  entries: readonly string[],
): Trusted | { error: string; index: number } {
  const ranges: Range[] = [];
  for (let index = 0; index < entries.length; index++) {
    const [addr, bits, extra] = entries[index].trim().split("/");
    const ip = extra === undefined ? parseIp(addr) : null;
    const width = ip?.v6 ? 128 : 32;
    const prefix = bits === undefined ? width : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (!ip || !(prefix >= 0 && prefix <= width)) {
      return {
        index,
        error: `expected an IP address or CIDR range like 10.0.0.0/8 or fd00::/8, got ` +
          JSON.stringify(entries[index]),
      };
    }
    const all = (1n << BigInt(width)) - 1n;
    const mask = all ^ ((1n << BigInt(width - prefix)) - 1n);
    ranges.push({ v6: ip.v6, base: ip.value & mask, mask });
  }
  return { ranges };
}

/**
 * Whether an address is in the trusted set.
 *
 * @param trusted the listener's set
 * @param address the socket peer's address
 * @returns true when a range contains it
 */
export function isTrusted(trusted: Trusted, address: string): boolean {
  if (trusted.ranges.length === 0) return false;
  const ip = parseIp(address);
  if (!ip) return false;
  return trusted.ranges.some((r) => r.v6 === ip.v6 && (ip.value & r.mask) === r.base);
}

/**
 * The client of a request as Python sees it in `req.client`.
 *
 * @param peer the socket peer
 * @param forwardedFor the `X-Forwarded-For` header, if any
 * @param trusted the listener's trusted proxies
 * @returns `"ip:port"` of the peer (`"[v6]:port"`), or the left-most forwarded address as sent
 *   when the peer is trusted and the header holds a valid one
 */
export function clientAddress(
  peer: { hostname: string; port: number },
  forwardedFor: string | null,
  trusted: Trusted,
): string {
  if (forwardedFor !== null && isTrusted(trusted, peer.hostname)) {
    const first = forwardedFor.split(",")[0].trim();
    if (parseIp(withoutPort(first))) return first;
  }
  return peer.hostname.includes(":")
    ? `[${peer.hostname}]:${peer.port}`
    : `${peer.hostname}:${peer.port}`;
}

/** `1.2.3.4:80` → `1.2.3.4`, `[::1]:80` → `::1`; a bare address is returned as is. */
function withoutPort(entry: string): string {
  if (entry.startsWith("[")) return entry.slice(1, entry.indexOf("]"));
  const colons = entry.split(":").length - 1;
  return colons === 1 ? entry.slice(0, entry.indexOf(":")) : entry;
}

/**
 * `ip:port` of the peer, or the forwarded client when the peer is a trusted proxy: what Python
 * sees as `req.client` and the access log writes.
 *
 * @param req the request (its `X-Forwarded-For`)
 * @param info Deno's connection info (the peer)
 * @param trusted the listener's `trusted_proxies`, parsed
 * @returns the client address
 */
export function clientOf(req: Request, info: Deno.ServeHandlerInfo, trusted: Trusted): string {
  const addr = info.remoteAddr as Deno.NetAddr;
  // Without trusted proxies (the common case) the header is not even read.
  const forwarded = trusted.ranges.length ? req.headers.get("x-forwarded-for") : null;
  return clientAddress(addr, forwarded, trusted);
}
