/**
 * Static folders (`static:` in http.yaml, or a listener's), served by Deno without Python. A
 * request whose path no route matched and that falls under a mount's prefix is answered from
 * the mount's folder: GET and HEAD; `ETag` (weak, from size and modification time) with
 * `If-None-Match`, `Last-Modified` with `If-Modified-Since` (304s); one byte range (206, or 416
 * with `Content-Range: bytes *\/size`; several ranges get the whole file, as RFC 9110 allows); a
 * precompressed `.br` or `.gz` sibling when `Accept-Encoding` takes it (`Vary: Accept-Encoding`);
 * the mount's `cache_control`; `index.html` for a folder (a folder asked for without its
 * trailing slash is redirected to it), and a listing only when the mount says `listing: true`.
 *
 * Refused: `.`/`..` segments, encoded slashes and NUL (400), names starting with a dot (404:
 * `.env`, `.git`), and any file whose real path — symlinks followed — is outside the folder
 * (404, the same answer as a file that is not there, so the tree cannot be probed).
 *
 * The HTTP semantics come from the libraries Express's `send` is built on, which work on plain
 * headers: `range-parser`, `fresh` (conditional GET), `etag`, `mime-types`, `negotiator`
 * (Accept-Encoding); this module is the file handling around them. (hono's `serveStatic` has
 * no ranges, no Last-Modified and no stat-based ETag, and follows symlinks out of its root.)
 *
 * Boundary: worker-side, on the request path (./request_path.ts); reads files only.
 *
 * @module
 */
import etag from "etag";
import fresh from "fresh";
import mime from "mime-types";
import Negotiator from "negotiator";
import rangeParser from "range-parser";
import { answer, errorResponse } from "../../src/http/errors.ts";
import type { ServerConfig } from "./context.ts";
import { type Found, Kept } from "./static_kept.ts";

/** One mount as the config gives it (folder absolute). */
export type StaticMount = ServerConfig["static"][number];

/** Precompressed siblings, in the order they are preferred. */
const ENCODINGS: readonly [string, string][] = [["br", ".br"], ["gzip", ".gz"]];
/** A whole file up to this size is read at once; a larger one (or a range) is streamed. */
const WHOLE_BYTES = 256 * 1024;
/** Where a client likes two encodings as much, the first of these wins. */
const PREFERRED = [...ENCODINGS.map(([name]) => name), "identity"];

/** What this worker keeps of the folders (./static_kept.ts), shared by its listeners. */
const kept = new Kept();

/** How much this worker keeps now (./static_kept.ts `KEPT_BOUNDS` bounds it). */
export const keptCounts = (): ReturnType<Kept["counts"]> => kept.counts();

/** One request for a static file. */
interface Ask {
  req: Request;
  mount: StaticMount;
  /** The mount's folder, real (symlinks resolved). */
  root: string;
  /** The request path, and what follows the prefix. */
  path: string;
  rest: string;
}

/** A listener's static folders. */
export class StaticFiles {
  readonly #mounts: { mount: StaticMount; root: string | null; label: string }[];

  /** @param mounts the listener's mounts, in the order they are tried */
  constructor(mounts: readonly StaticMount[]) {
    this.#mounts = mounts.map((mount) => ({
      mount,
      root: realRoot(mount.dir),
      label: mount.path === "/" ? "/{*file}" : `${mount.path}/{*file}`,
    }));
  }

  /**
   * The mount a path falls under (the first whose prefix it starts with), with the rest of the
   * path after the prefix, or null.
   *
   * @param path the request path, still percent-encoded
   */
  match(path: string): { label: string; serve: (req: Request) => Promise<Response> } | null {
    for (const m of this.#mounts) {
      const prefix = m.mount.path;
      const rest = prefix === "/"
        ? path
        : path === prefix || path.startsWith(prefix + "/")
        ? path.slice(prefix.length)
        : null;
      if (rest === null) continue;
      const { mount, root } = m;
      return {
        label: m.label,
        serve: (req) =>
          root === null
            ? Promise.resolve(answer("notFound"))
            : serve({ req, mount, root, path, rest }),
      };
    }
    return null;
  }
}

