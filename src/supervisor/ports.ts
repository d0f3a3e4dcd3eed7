/**
 * Refuses an address another process holds. Workers bind every listener with SO_REUSEPORT so
 * that they share it, but the kernel lets any other process of the same user share it too: a
 * forgotten server on 8080 and a new one would silently split the traffic. So before this
 * process first opens an address, the supervisor binds it once *without* SO_REUSEPORT, which
 * fails while anyone else holds it, and closes it again at once. Addresses this process already
 * serves (its own workers, across reloads and recycling) are not probed.
 *
 * Boundary: main thread, at boot and before a reload prepares; never on the request path.
 *
 * @module
 */
import type { Config } from "../config/load.ts";

/** Where a listener binds. */
type Listen = Config["servers"][number]["listen"];

/** A listener address another process holds. */
export class AddressInUseError extends Error {
  /**
   * @param listen the address
   * @param where the config key, e.g. `servers[0].listen in /etc/siphon/http.yaml`
   */
  constructor(readonly listen: Listen, where: string) {
    super(
      `address ${listen.text} is already in use (another process listens there); stop that ` +
        `process or change ${where}`,
    );
    this.name = "AddressInUseError";
  }
}

/**
 * Checks that no other process holds the addresses `config` adds to those already served.
 *
 * @param config the config about to be served
 * @param serving addresses (`host:port`) this process already listens on
 * @throws {AddressInUseError} for the first address another process holds
 */
export function assertAddressesFree(
  config: Config,
  serving: ReadonlySet<string> = new Set(),
): void {
  config.servers.forEach((server, i) => {
    const { listen } = server;
    if (serving.has(listen.text)) return;
    let probe: Deno.Listener | null = null;
    try {
      probe = Deno.listen({ hostname: listen.hostname, port: listen.port });
    } catch (e) {
      if (e instanceof Deno.errors.AddrInUse) {
        throw new AddressInUseError(listen, `servers[${i}].listen in ${config.file}`);
      }
      // Anything else (an address not on this host, a privileged port) the workers report.
    } finally {
      probe?.close();
    }
  });
}
