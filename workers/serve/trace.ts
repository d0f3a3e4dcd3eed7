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
 * semantic conventions ask. Without it, the API is not even loaded.
 *
 * @returns the namer, or null when tracing is off
 */
export async function spanNamer(): Promise<RequestContext["traceRoute"]> {
  if (!/^(true|1)$/i.test(Deno.env.get("OTEL_DENO") ?? "")) return null;
  const { trace } = await import("@opentelemetry/api");
  return (method, template) => {
    const span = trace.getActiveSpan();
    if (!span) return;
    span.updateName(`${method} ${template}`);
    span.setAttribute("http.route", template);
  };
}
