/**
 * Naming a request's OpenTelemetry span after its route.
 *
 * Boundary: worker-side; the request path calls what this returns once per routed request.
 *
 * @module
 */
import type { RequestContext } from "./context.ts";

/**
 * With Deno's OpenTelemetry on (`OTEL_DENO=true`), Deno.serve opens a span per request named
 * after the method; this renames it `GET /users/{id}` and sets `http.route`, as the HTTP
 * semantic conventions ask. The supervisor says whether it is on (a worker reads no
 * environment); without it, the API is not even loaded.
 *
 * @returns the namer
 */
export async function spanNamer(): Promise<NonNullable<RequestContext["traceRoute"]>> {
  const { trace } = await import("@opentelemetry/api");
  return (method, template) => {
    const span = trace.getActiveSpan();
    if (!span) return;
    span.updateName(`${method} ${template}`);
    span.setAttribute("http.route", template);
  };
}
