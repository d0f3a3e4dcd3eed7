/**
 * One `HttpTestHarness.request` through a loaded script's request path: the harness's call
 * made into the `Request` Deno.serve would have handed over (from a made-up peer address), and
 * the response read back whole.
 *
 * Boundary: the test thread only (./testing.ts).
 *
 * @module
 */
import type { Config } from "../../src/config/load.ts";
import type { HarnessAnswer } from "../bridge/contract.ts";
import type { Handler } from "../serve/request_path.ts";

/** A harness request (../bridge/contract.ts `HarnessForPython.request`). */
export interface HarnessCall {
  method: string;
  /** Path and query, starting with `/`. */
  target: string;
  headers: [string, string][];
  /** The peer's `host:port` as the handler should see it. */
  client: string;
}

/**
 * Sends one request through the loaded script's request path.
 *
 * @param loaded the loaded script's config and handler
 * @param call the request, with its body
 * @returns status, headers (JSON pairs) and body
 * @throws {Error} when the request could not be made (a body on GET, a path without `/`)
 */
export async function harnessRequest(
  loaded: { config: Config; handle: Handler },
  call: HarnessCall & { body: Uint8Array | null },
): Promise<HarnessAnswer> {
  const { method, target, body, client } = call;
  if (!target.startsWith("/")) throw new Error(`path must start with "/", got "${target}"`);
  if (body && (method === "GET" || method === "HEAD")) {
    throw new Error(`a ${method} request cannot carry a body here (Deno's Request refuses it)`);
  }
  const colon = client.lastIndexOf(":");
  const info = {
    remoteAddr: {
      transport: "tcp",
      hostname: client.slice(0, colon).replace(/^\[|\]$/g, ""),
      port: Number(client.slice(colon + 1)),
    },
    completed: Promise.resolve(),
  } as unknown as Deno.ServeHandlerInfo;
  const { listen } = loaded.config.servers[0];
  const req = new Request(`http://${listen.text}${target}`, {
    method,
    headers: call.headers,
    body: (body ?? undefined) as BodyInit | undefined,
  });
  const res = await loaded.handle(req, info);
  const bytes = method === "HEAD" ? new Uint8Array() : new Uint8Array(await res.arrayBuffer());
  const pairs: [string, string][] = [];
  res.headers.forEach((v, k) => pairs.push([k, v]));
  return { status: res.status, headers: JSON.stringify(pairs), body: bytes };
}
