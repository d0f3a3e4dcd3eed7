/**
 * The admin listener (supervisor side, never the request path): `/healthz` (process alive),
 * `/readyz` (every worker ready and not draining), `/metrics` (Prometheus). It has its own
 * address, so it never shadows a user route.
 *
 * @module
 */
import type { Config } from "../config/load.ts";
import type { Logger } from "../log.ts";
import { keepServing, type KeptServer } from "../keep_serving.ts";

/** Options for {@link startAdmin}. */
export interface AdminOptions {
  /** The config's `admin:`; null (`admin: false`) starts nothing. */
  admin: Config["admin"];
  log: Logger;
  /** Whether the server takes traffic: every worker committed, not stopping. */
  ready: () => boolean;
  /** The Prometheus page, or null while `admin.metrics` is false. */
  metrics: () => Promise<string> | null;
}

/**
 * Starts the admin listener. An address given in http.yaml, by `--admin` or by SIPHON_ADMIN must
 * bind; the default address (127.0.0.1:9091) only warns when it is taken, so several servers can
 * share a host. Port 0 binds a free port, which the log line names.
 *
 * @param options address, readiness and metrics sources
 * @returns the server (kept accepting), or null when there is none or the default address was taken
 * @throws {Error} when an explicitly configured address cannot bind
 */
export async function startAdmin(options: AdminOptions): Promise<KeptServer | null> {
  if (!options.admin) return null;
  const { listen, explicit } = options.admin;
  const text = (status: number, body: string, type = "text/plain; charset=utf-8") =>
    new Response(body, { status, headers: { "content-type": type } });
  const handler = async (req: Request) => {
    const path = new URL(req.url).pathname;
    if (path === "/healthz") return text(200, "ok\n");
    if (path === "/readyz") {
      return options.ready() ? text(200, "ready\n") : text(503, "not ready\n");
    }
    if (path === "/metrics") {
      const page = options.metrics();
      if (page === null) {
        return text(404, "Not Found: metrics are off (admin.metrics: false in http.yaml)\n");
      }
      return text(200, await page, "text/plain; version=0.0.4; charset=utf-8");
    }
    return text(404, "Not Found: the admin listener serves /healthz, /readyz and /metrics\n");
  };
  let address = listen.text; // as bound: port 0 takes whatever the system gives
  const start = async () => {
    let bound!: () => void;
    const listening = new Promise<void>((resolve) => bound = resolve);
    const server = Deno.serve({
      hostname: listen.hostname,
      port: listen.port,
      onListen: ({ hostname, port }) => {
        address = `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
        bound();
      },
      onError: (e) => {
        options.log.error(`admin listener: ${(e as Error).message}`);
        return text(500, "Internal Server Error\n");
      },
    }, handler);
    await listening;
    return server;
  };
  let kept: KeptServer;
  try {
    // Kept accepting: descriptor exhaustion ends Deno.serve's accept loop (src/keep_serving.ts).
    kept = await keepServing({
      name: `admin listener ${listen.text}`,
      start,
      log: () => options.log,
    });
  } catch (e) {
    const message = `admin listener ${listen.text}: ${(e as Error).message}`;
    const elsewhere = "admin.listen in http.yaml, --admin HOST:PORT or SIPHON_ADMIN=HOST:PORT";
    if (explicit) {
      throw new Error(`${message}; pick another address (${elsewhere}) or turn it off (off)`);
    }
    options.log.warning(`${message}; running without it (set ${elsewhere})`);
    return null;
  }
  options.log.info(`admin listener on http://${address} (/healthz /readyz /metrics)`);
  return kept;
}
