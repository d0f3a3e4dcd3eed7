/**
 * Deno's built-in OpenTelemetry (`OTEL_DENO=true`): each request's span is named after its
 * route template (`GET /async/{tag}`) with `http.route` set, exported over OTLP to a collector —
 * here a mock one on 127.0.0.1 that takes OTLP/HTTP JSON.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, fresh, ROOT, startServer } from "../../harness/launch.ts";
import { attribute, startCollector } from "../../harness/otlp_collector.ts";

Deno.test("OTEL_DENO=true: request spans are named after the route template", async () => {
  const collector = startCollector();
  const { spans, services } = collector;
  const port = freePort();
  const server = await startServer({
    config: join(ROOT, "tests", "fixtures", "logging", "http.yaml"),
    env: { PORT: String(port), ...collector.env("siphon-otel-test") },
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
