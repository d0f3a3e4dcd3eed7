/**
 * The Starlette benchmark app as an `app:` project, for bench:asgi and bench:bytecodes.
 *
 * @module
 */
import { join } from "node:path";
import { debianWheels } from "../harness/wheels.ts";
import { ROOT } from "./_proc.ts";

/**
 * A temporary folder with bench/peers/starlette_app.py, its wheels (built from Debian's
 * python3-starlette, -anyio, -sniffio, -idna) and two configs: `http.yaml` serves the app as
 * `app:`, `loop.yaml` serves bench/peers/asgi_loop.py (the app alone in a loop at `GET /loop`).
 * Both read WORKERS, ADMIN_PORT, METRICS and PORT from the environment.
 *
 * @returns the folder (the caller removes it)
 */
export function asgiProject(): string {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-bench-asgi-" });
  for (const file of ["starlette_app.py", "asgi_loop.py"]) {
    Deno.copyFileSync(join(ROOT, "bench", "peers", file), join(dir, file));
  }
  Deno.mkdirSync(join(dir, "wheels"));
  debianWheels(join(dir, "wheels"), ["starlette", "anyio", "sniffio", "idna"]);
  for (
    const [config, app] of [["http.yaml", "starlette_app:app"], ["loop.yaml", "asgi_loop:app"]]
  ) {
    Deno.writeTextFileSync(
      join(dir, config),
      [
        `app: ${app}`,
        "workers: ${WORKERS}",
        "log: { level: warning }",
        'admin: { listen: "127.0.0.1:${ADMIN_PORT}", metrics: "${METRICS}" }',
        "python:",
        "  packages: [starlette, anyio, sniffio, idna]",
        "servers:",
        '  - listen: "127.0.0.1:${PORT}"',
        "",
      ].join("\n"),
    );
  }
  return dir;
}
