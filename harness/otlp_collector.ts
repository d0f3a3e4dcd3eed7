/**
 * A mock OpenTelemetry collector on 127.0.0.1 for the tests: it takes OTLP/HTTP JSON
 * (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`) and keeps the spans and service names it was sent.
 *
 * @module
 */

/** A span as OTLP JSON has it, as far as the tests read it. */
export interface Span {
  name: string;
  kind: number;
  traceId: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string } }[];
}

/** A collector: what it received, the environment that points a server at it, and its end. */
export interface Collector {
  spans: Span[];
  services: Set<string>;
  /** `OTEL_*` variables for a server that exports to this collector. */
  env(service: string): Record<string, string>;
  shutdown(): Promise<void>;
}

/**
 * Starts a collector on a free 127.0.0.1 port.
 *
 * @returns the collector
 */
export function startCollector(): Collector {
  const spans: Span[] = [];
  const services = new Set<string>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const body = await req.json();
      for (const r of body.resourceSpans ?? []) {
        for (const a of r.resource?.attributes ?? []) {
          if (a.key === "service.name") services.add(a.value.stringValue);
        }
        for (const s of r.scopeSpans) spans.push(...s.spans);
      }
      return Response.json({ partialSuccess: {} });
    },
  );
  return {
    spans,
    services,
    env: (service) => ({
      OTEL_DENO: "true",
      OTEL_SERVICE_NAME: service,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
      OTEL_DENO_CONSOLE: "ignore",
    }),
    shutdown: () => server.shutdown(),
  };
}

/**
 * An attribute of a span, as text.
 *
 * @param span the span
 * @param key the attribute's key
 * @returns its string or integer value, or undefined
 */
export function attribute(span: Span, key: string): string | undefined {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? value?.intValue;
}
