/**
 * The admin listener's address when neither http.yaml, `--admin` nor SIPHON_ADMIN set one: read
 * by the schema and by the command line (`health`), which loads before the schema's modules.
 *
 * @module
 */

/** Host and port of the default admin listener. */
export const DEFAULT_ADMIN = { hostname: "127.0.0.1", port: 9091 } as const;

/** {@link DEFAULT_ADMIN} as `host:port`. */
export const DEFAULT_ADMIN_TEXT = `${DEFAULT_ADMIN.hostname}:${DEFAULT_ADMIN.port}`;
