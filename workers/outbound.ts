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

/** What Python gets back: headers as JSON pairs, the body as bytes. */
export interface OutboundResponse {
  status: number;
  headers: string;
  body: Uint8Array;
}

/** One worker's outbound clients. */
export class Outbound {
  readonly #clients = new Map<string, Deno.HttpClient>();

  /**
   * Sends one request.
   *
   * @param spec connection settings (JSON from Python)
   * @param method HTTP method
   * @param url absolute URL
   * @param headers JSON `[[name, value], …]`
   * @param body bytes, or null
   * @param timeoutMs whole request, body included
   * @returns status, headers and body
   * @throws {Error} `METHOD URL: reason` for timeouts, refused connections, TLS failures
   */
  async fetch(
    spec: string,
    method: string,
    url: string,
    headers: string,
    body: Uint8Array | null,
    timeoutMs: number,
  ): Promise<OutboundResponse> {
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const res = await fetch(url, {
        method,
        headers: JSON.parse(headers),
        body: (body ?? undefined) as BodyInit | undefined,
        client: this.#client(spec),
        signal,
        redirect: "manual",
      });
      const bytes = new Uint8Array(await res.arrayBuffer());
      const pairs: [string, string][] = [];
      res.headers.forEach((v, k) => pairs.push([k, v]));
      return { status: res.status, headers: JSON.stringify(pairs), body: bytes };
    } catch (e) {
      const reason = signal.aborted ? `timed out after ${timeoutMs} ms` : describe(e);
      throw new Error(`${method} ${url}: ${reason}`);
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

function describe(e: unknown): string {
  const err = e as Error & { cause?: unknown };
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : "";
  return `${err.message}${cause}`.replace(/\s+/g, " ").trim();
}
