/**
 * Deno's built-in OpenTelemetry (`OTEL_DENO=true`): each request's span is named after its
 * route template (`GET /async/{tag}`) with `http.route` set, exported over OTLP to a collector —
 * here a mock one on 127.0.0.1 that takes OTLP/HTTP JSON.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, fresh, ROOT, startServer } from "../../harness/launch.ts";

interface Span {
  name: string;
  kind: number;
  traceId: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string } }[];
}

function attribute(span: Span, key: string): string | undefined {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value?.stringValue ?? value?.intValue;
}

Deno.test("OTEL_DENO=true: request spans are named after the route template", async () => {
  const spans: Span[] = [];
  const services = new Set<string>();
  const collector = Deno.serve(
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
  const port = freePort();
  const server = await startServer({
    config: join(ROOT, "tests", "fixtures", "logging", "http.yaml"),
    env: {
      PORT: String(port),
      OTEL_DENO: "true",
      OTEL_SERVICE_NAME: "siphon-otel-test",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${collector.addr.port}`,
      OTEL_DENO_CONSOLE: "ignore",
    },
  });
  try {
    assert.equal(
      (await fresh(`http://127.0.0.1:${port}/async/a1`, {
        headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" },
      })).status,
      200,
    );
    assert.equal((await fresh(`http://127.0.0.1:${port}/sync`)).status, 200);
    assert.equal((await fresh(`http://127.0.0.1:${port}/missing`)).status, 404);
  } finally {
    assert.equal((await server.stop()).code, 0); // exporting finishes before the process exits
    await collector.shutdown();
  }
  const server_spans = spans.filter((s) => s.kind === 2); // SPAN_KIND_SERVER
  const named = (name: string) => server_spans.find((s) => s.name === name);
  const routed = named("GET /async/{tag}");
  assert.ok(
    routed,
    `no span named after the route; got ${JSON.stringify(spans.map((s) => s.name))}`,
  );
  assert.equal(attribute(routed, "http.route"), "/async/{tag}");
  assert.equal(routed.traceId, "0af7651916cd43dd8448eb211c80319c", "the incoming trace continues");
  assert.equal(attribute(named("GET /sync")!, "http.route"), "/sync");
  assert.ok(named("GET"), "an unmatched request keeps the method-only name");
  assert.ok(services.has("siphon-otel-test"));
});