/** The folder's real path (symlinks resolved), or null when it is gone. */
function realRoot(dir: string): string | null {
  try {
    return Deno.realPathSync(dir);
  } catch {
    return null;
  }
}

async function serve(ask: Ask): Promise<Response> {
  const { req, root, path, rest } = ask;
  if (req.method !== "GET" && req.method !== "HEAD") {
    return answer("methodNotAllowed", { allow: "GET, HEAD" });
  }
  const segments = decodeSegments(rest);
  if (segments === null) return errorResponse(400, "Bad Request: malformed static file path");
  if (segments.some((s) => s.startsWith("."))) return answer("notFound");
  const wanted = [root, ...segments].join("/");
  const found = kept.open(root, wanted);
  if (!found) return answer("notFound");
  if (found.info.isDirectory) {
    if (!path.endsWith("/")) {
      const query = new URL(req.url).search;
      return new Response(null, { status: 301, headers: { location: `${path}/${query}` } });
    }
    const index = kept.open(root, `${found.path}/index.html`);
    if (index?.info.isFile) return answerFile(ask, index);
    return ask.mount.listing ? await listing(req, found.path, segments) : answer("notFound");
  }
  if (!found.info.isFile) return answer("notFound");
  return answerFile(ask, found);
}

/** The path's segments, percent-decoded; null for `.`/`..`, an encoded `/` or `\`, or NUL. */
function decodeSegments(rest: string): string[] | null {
  const out: string[] = [];
  for (const raw of rest.split("/")) {
    if (raw === "") continue;
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (seg === "." || seg === ".." || /[\/\\\0]/.test(seg)) return null;
    out.push(seg);
  }
  return out;
}

/** A file's answer: the representation (a precompressed sibling?), then {@link answerWith}. */
function answerFile(ask: Ask, file: Found): Response {
  const { req, root } = ask;
  const headers = new Headers();
  const name = file.path.slice(file.path.lastIndexOf("/") + 1);
  headers.set("content-type", mime.contentType(name) || "application/octet-stream");
  let chosen = file;
  const siblings = new Map<string, Found>();
  const folder = file.path.slice(0, file.path.lastIndexOf("/")) || "/";
  for (const [encoding, suffix] of ENCODINGS) {
    if (!kept.listed(folder, name + suffix)) continue;
    const sibling = kept.open(root, file.path + suffix);
    if (sibling?.info.isFile) siblings.set(encoding, sibling);
  }
  if (siblings.size > 0) {
    headers.set("vary", "Accept-Encoding"); // the answer depends on it, whichever is chosen
    const accepted = req.headers.get("accept-encoding");
    const best = accepted === null ? undefined : new Negotiator({
      headers: { "accept-encoding": accepted },
    }).encoding([...siblings.keys(), "identity"], { preferred: PREFERRED }); // ties: smaller
    const sibling = best ? siblings.get(best) : undefined;
    if (sibling) {
      chosen = sibling;
      headers.set("content-encoding", best!);
    }
  }
  return answerWith(ask, chosen, headers);
}

