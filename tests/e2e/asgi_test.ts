/**
 * `app:` — an ASGI application served as it is, end to end: a real Starlette service
 * (tests/fixtures/asgi/shop.py, with wheels built from Debian's python3-starlette, -anyio,
 * -sniffio and -idna) driven by real clients — fetch, curl and h2load over h2c, Debian's python3-httpx and
 * python3-websockets — and the server's own rules applied to it: request timeouts that stop the
 * Python, body limits, the access log and metrics, reloads that keep the old app when the new
 * one fails, and errors at file:line:col.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  freePort,
  fresh,
  ROOT,
  runCli,
  runToExit,
  type Server,
  startServer,
  waitFor,
} from "../../harness/launch.ts";
import { attribute, startCollector } from "../../harness/otlp_collector.ts";
import { UPGRADE_HEADERS } from "../../harness/ws_raw.ts";
import { debianWheels } from "../../harness/wheels.ts";

const FIXTURE = join(ROOT, "tests", "fixtures", "asgi");
const PACKAGES = ["starlette", "anyio", "sniffio", "idna"];
const DEBIAN_PYTHON = "/usr/bin/python3";

/** A project folder: shop.py, the wheels, and an http.yaml with `yaml` on top. */
function project(yaml: string, files: Record<string, string> = {}) {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-asgi-" });
  Deno.mkdirSync(join(dir, "wheels"));
  debianWheels(join(dir, "wheels"), PACKAGES);
  Deno.copyFileSync(join(FIXTURE, "shop.py"), join(dir, "shop.py"));
  for (const [name, text] of Object.entries(files)) Deno.writeTextFileSync(join(dir, name), text);
  const port = freePort();
  const admin = freePort();
  const config = join(dir, "http.yaml");
  Deno.writeTextFileSync(
    config,
    `${yaml}\npython:\n  packages: [${PACKAGES.join(", ")}]\n` +
      `admin: { listen: "127.0.0.1:${admin}" }\n` +
      `servers:\n  - listen: 127.0.0.1:${port}\n    request_timeout_ms: 3000\n` +
      `    max_body_bytes: 1048576\n`,
  );
  return { dir, config, base: `http://127.0.0.1:${port}`, admin: `http://127.0.0.1:${admin}` };
}

/**
 * A plain ASGI app (no framework) as Python source: every http request is answered 200 with
 * `body` and the headers the Python expression `headers` gives, after the line `setup` (if any)
 * ran on its scope; other scopes are ignored.
 */
function rawApp(body: string, setup = "", headers = "[]"): string {
  return "async def app(scope, receive, send):\n" +
    '    if scope["type"] != "http":\n        return\n' +
    (setup ? `    ${setup}\n` : "") +
    `    await send({"type": "http.response.start", "status": 200, "headers": ${headers}})\n` +
    `    await send({"type": "http.response.body", "body": b${JSON.stringify(body)}})\n`;
}

/** Runs a Python snippet with Debian's python3 (its httpx and websockets). */
async function debianPython(code: string): Promise<string> {
  const out = await new Deno.Command(DEBIAN_PYTHON, { args: ["-c", code], stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return text.trim();
}

async function json(url: string, init?: RequestInit): Promise<Record<string, unknown>> {
  const res = await fresh(url, init);
  assert.equal(res.status, 200, res.text);
  return JSON.parse(res.text);
}

/** A request body that arrives in chunks, with no Content-Length. */
function chunked(total: number, size = 65536): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent >= total) return c.close();
      const n = Math.min(size, total - sent);
      sent += n;
      c.enqueue(new Uint8Array(n).fill(120));
    },
  });
}

