/**
 * A generation's route table: the http.yaml routes and the script's decorator routes compiled
 * into one frozen {@link Router}, and Python's dispatch table installed to match it (route ids
 * agree on both sides). Used by a worker for each generation and by the script test harness.
 *
 * @module
 */
import type { PyProxy } from "pyodide/ffi";
import type { Config } from "../../src/config/load.ts";
import { type RouteDef, Router } from "../../src/router/router.ts";
import { parseTemplate } from "../../src/router/template.ts";

/** The compiled table. */
export interface CompiledRoutes {
  router: Router;
  /** Route templates by route id (metrics, traces, the access log). */
  labels: string[];
  /** Every route as compiled, by route id. */
  defs: RouteDef[];
  /** By route id: whether the handler reads its body as a stream (`stream=True`). */
  streaming: boolean[];
  /** By route id: whether it is a websocket route. */
  websocket: boolean[];
  /** The ASGI app's route id (after every other route), or -1 without `app:`. */
  app: number;
}

/** The app route's label until the app says which of its routes answered. */
export const APP_LABEL = "(app)";

/**
 * Compiles the routes and installs the matching dispatch table in Python.
 *
 * @param config the generation's config (its `routes:`)
 * @param decorated the script's `@http.route`s and `@http.websocket`s:
 *   `[template, methods, "file:line", stream, websocket]`
 * @param runtime Python's `siphon._runtime`, with the script loaded
 * @returns the router and the labels
 * @throws {Error} on a route conflict, naming both places
 */
export function compileRoutes(
  config: Config,
  decorated: [string, string[], string, boolean, boolean][],
  runtime: PyProxy,
): CompiledRoutes {
  const defs: RouteDef[] = [
    ...config.routes.map((r, id) => ({
      template: r.path,
      methods: r.methods,
      id,
      source: r.source,
    })),
    ...decorated.map(([template, methods, source], i) => ({
      template,
      methods,
      id: config.routes.length + i,
      source,
    })),
  ];
  const router = Router.compile(defs);
  const websocket = [...config.routes.map((r) => r.websocket), ...decorated.map((d) => d[4])];
  const entries: unknown[][] = defs.map((d) => {
    const params = parseTemplate(d.template).flatMap((s) =>
      s.kind === "static" ? [] : [[s.name, s.kind === "param" ? s.type : "str"]]
    );
    const handler = d.id < config.routes.length
      ? config.routes[d.id].handler
      : d.id - config.routes.length;
    const label = websocket[d.id] ? `WS ${d.template}` : `${d.methods.join(",")} ${d.template}`;
    return [d.source, handler, params, label, websocket[d.id]];
  });
  // The app takes what no route takes, body unread: its route comes last, and the router never
  // returns it (the request path sends 404s and 405s there).
  const app = config.app ? defs.length : -1;
  if (config.app) entries.push([config.app.source, null, [], `app ${config.app.spec}`, false]);
  runtime.install(JSON.stringify(entries));
  const labels = defs.map((d) => d.template);
  const streaming = [...config.routes.map((r) => r.stream), ...decorated.map((d) => d[3])];
  if (config.app) {
    labels.push(APP_LABEL);
    streaming.push(true);
    websocket.push(false);
  }
  return { router, labels, defs, streaming, websocket, app };
}