/** The chosen representation's answer: validators, conditional GET, range, body. */
function answerWith(ask: Ask, chosen: Found, headers: Headers): Response {
  const { req, mount } = ask;
  const size = chosen.info.size;
  const mtime = chosen.info.mtime ?? new Date(0);
  // etag takes what fs.stat gives: a weak tag from size and modification time
  const stat = { size, mtime, ctime: mtime, ino: 0 } as unknown as Parameters<typeof etag>[0];
  const tag = etag(stat, { weak: true });
  headers.set("etag", tag);
  const modified = mtime.toUTCString();
  headers.set("last-modified", modified);
  headers.set("accept-ranges", "bytes");
  if (mount.cache_control) headers.set("cache-control", mount.cache_control);
  const conditional = {
    "if-none-match": req.headers.get("if-none-match") ?? undefined,
    "if-modified-since": req.headers.get("if-modified-since") ?? undefined,
  };
  if (fresh(conditional, { etag: tag, "last-modified": modified })) {
    for (const h of ["content-type", "accept-ranges", "content-encoding"]) headers.delete(h);
    return new Response(null, { status: 304, headers });
  }
  let start = 0;
  let length = size;
  let status = 200;
  const range = req.headers.get("range");
  if (range !== null && rangeApplies(req, tag, mtime)) {
    const ranges = rangeParser(size, range, { combine: true });
    if (ranges === -1) {
      return new Response(null, {
        status: 416,
        headers: { "content-range": `bytes */${size}`, "accept-ranges": "bytes" },
      });
    }
    if (ranges !== -2 && ranges.length === 1 && ranges.type === "bytes") {
      start = ranges[0].start;
      length = ranges[0].end - start + 1;
      status = 206;
      headers.set("content-range", `bytes ${start}-${ranges[0].end}/${size}`);
    }
  }
  headers.set("content-length", String(length));
  if (req.method === "HEAD" || length === 0) return new Response(null, { status, headers });
  if (status === 200 && length <= WHOLE_BYTES) {
    const bytes = kept.bytesOf(chosen);
    headers.set("content-length", String(bytes.byteLength)); // as read, should it have changed
    return new Response(bytes, { status, headers });
  }
  // its own handle: the cached one's position is shared by every request of this worker
  return new Response(fileStream(Deno.openSync(chosen.path), start, length), { status, headers });
}

/** Whether `If-Range` (if any) still names this representation, so the range may be served. */
function rangeApplies(req: Request, tag: string, mtime: Date): boolean {
  const ifRange = req.headers.get("if-range");
  if (ifRange === null) return true;
  if (ifRange.includes('"')) return ifRange === tag; // a weak tag never matches (RFC 9110)
  const at = Date.parse(ifRange);
  return !Number.isNaN(at) && Math.floor(mtime.getTime() / 1000) * 1000 <= at;
}

/** `length` bytes of an open file from `start`, read as the client takes them; then closed. */
function fileStream(file: Deno.FsFile, start: number, length: number): ReadableStream<Uint8Array> {
  let left = length;
  let seeked = start === 0;
  const close = () => {
    try {
      file.close();
    } catch { /* closed */ }
  };
  return new ReadableStream<Uint8Array>({
    type: "bytes",
    async pull(controller) {
      if (!seeked) {
        await file.seek(start, Deno.SeekMode.Start);
        seeked = true;
      }
      const buf = new Uint8Array(Math.min(64 * 1024, left));
      const n = await file.read(buf);
      if (n === null || n === 0) {
        close();
        controller.close();
        return;
      }
      left -= n;
      controller.enqueue(buf.subarray(0, n));
      if (left === 0) {
        close();
        controller.close();
      }
    },
    cancel: close,
  });
}

/** A folder's listing: names (escaped), folders first, no dot-files. */
async function listing(req: Request, dir: string, segments: string[]): Promise<Response> {
  const entries: { name: string; folder: boolean }[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.name.startsWith(".")) entries.push({ name: e.name, folder: e.isDirectory });
    if (entries.length > 10_000) break;
  }
  entries.sort((a, b) => Number(b.folder) - Number(a.folder) || a.name.localeCompare(b.name));
  const esc = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const items = entries.map((e) => {
    const href = encodeURIComponent(e.name) + (e.folder ? "/" : "");
    return `<li><a href="${esc(href)}">${esc(e.name)}${e.folder ? "/" : ""}</a></li>`;
  }).join("\n");
  const title = esc(`/${segments.map((s) => s + "/").join("")}`);
  const body = `<!doctype html><meta charset="utf-8"><title>${title}</title>` +
    `<h1>${title}</h1><ul>\n${items}\n</ul>\n`;
  return new Response(req.method === "HEAD" ? null : body, {
    headers: { "content-type": "text/html; charset=utf-8" },
  });
}
