/**
 * Outbound HTTP for Python's `http.Client`, run by Deno's fetch inside the worker. Clients with
 * the same TLS and pool settings share one pooled `Deno.createHttpClient`, so named clients
 * keep their connections across requests.
 *
 * Boundary: worker-side; Python (siphon/http.py) builds the URL and headers and turns the
 * result into an `http.Response`.
 *
 * @module
 */
import type { OutboundResponse, OutboundStream } from "../bridge/contract.ts";
import { ChunkReader, noteStreamed } from "../bridge/streams.ts";

/** The connection settings of a client (the per-request parts are not here). */
export interface ClientSpec {
  /** CA bundle (PEM file) to verify the server with, instead of the system roots. */
  verify?: string | null;
  /** Client certificate (PEM file; may hold the key too). */
  cert?: string | null;
  /** Client key (PEM file), when not in `cert`. */
  key?: string | null;
  /** Idle connections kept per host. */
  pool_size?: number;
  /** HTTP/2 without negotiation on cleartext. */
  http2_prior_knowledge?: boolean;
}

/** One outbound request as Python sends it (JSON): the client's settings, and the request. */
interface OutboundRequest {
  /** The client's {@link ClientSpec}, as JSON (the key its connection pool is kept under). */
  client: string;
  method: string;
  url: string;
  /** `[[name, value], …]` */
  headers: [string, string][];
  /** Whole request, body included. */
  timeout_ms: number;
}

/** One worker's outbound clients. */
export class Outbound {
  readonly #clients = new Map<string, Deno.HttpClient>();
  readonly #bodies = new Map<number, { reader: ChunkReader; what: string }>();
  #nextBody = 1;

  /**
   * Sends one request.
   *
   * @param request JSON {@link OutboundRequest}: client settings, method, URL, headers, timeout
   * @param body bytes, or null
   * @returns status, headers and body
   * @throws {Error} `METHOD URL: reason` for timeouts, refused connections, TLS failures
   */
  fetch(request: string, body: Uint8Array | null): Promise<OutboundResponse> {
    return this.#exchange(JSON.parse(request), body, async (res) => ({
      status: res.status,
      headers: pairsOf(res.headers),
      body: new Uint8Array(await res.arrayBuffer()),
    }));
  }

  /**
   * Sends one request and returns once the response head arrived; the body is read with
   * {@link read} (the timeout still covers all of it).
   *
   * @returns status, headers and the body's id
   * @throws {Error} `METHOD URL: reason`, as {@link fetch}
   */
  fetchStream(request: string, body: Uint8Array | null): Promise<OutboundStream> {
    const r: OutboundRequest = JSON.parse(request);
    return this.#exchange(r, body, (res) => {
      const id = this.#nextBody++;
      if (res.body) {
        this.#bodies.set(id, { reader: new ChunkReader(res.body), what: `${r.method} ${r.url}` });
      }
      return Promise.resolve({ status: res.status, headers: pairsOf(res.headers), id });
    });
  }

  /**
   * The next chunk of a streamed response body.
   *
   * @param id from {@link fetchStream}
   * @returns the chunk, or undefined at the end (Python sees None)
   * @throws {Error} `METHOD URL: reason` when the body fails (or times out) midway
   */
  async read(id: number): Promise<Uint8Array | undefined> {
    const body = this.#bodies.get(id);
    if (!body) return undefined;
    try {
      const chunk = await body.reader.read();
      if (chunk === undefined) this.#bodies.delete(id);
      else noteStreamed(chunk.byteLength);
      return chunk;
    } catch (e) {
      this.#bodies.delete(id);
      throw new Error(`${body.what}: the response body failed: ${describe(e)}`);
    }
  }

  /**
   * Stops reading a streamed response body (the connection is not reused).
   *
   * @param id from {@link fetchStream}
   */
  close(id: number): void {
    const body = this.#bodies.get(id);
    if (!body) return;
    this.#bodies.delete(id);
    body.reader.cancel();
  }

  /**
   * One request under its timeout, redirects followed as siphon-http's client (reqwest) follows
   * them: up to {@link MAX_REDIRECTS}; 301/302/303 continue as GET without the body (HEAD stays
   * HEAD), 307/308 repeat the method and body; credentials are dropped when the origin changes.
   * Failures read `METHOD URL: reason`.
   */
  async #exchange<T>(
    r: OutboundRequest,
    body: Uint8Array | null,
    use: (res: Response) => Promise<T>,
  ): Promise<T> {
    const signal = AbortSignal.timeout(r.timeout_ms);
    let hop = {
      method: r.method,
      url: r.url,
      headers: new Headers(r.headers),
      // An empty body on a GET is no body (fetch refuses any body on GET and HEAD).
      body: body?.byteLength === 0 && (r.method === "GET" || r.method === "HEAD") ? null : body,
    };
    try {
      for (let redirects = 0;; redirects++) {
        const res = await fetch(hop.url, {
          method: hop.method,
          headers: hop.headers,
          body: (hop.body ?? undefined) as BodyInit | undefined,
          client: this.#client(r.client),
          signal,
          redirect: "manual",
        });
        const next = redirectOf(res, hop);
        if (!next) return await use(res);
        await res.body?.cancel();
        if (redirects === MAX_REDIRECTS) {
          throw new Error(
            `too many redirects (more than ${MAX_REDIRECTS}; the last to ${next.url})`,
          );
        }
        hop = next;
      }
    } catch (e) {
      const reason = signal.aborted ? `timed out after ${r.timeout_ms} ms` : describe(e);
      throw new Error(`${r.method} ${r.url}: ${reason}`);
    }
  }

  #client(specJson: string): Deno.HttpClient {
    let client = this.#clients.get(specJson);
    if (client) return client;
    const spec: ClientSpec = JSON.parse(specJson);
    const read = (path: string, what: string) => {
      try {
        return Deno.readTextFileSync(path);
      } catch (e) {
        throw new Error(`cannot read the client ${what} ${path}: ${(e as Error).message}`);
      }
    };
    const cert = spec.cert ? read(spec.cert, "certificate") : undefined;
    client = Deno.createHttpClient({
      caCerts: spec.verify ? [read(spec.verify, "CA bundle")] : undefined,
      ...(cert ? { cert, key: spec.key ? read(spec.key, "key") : cert } : {}),
      poolMaxIdlePerHost: spec.pool_size ?? 16,
      http1: !spec.http2_prior_knowledge,
      http2: true,
    });
    this.#clients.set(specJson, client);
    return client;
  }
}