Deno.test("app: a Starlette service: routes, mounts, sync endpoints, streams, middleware, lifespan state", async (t) => {
  const p = project("app: shop:app\nworkers: 1\nlog:\n  access: true\n  format: json");
  const server = await startServer({ config: p.config });
  try {
    await server.waitForLog(/lifespan startup in worker 1/);
    await t.step("lifespan state reaches every request, and both middlewares run", async () => {
      const res = await fresh(`${p.base}/`);
      assert.equal(res.status, 200);
      const body = JSON.parse(res.text);
      assert.equal(body.state, "at startup");
      assert.equal(res.headers.get("x-base"), "1");
      assert.equal(res.headers.get("x-pure"), "1");
      const again = JSON.parse((await fresh(`${p.base}/`)).text);
      assert.ok(again.visits > body.visits, "one state shared by the requests");
    });
    await t.step("path convertors, a sync endpoint run inline, mounts, decoding", async () => {
      assert.deepEqual(await json(`${p.base}/users/7`), { id: 7, type: "int" });
      assert.equal((await fresh(`${p.base}/users/seven`)).status, 404);
      const item = await json(`${p.base}/api/items/a%20pen?q=blue`);
      assert.deepEqual(item, {
        name: "a pen",
        q: "blue",
        root_path: "/api", // Starlette's Mount sets it for what it mounts
        path: "/api/items/a pen",
      });
    });
    await t.step(
      "the scope: version, scheme, server, client, raw path and query, headers",
      async () => {
        const scope = await json(`${p.base}/scope?a=1&b=%20x`, { headers: { "x-tag": "t1" } });
        assert.equal(scope.http_version, "1.1");
        assert.equal(scope.scheme, "http");
        assert.deepEqual(scope.server, ["127.0.0.1", Number(new URL(p.base).port)]);
        assert.equal(scope.client_is_local, true);
        assert.equal(scope.query_string, "a=1&b=%20x");
        assert.deepEqual(scope.headers, [["x-tag", "t1"]]);
        // header bytes as they came: UTF-8 from curl is two bytes, a repeated name is kept
        const raw = await new Deno.Command("curl", {
          args: ["-s", "-H", "x-tag: é", "-H", "x-rep: 1", "-H", "x-rep: 2", `${p.base}/scope`],
        }).output();
        const sent = new Map(JSON.parse(new TextDecoder().decode(raw.stdout)).headers);
        const tag = sent.get("x-tag") as string;
        assert.deepEqual([...tag].map((c) => c.charCodeAt(0)), [0xc3, 0xa9]);
        assert.equal(sent.get("x-rep"), "1, 2"); // hyper joins a repeated name's values
        const curl = await new Deno.Command("curl", {
          args: ["-s", "--http2-prior-knowledge", `${p.base}/scope`],
        }).output();
        const h2 = JSON.parse(new TextDecoder().decode(curl.stdout));
        assert.equal(h2.http_version, "2");
        // h2load: many streams at once on a few h2c connections, every one answered
        const load = await new Deno.Command("h2load", {
          args: ["-n", "400", "-c", "4", "-m", "10", `${p.base}/users/3`],
        }).output();
        const report = new TextDecoder().decode(load.stdout);
        assert.match(report, /400 succeeded, 0 failed, 0 errored/, report);
        assert.match(report, /status codes: 400 2xx/, report);
      },
    );
    await t.step("request bodies stream in, responses stream out", async () => {
      const up = await fresh(`${p.base}/upload`, { method: "POST", body: chunked(300_000) });
      assert.deepEqual(JSON.parse(up.text), { bytes: 300_000 });
      const numbers = await fresh(`${p.base}/numbers?n=5`);
      assert.equal(numbers.text, "line 0\nline 1\nline 2\nline 3\nline 4\n");
      assert.equal(numbers.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.equal((await fresh(`${p.base}/letters`)).text, "a\nb\nc\n");
      const viaHttpx = await debianPython(
        `import httpx\nr = httpx.post("${p.base}/upload", content=b"y" * 200000)\n` +
          `print(r.status_code, r.json()["bytes"], r.headers["x-pure"])`,
      );
      assert.equal(viaHttpx, "200 200000 1");
      // a small body with a Content-Length is read first and comes in one message; a chunked
      // one streams in several, the last with more_body false
      const small = await fresh(`${p.base}/messages/`, { method: "POST", body: "hello" });
      assert.deepEqual(JSON.parse(small.text), [[5, false]]);
      const none = await fresh(`${p.base}/messages/`);
      assert.deepEqual(JSON.parse(none.text), [[0, false]]);
      const streamed = JSON.parse(
        (await fresh(`${p.base}/messages/`, { method: "POST", body: chunked(300_000) })).text,
      ) as [number, boolean][];
      assert.ok(streamed.length > 1, JSON.stringify(streamed));
      assert.equal(streamed.reduce((a, [n]) => a + n, 0), 300_000);
      assert.deepEqual(streamed.at(-1)![1], false);
      assert.ok(streamed.slice(0, -1).every(([, more]) => more));
    });
    await t.step("a background task runs after the answer", async () => {
      assert.equal((await fresh(`${p.base}/later?tag=bg1`)).text, "queued");
      await waitFor(
        async () => (await json(`${p.base}/done`) as unknown as string[]).includes("bg1"),
        "the background task's mark",
      );
    });
    await t.step("an exception is a 500 with its traceback in the log", async () => {
      const res = await fresh(`${p.base}/boom`);
      assert.equal(res.status, 500);
      assert.doesNotMatch(res.text, /exploded/);
      await server.waitForLog(/ValueError: the shop exploded/);
    });
    await t.step("a client that goes away is http.disconnect", async () => {
      const abort = new AbortController();
      const pending = fetch(`${p.base}/raw/wait`, { signal: abort.signal }).catch(() => null);
      await server.waitForLog(/raw waiter waiting/); // the app holds the request
      abort.abort();
      await pending;
      await server.waitForLog(/raw waiter saw http\.disconnect/);
      // Starlette's middleware raises on the disconnect; that is one line, not an error.
      await server.waitForLog(/GET \/raw\/wait: the client went away before the answer/);
      await server.waitForLog(/"path":"\/raw\/wait","route":"\/raw\/\{path\}","status":499/);
      assert.doesNotMatch(server.logs(), /"level":"error"[^\n]*\/raw\/wait/);
    });
    await t.step(
      "the access log and /metrics name the app's route, never the raw path",
      async () => {
        await server.waitForLog(/"path":"\/users\/7","route":"\/users\/\{id\}","status":200/);
        await server.waitForLog(
          /"path":"\/api\/items\/a%20pen\?q=blue","route":"\/api\/items\/\{name\}"/,
        );
        assert.equal((await fresh(`${p.base}/no/such/page`)).status, 404);
        await server.waitForLog(/"path":"\/no\/such\/page","route":"\(app\)","status":404/);
        await waitFor(async () => {
          const metrics = (await fresh(`${p.admin}/metrics`)).text;
          return metrics.includes(
            'siphon_requests_total{route="/users/{id}",method="GET",status="200"}',
          ) &&
            metrics.includes('siphon_requests_total{route="(app)",method="GET",status="404"}') &&
            !metrics.includes("no/such");
        }, "the app's requests counted by route");
      },
    );
    assert.equal((await fresh(`${p.base}/`)).status, 200);
  } finally {
    const { logs } = await server.stop();
    assert.match(logs, /lifespan shutdown/);
  }
});

Deno.test("app: WebSockets through the app: subprotocol and headers, text and bytes, close codes, refusal", async () => {
  const p = project("app: shop:app\nworkers: 2");
  const server = await startServer({ config: p.config });
  try {
    const ws = p.base.replace("http", "ws");
    const out = await debianPython(`
import asyncio, websockets
async def main():
    async with websockets.connect("${ws}/chat", subprotocols=["v1"]) as c:
        print(c.subprotocol, c.response_headers.get("x-room"), c.response_headers.get("set-cookie"))
        await c.send("hi")
        print(await c.recv())
        await c.send(b"\\x01\\x02")
        print(await c.recv())
        await c.send("bye")
        try:
            await c.recv()
        except websockets.ConnectionClosed as e:
            print(e.rcvd.code, e.rcvd.reason)
    try:
        async with websockets.connect("${ws}/refuse"):
            pass
    except websockets.InvalidStatusCode as e:
        print("refused", e.status_code)
asyncio.run(main())
`);
    assert.deepEqual(out.split("\n"), [
      "v1 main seat=3",
      "text:hi",
      "b'bytes:\\x01\\x02'",
      "4000 see you",
      "refused 403",
    ]);
    assert.equal((await fresh(`${p.base}/`)).status, 200);
  } finally {
    await server.stop();
  }
});

Deno.test("app: the server's bounds hold for the app: timeouts stop the Python, bodies are capped", async () => {
  const p = project("app: shop:app\nworkers: 1");
  const server = await startServer({ config: p.config });
  try {
    const spun = await fresh(`${p.base}/spin`);
    assert.equal(spun.status, 504, `a sync loop is interrupted\n${server.logs()}`);
    assert.equal((await fresh(`${p.base}/nap`)).status, 504, "an await is cancelled");
    const big = await fresh(`${p.base}/upload`, { method: "POST", body: chunked(3 << 20) });
    assert.equal(big.status, 413, "a streamed body past max_body_bytes");
    const announced = await fresh(`${p.base}/upload`, {
      method: "POST",
      body: new Uint8Array(2 << 20),
    });
    assert.equal(announced.status, 413, "an announced body past max_body_bytes");
    assert.deepEqual(await json(`${p.base}/users/1`), { id: 1, type: "int" });
  } finally {
    await server.stop();
  }
});

Deno.test("app: an app that labels its routes by the raw path cannot grow the metrics", async () => {
  // A framework-like router that puts a per-request "route" in the scope: every path a new label.
  const labels = "import types\n\n" +
    rawApp("ok", 'scope["route"] = types.SimpleNamespace(path_format=scope["path"])');
  const p = project("app: labels:app\nworkers: 1", { "labels.py": labels });
  const server = await startServer({ config: p.config });
  try {
    // A label with a line break would forge a line in a text log: the request keeps "(app)".
    assert.equal((await fresh(`${p.base}/item/a%0Ab`)).status, 200);
    assert.doesNotMatch((await fresh(`${p.admin}/metrics`)).text, /route="\/item\/a\\n/);
    for (let i = 0; i < 520; i++) {
      assert.equal((await fresh(`${p.base}/item/${i}`)).status, 200, `request ${i}`);
    }
    const metrics = (await fresh(`${p.admin}/metrics`)).text;
    const named = new Set(
      [...metrics.matchAll(/siphon_requests_total\{route="([^"]*)"/g)].map((m) => m[1]),
    );
    assert.ok(named.has("/item/0") && named.has("(app)"), [...named].slice(0, 5).join(" "));
    assert.ok(!named.has("/item/a\\nb"), "a label with a line break is refused");
    assert.equal(named.size, 501, "500 labels, then the rest as (app)");
    assert.equal((await fresh(`${p.base}/item/again`)).status, 200);
  } finally {
    await server.stop();
  }
});

Deno.test("app: OTEL_DENO names an app request's span after the app's matched route", async () => {
  const collector = startCollector();
  const p = project("app: shop:app\nworkers: 1");
  const server = await startServer({ config: p.config, env: collector.env("siphon-asgi-otel") });
  try {
    assert.equal((await fresh(`${p.base}/users/12`)).status, 200);
    assert.equal((await fresh(`${p.base}/nothing/here`)).status, 404);
  } finally {
    assert.equal((await server.stop()).code, 0); // exporting finishes before the process exits
    await collector.shutdown();
  }
  const spans = collector.spans.filter((s) => s.kind === 2); // SPAN_KIND_SERVER
  const user = spans.find((s) => s.name === "GET /users/{id}");
  assert.ok(user, `no span named after the app's route: ${spans.map((s) => s.name).join(", ")}`);
  assert.equal(attribute(user, "http.route"), "/users/{id}");
  assert.ok(spans.some((s) => s.name === "GET (app)"), "a request no app route took");
  assert.ok(!spans.some((s) => s.name.includes("/users/12")), "never the raw path");
});

Deno.test("app: headers an app sends as text, not bytes, are a 500 naming them; it still serves", async () => {
  const bad = rawApp("ok", "", '[("x-kind", "text")] if scope["path"] == "/text" else []');
  const p = project("app: bad:app\nworkers: 1", { "bad.py": bad });
  const server = await startServer({ config: p.config });
  try {
    assert.equal((await fresh(`${p.base}/text`)).status, 500);
    await server.waitForLog(/ASGI: response header 'x-kind': 'text': names and values are bytes/);
    assert.equal((await fresh(`${p.base}/fine`)).text, "ok");
  } finally {
    await server.stop();
  }
});

Deno.test("app: with a script, the script's routes come first, its guards run, the app takes the rest", async () => {
  const script = 'from siphon import http\n\n@http.route("/health")\ndef health(req):\n' +
    '    return http.Response(200, None, "script")\n\n' +
    "@http.middleware\ndef guard(req):\n" +
    '    if req.header("x-block"):\n        return http.Response(403, None, "blocked")\n';
  const p = project("script: app.py\napp: shop:app\nworkers: 1", { "app.py": script });
  const server = await startServer({ config: p.config });
  try {
    assert.equal((await fresh(`${p.base}/health`)).text, "script");
    assert.deepEqual(await json(`${p.base}/users/3`), { id: 3, type: "int" });
    // the script's guard runs before the app too, for requests and for upgrades
    const blocked = await fresh(`${p.base}/users/3`, { headers: { "x-block": "1" } });
    assert.equal(blocked.status, 403);
    assert.equal(blocked.text, "blocked");
    const upgrade = await fresh(`${p.base}/chat`, {
      headers: { ...UPGRADE_HEADERS, "x-block": "1" },
    });
    assert.equal(upgrade.status, 403);
    // another method on the script's path is not the script's: the app answers it
    assert.equal((await fresh(`${p.base}/health`, { method: "POST" })).status, 404);
  } finally {
    await server.stop();
  }
});

Deno.test("app: a wrong app: at file:line:col — module, attribute, not ASGI — from check", async () => {
  const cases: [string, RegExp][] = [
    ['"nowhere:app"', /http\.yaml:1:6: app: module nowhere not found/],
    [
      '"shop:missing"',
      /http\.yaml:1:6: app: shop has no attribute 'missing' \(it has waiter, messages, app\)/,
    ],
    ['"shop:DONE"', /http\.yaml:1:6: app: shop:DONE is a list, not an ASGI 3 application/],
    ['"shop app"', /http\.yaml:1:6: app: expected "module:attribute"/],
  ];
  for (const [spec, expected] of cases) {
    const p = project(`app: ${spec}\nworkers: 1`);
    const out = await runCli(["check", "--config", p.config]);
    assert.equal(out.code, 2, out.err);
    assert.match(out.err, expected);
  }
});

Deno.test("--app replaces http.yaml's app: on start and on every reload; a wrong one names the flag", async () => {
  const other = rawApp("other app");
  const p = project("app: shop:app\nworkers: 1", { "other.py": other });
  for (
    const [spec, expected] of [
      ["nowhere:app", /^--app: app: module nowhere not found/m],
      ["shop:missing", /^--app: app: shop has no attribute 'missing'/m],
      ["shop app", /^--app: app: expected "module:attribute"/m],
    ] as const
  ) {
    const out = await runCli(["check", "--config", p.config, "--app", spec]);
    assert.equal(out.code, 2, out.err);
    assert.match(out.err, expected);
  }
  const server = await startServer({ config: p.config, args: ["--app", "other:app"] });
  try {
    assert.equal((await fresh(`${p.base}/users/1`)).text, "other app");
    const text = Deno.readTextFileSync(p.config);
    Deno.writeTextFileSync(p.config, text.replace("workers: 1", "workers: 1 # touched"));
    await server.waitForLog(/reloaded \(file change\): generation 2/);
    assert.equal((await fresh(`${p.base}/users/1`)).text, "other app", "still --app's");
  } finally {
    await server.stop();
  }
});

Deno.test("app: a failed lifespan startup stops the start; on reload it keeps the old app", async () => {
  const failing = "from shop import app\n\nasync def boot(scope, receive, send):\n" +
    "    if scope['type'] == 'lifespan':\n        await receive()\n" +
    "        await send({'type': 'lifespan.startup.failed', 'message': 'no database'})\n" +
    "        return\n    await app(scope, receive, send)\n";
  const bad = project("app: broken:boot\nworkers: 1", { "broken.py": failing });
  const refused = await runToExit({ config: bad.config });
  assert.notEqual(refused.code, 0);
  assert.match(refused.output, /http\.yaml:1:6: app: broken:boot failed its lifespan startup/);
  assert.match(refused.output, /no database/);

  const p = project("app: shop:app\nworkers: 1", { "broken.py": failing });
  const server: Server = await startServer({ config: p.config });
  try {
    const text = Deno.readTextFileSync(p.config);
    Deno.writeTextFileSync(p.config, text.replace("app: shop:app", "app: broken:boot"));
    await server.waitForLog(/no database/);
    assert.deepEqual(await json(`${p.base}/users/5`), { id: 5, type: "int" });
    // the app's own module changed: the next generation serves the new code
    Deno.writeTextFileSync(p.config, text);
    const shop = Deno.readTextFileSync(join(p.dir, "shop.py"));
    Deno.writeTextFileSync(
      join(p.dir, "shop.py"),
      shop.replace('{"id": request.path_params["id"]', '{"id": -request.path_params["id"]'),
    );
    await waitFor(
      async () => (await json(`${p.base}/users/5`)).id === -5,
      "the edited app serving",
    );
    await server.waitForLog(/lifespan startup in worker 1/, 2);
    // the replaced generation's app shuts its lifespan down; the new one keeps serving
    await server.waitForLog(/lifespan shutdown in worker 1/);
    assert.equal((await json(`${p.base}/users/5`)).id, -5);
  } finally {
    const { logs } = await server.stop();
    // every generation that started its lifespan shut it down once (the two edits above may
    // have been one reload or two)
    const started = logs.match(/lifespan startup in worker 1/g)?.length ?? 0;
    assert.ok(started >= 2, logs);
    assert.equal(logs.match(/lifespan shutdown in worker 1/g)?.length, started, logs);
  }
});

Deno.test("examples/starlette serves as its README says, with 2 workers", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-example-starlette-" });
  for (const name of ["main.py", "http.yaml"]) {
    Deno.copyFileSync(join(ROOT, "examples", "starlette", name), join(dir, name));
  }
  Deno.mkdirSync(join(dir, "wheels"));
  debianWheels(join(dir, "wheels"), PACKAGES);
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startServer({
    config: join(dir, "http.yaml"),
    env: { PORT: String(port), WORKERS: "2" },
    args: ["--access-log", "--log-format", "json"],
  });
  try {
    assert.deepEqual(await json(`${base}/items/2`), { id: 2, name: "teapot", price_cents: 1800 });
    assert.equal((await fresh(`${base}/items/9`)).status, 404);
    assert.equal((await fresh(`${base}/items/two`)).status, 404, "the int convertor refuses");
    const post = (body: string) => fresh(`${base}/quote`, { method: "POST", body });
    assert.deepEqual(JSON.parse((await post('{"lines":[{"id":1,"qty":2}]}')).text), {
      total_cents: 5000,
      lines: 1,
    });
    // the background task that records the quote runs after the answer has gone
    await server.waitForLog(/quoted 5000 cents/);
    await server.waitForLog(/"method":"POST","path":"\/quote"/);
    const logs = server.logs();
    assert.ok(
      logs.indexOf('"path":"/quote"') < logs.indexOf("quoted 5000 cents"),
      `the answer, then the background task:\n${logs}`,
    );
    assert.equal((await post("{not json")).status, 400);
    assert.equal((await post('{"lines":[{"id":1,"qty":0}]}')).status, 422);
    assert.equal((await post('{"lines":[{"id":7,"qty":1}]}')).status, 422);
    const exported = await fresh(`${base}/items/export`);
    assert.equal(exported.headers.get("content-type"), "application/x-ndjson");
    assert.deepEqual(
      exported.text.trim().split("\n").map((l) => JSON.parse(l).name),
      ["kettle", "teapot", "mug"],
    );
    const out = await debianPython(`
import asyncio, websockets
async def main():
    async with websockets.connect("ws://127.0.0.1:${port}/shout") as c:
        await c.send("quiet please")
        print(await c.recv())
asyncio.run(main())
`);
    assert.equal(out, "QUIET PLEASE");
    assert.equal((await fresh(`${base}/health`)).text, "ok");
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
