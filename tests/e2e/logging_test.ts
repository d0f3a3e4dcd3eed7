/**
 * The server log end to end: `--log-format json` writes one JSON object per line; every line
 * written while a request is handled (Python's log.*, tracebacks, the access log) carries that
 * request's id, async handlers included; the access log is off unless asked for.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, fresh, ROOT, startServer, waitFor } from "../../harness/launch.ts";

const CONFIG = join(ROOT, "tests", "fixtures", "logging", "http.yaml");

interface Line {
  ts: string;
  level: string;
  source: string;
  msg: string;
  request_id?: string;
  route?: string;
  status?: number;
  duration_ms?: number;
  client?: string;
  path?: string;
}

function parseLines(text: string): Line[] {
  return text.trimEnd().split("\n").map((raw) => {
    const line = JSON.parse(raw) as Line; // throws on any line that is not one JSON object
    assert.equal(typeof line.ts, "string", raw);
    assert.ok(["debug", "info", "warning", "error"].includes(line.level), raw);
    assert.equal(typeof line.msg, "string", raw);
    return line;
  });
}

async function waitForLines(server: { logs(): string }, done: (lines: Line[]) => boolean) {
  await waitFor(() => done(parseLines(server.logs())), "the expected log lines", server.logs);
  return parseLines(server.logs());
}

Deno.test("JSON log with request ids and an access log", async () => {
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startServer({
    config: CONFIG,
    env: { PORT: String(port) },
    args: ["--log-format", "json", "--access-log"],
  });
  try {
    const kept = await fresh(`${base}/sync`, { headers: { "x-request-id": "edge-7" } });
    assert.deepEqual([kept.status, kept.text], [200, "edge-7"]);
    const made = await fresh(`${base}/sync`, { headers: { "x-request-id": "bad id with spaces" } });
    assert.match(made.text, /^[0-9a-f]{8}-[0-9a-z]+$/, "a malformed incoming id is replaced");
    // Concurrent async handlers: each one's line after its await keeps its own id.
    const tags = Array.from({ length: 24 }, (_, i) => `t${i}`);
    const ids = await Promise.all(
      tags.map(async (tag) => (await fresh(`${base}/async/${tag}`)).text),
    );
    assert.equal(new Set(ids).size, tags.length);
    assert.equal(
      (await fresh(`${base}/boom`, { headers: { "x-request-id": "boom-1" } })).status,
      500,
    );
    assert.equal((await fresh(`${base}/nothing-here`)).status, 404);

    const lines = await waitForLines(
      server,
      (all) => all.filter((l) => l.route !== undefined || l.path).length >= 28,
    );
    const python = (rid: string) =>
      lines.find((l) => l.request_id === rid && l.msg.startsWith("sync handler"));
    assert.equal(python("edge-7")?.msg, "sync handler for edge-7");
    assert.ok(["w1", "w2"].includes(python("edge-7")!.source));
    assert.equal(python(made.text)?.msg, `sync handler for ${made.text}`);
    tags.forEach((tag, i) => {
      const after = lines.find((l) => l.msg === `after await tag=${tag}`);
      assert.equal(after?.request_id, ids[i], `the async line of ${tag} has its request's id`);
    });
    const trace = lines.find((l) => l.request_id === "boom-1" && l.level === "error");
    assert.ok(trace, "the traceback line carries the request id");
    assert.match(trace.msg, /ValueError: no such widget/);
    assert.match(trace.msg, /app\.py", line \d+, in boom/);

    const access = lines.filter((l) => l.path !== undefined);
    const edge = access.find((l) => l.request_id === "edge-7");
    assert.equal(edge?.msg, "GET /sync 200");
    assert.equal(edge?.route, "/sync");
    assert.equal(edge?.status, 200);
    assert.match(edge?.client ?? "", /^127\.0\.0\.1:\d+$/);
    assert.ok(typeof edge?.duration_ms === "number" && edge.duration_ms >= 0);
    assert.equal(access.find((l) => l.request_id === "boom-1")?.status, 500);
    const missing = access.find((l) => l.path === "/nothing-here");
    assert.equal(missing?.status, 404);
    assert.equal(missing?.route, undefined, "an unmatched request has no route");
    assert.match(missing?.request_id ?? "", /^[0-9a-f]{8}-[0-9a-z]+$/);
    assert.equal(access.length, 28, "one access line per request");
  } finally {
    const { code } = await server.stop();
    assert.equal(code, 0);
  }
});

Deno.test("the access log is off by default; pretty lines carry request_id=…", async () => {
  const port = freePort();
  const server = await startServer({ config: CONFIG, env: { PORT: String(port) } });
  try {
    await fresh(`http://127.0.0.1:${port}/sync`, { headers: { "x-request-id": "quiet-1" } });
    await server.waitForLog(/sync handler for quiet-1/);
    assert.match(server.logs(), /INFO +\[w\d\] sync handler for quiet-1 request_id=quiet-1\n/);
    assert.doesNotMatch(server.logs(), /GET \/sync 200/);
  } finally {
    await server.stop();
  }
});