/** The most redirects one request follows (reqwest's default policy). */
export const MAX_REDIRECTS = 10;

/** One request of a redirect chain. */
interface Hop {
  method: string;
  url: string;
  headers: Headers;
  body: Uint8Array | null;
}

const CREDENTIALS = ["authorization", "cookie", "proxy-authorization", "www-authenticate"];
const BODY_HEADERS = ["content-type", "content-length", "content-encoding", "transfer-encoding"];

/**
 * The request a redirect response leads to, or null when it is not one to follow.
 *
 * @param res the response just received
 * @param hop the request that got it
 * @returns the next request
 */
export function redirectOf(res: Response, hop: Hop): Hop | null {
  const location = res.headers.get("location");
  if (location === null || ![301, 302, 303, 307, 308].includes(res.status)) return null;
  const url = new URL(location, hop.url);
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  const headers = new Headers(hop.headers);
  if (url.origin !== new URL(hop.url).origin) { for (const h of CREDENTIALS) headers.delete(h); }
  if (res.status === 307 || res.status === 308) {
    return { method: hop.method, url: url.href, headers, body: hop.body };
  }
  for (const h of BODY_HEADERS) headers.delete(h);
  const method = hop.method === "GET" || hop.method === "HEAD" ? hop.method : "GET";
  return { method, url: url.href, headers, body: null };
}

function pairsOf(headers: Headers): string {
  const pairs: [string, string][] = [];
  headers.forEach((v, k) => pairs.push([k, v]));
  return JSON.stringify(pairs);
}

function describe(e: unknown): string {
  const err = e as Error & { cause?: unknown };
  if (err?.name === "NotCapable") {
    const host = /access to "([^"]+)"/.exec(err.message)?.[1] ?? "that host";
    return `this worker may not reach ${host}: Python reaches the configured clients, Redis and ` +
      `python.allow_net only; add "${host}" to python.allow_net in the config`;
  }
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`.replace(/\s+/g, " ").trim();
}
