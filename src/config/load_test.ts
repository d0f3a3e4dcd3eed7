import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "./load.ts";
import { EMBEDDED_WHEELHOUSE } from "../pyodide/assets.ts";

const dir = Deno.makeTempDirSync({ prefix: "siphon-config-" });
Deno.writeTextFileSync(`${dir}/app.py`, "pass\n");
Deno.mkdirSync(`${dir}/data`);
const parse = (text: string, env: Record<string, string> = { PORT: "9000" }) =>
  parseConfig(text, { file: "http.yaml", dir, env, cores: 3 });

Deno.test('parseConfig() takes one method as a string, as @http.route(methods="POST") does', () => {
  const c = parse(
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\n" +
      "routes:\n  - path: /u\n    methods: post\n    handler: a\n",
  );
  assert.deepEqual(c.routes[0].methods, ["POST"]);
});

Deno.test("parseConfig() fills defaults and expands ${VAR:-default}", () => {
  const c = parse(
    'script: app.py\nservers:\n  - listen: 127.0.0.1:${PORT}\n  - listen: "[::1]:${P2:-81}"\n' +
      "routes:\n  - path: /u/{id:int}\n    methods: [get, Post]\n    handler: get_user\n" +
      "python:\n  mounts:\n    - host: data\n",
  );
  assert.equal(c.script, `${dir}/app.py`);
  assert.equal(c.workers, 3);
  assert.equal(c.shutdown_grace_ms, 10000);
  assert.deepEqual(c.admin?.listen.text, "127.0.0.1:9091");
  assert.deepEqual(c.log, {
    level: "info",
    format: "pretty",
    access: false,
    max_line_bytes: 16384,
    max_bytes_per_sec: 1048576,
  });
  assert.deepEqual(c.servers[0], {
    listen: { text: "127.0.0.1:9000", hostname: "127.0.0.1", port: 9000 },
    max_body_bytes: 1048576,
    request_timeout_ms: 30000,
    max_inflight: 1024,
    trusted_proxies: [],
    ws_max_message_bytes: 1048576,
    ws_idle_timeout_ms: 30000,
    ws_max_connections: 10000,
    ws_close_timeout_ms: 5000,
    ws_max_unread_bytes: 67108864,
    static: [],
  });
  assert.deepEqual(c.servers[1].listen, { text: "[::1]:81", hostname: "::1", port: 81 });
  assert.deepEqual(c.routes, [{
    path: "/u/{id:int}",
    methods: ["GET", "POST"],
    handler: "get_user",
    stream: false,
    websocket: false,
    source: "http.yaml:6:5",
  }]);
  assert.deepEqual(c.python.mounts, [{ host: `${dir}/data`, mode: "ro" }]);
  assert.deepEqual(c.pubsub, { backend: "memory", subscriber_queue: 1024 });
});

Deno.test("parseConfig() reads numbers and booleans written through ${VAR}", () => {
  const c = parse(
    "script: app.py\nworkers: ${W:-2}\nservers:\n  - listen: localhost:8080\n" +
      "    max_body_bytes: ${MAX}\nclients:\n  api:\n    base_url: https://api.example.com\n" +
      "    http2_prior_knowledge: ${H2}\n",
    { MAX: "512", H2: "true" },
  );
  assert.equal(c.workers, 2);
  assert.equal(c.servers[0].max_body_bytes, 512);
  assert.equal(c.clients.api.http2_prior_knowledge, true);
  assert.equal(c.clients.api.timeout_ms, 5000);
});

/** Each malformed document and the exact message it must produce. */
const malformed: [string, string][] = [
  [
    'script: app.py\nservers:\n  - listen: "8080"\n',
    'http.yaml:3:13: servers[0].listen: expected "host:port" with a port from 1 to 65535, got "8080"',
  ],
  [
    "servers:\n  - listen: 127.0.0.1:8080\n",
    "http.yaml:1:1: script: required: script: (a .py file of siphon.http routes), app: (an " +
    'ASGI application, "module:attribute"), or both',
  ],
  ["script: app.py\n", "http.yaml:1:1: servers: required key is missing"],
  ["script: app.py\nservers: []\n", "http.yaml:2:10: servers: expected at least 1 item"],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:0\n",
    'http.yaml:3:13: servers[0].listen: expected "host:port" with a port from 1 to 65535, got "127.0.0.1:0"',
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\n    max_body_byte: 10\n",
    'http.yaml:4:5: servers[0].max_body_byte: unknown key "max_body_byte"; did you mean "max_body_bytes"?',
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\n    max_body_bytes: -1\n",
    "http.yaml:4:21: servers[0].max_body_bytes: expected a whole number >= 0, got -1",
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\n    request_timeout_ms: soon\n",
    'http.yaml:4:25: servers[0].request_timeout_ms: expected a whole number >= 1, got "soon"',
  ],
  [
    "script: app.py\nworkers: many\nservers:\n  - listen: 127.0.0.1:8080\n",
    'http.yaml:2:10: workers: expected "auto" or a whole number from 1 to 1024, got "many"',
  ],
  [
    "script: app.py\nworkers: 0\nservers:\n  - listen: 127.0.0.1:8080\n",
    'http.yaml:2:10: workers: expected "auto" or a whole number from 1 to 1024, got 0',
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\nlog: { level: loud }\n",
    'http.yaml:4:15: log.level: expected one of debug, info, warning, error, got "loud"',
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\nlog: { format: xml }\n",
    'http.yaml:4:16: log.format: expected one of pretty, json, got "xml"',
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\nroutes:\n  - path: users\n    handler: h\n",
    'http.yaml:5:11: routes[0].path: path must start with "/", got "users"',
  ],
  [
    'script: app.py\nservers:\n  - listen: 127.0.0.1:8080\nroutes:\n  - path: "/u/{id:float}"\n    handler: h\n',
    'http.yaml:5:19: routes[0].path: unknown parameter type "float" in {id:float}; use one of str, int, uuid',
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\nroutes:\n  - path: /u/{id}\n    handler: get-user\n",
    'http.yaml:6:14: routes[0].handler: expected the name of a function in the script, like get_user, got "get-user"',
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\nroutes:\n  - path: /u/{id}\n    handler: a\n  - path: /u/{name}\n    handler: b\n",
    "http.yaml:7:11: routes[1].path: Cannot add route GET /u/{name} (http.yaml:7:5): it can never be told apart from GET /u/{id} (http.yaml:5:5); change one path or method",
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\nroutes:\n  - path: /u\n    methods: []\n    handler: a\n",
    "http.yaml:6:14: routes[0].methods: expected at least 1 item",
  ],
  [
    'script: app.py\nservers:\n  - listen: 127.0.0.1:8080\nroutes:\n  - path: /u\n    methods: ["GET /"]\n    handler: a\n',
    'http.yaml:6:15: routes[0].methods[0]: expected an HTTP method like GET, got "GET /"',
  ],
  [
    'script: app.py\nservers:\n  - listen: 127.0.0.1:8080\nroutes:\n  - path: /u\n    methods: "GET /"\n    handler: a\n',
    'http.yaml:6:14: routes[0].methods: expected an HTTP method like GET, got "GET /"',
  ],
  [
    "script: missing.py\nservers:\n  - listen: 127.0.0.1:8080\n",
    `http.yaml:1:9: script: file not found: ${dir}/missing.py (relative paths resolve against ${dir})`,
  ],
  [
    "script: app.py\nservers:\n  - listen: ${NOPE}\n",
    "http.yaml:3:13: servers[0].listen: environment variable NOPE is not set; set it or write ${NOPE:-default}",
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\n  - listen: 127.0.0.1:8080\n",
    "http.yaml:4:13: servers[1].listen: same address as servers[0]",
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\nclients:\n  api:\n    base_url: ftp://x\n",
    'http.yaml:6:15: clients.api.base_url: expected an http:// or https:// URL, got "ftp://x"',
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\nclients:\n  api:\n    base_url: https://x\n    verify: nope.pem\n",
    `http.yaml:7:13: clients.api.verify: file not found: ${dir}/nope.pem (relative paths resolve against ${dir})`,
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\npython:\n  mounts:\n    - host: nowhere\n",
    `http.yaml:6:13: python.mounts[0].host: folder not found: ${dir}/nowhere (relative paths resolve against ${dir})`,
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\npython:\n  mounts:\n    - host: data\n      mode: rx\n",
    'http.yaml:7:13: python.mounts[0].mode: expected one of ro, rw, got "rx"',
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\nscrpt: x\n",
    'http.yaml:4:1: scrpt: unknown key "scrpt"; did you mean "script"?',
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\n    tls: { cert_path: a.pem }\n",
    "http.yaml:4:10: servers[0].tls.key_path: required key is missing",
  ],
  [
    "script: [app.py\n",
    "http.yaml:2:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]",
  ],
  ["- just\n- a list\n", "http.yaml:1:1: expected a mapping of keys like script: and servers:"],
  [
    "script: app.py\nshutdown_grace_ms: 1.5\nservers:\n  - listen: 127.0.0.1:8080\n",
    "http.yaml:2:20: shutdown_grace_ms: expected a whole number >= 0, got 1.5",
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\n    trusted_proxies: [10.0.0.0/33]\n",
    'http.yaml:4:23: servers[0].trusted_proxies[0]: expected an IP address or CIDR range like 10.0.0.0/8 or fd00::/8, got "10.0.0.0/33"',
  ],
  [
    "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\nclients:\n  api:\n    base_url: https://x\n    http2_prior_knowledge: maybe\n",
    'http.yaml:7:28: clients.api.http2_prior_knowledge: expected true or false, got "maybe"',
  ],
];

Deno.test(`parseConfig() rejects ${malformed.length} malformed documents with exact messages`, () => {
  for (const [text, message] of malformed) {
    assert.throws(() => parse(text), (e: unknown) => {
      assert.ok(e instanceof ConfigError, text);
      assert.equal(e.message, message);
      return true;
    });
  }
});

Deno.test("parseConfig() checks trusted_proxies entries, pointing at the bad one", () => {
  const base = "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\n";
  assert.deepEqual(
    parse(base + '    trusted_proxies: ["10.0.0.0/8", "::1", "fd00::/8"]\n').servers[0]
      .trusted_proxies,
    ["10.0.0.0/8", "::1", "fd00::/8"],
  );
  assert.throws(() => parse(base + "    trusted_proxies: [10.0.0.0/8, proxy.local]\n"), {
    message:
      "http.yaml:4:35: servers[0].trusted_proxies[1]: expected an IP address or CIDR range " +
      'like 10.0.0.0/8 or fd00::/8, got "proxy.local"',
  });
});

Deno.test("parseConfig() reads cache: and checks a redis url, by position", () => {
  const base = "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\n";
  assert.deepEqual(parse(base + "cache:\n  s: { backend: memory }\n").cache, {
    s: {
      backend: "memory",
      max_entries: 10000,
      max_bytes: 67108864,
      max_value_bytes: 1048576,
      prefix: "",
    },
  });
  assert.throws(
    () =>
      parse(base + "cache:\n  s: { backend: memory, max_bytes: 2048, max_value_bytes: 4096 }\n"),
    { message: /cache\.s\.max_value_bytes: max_value_bytes 4096 is over max_bytes 2048/ },
  );
  assert.throws(
    () => parse(base + "cache:\n  s: { backend: memory, max_value_bytes: 99999999 }\n"),
    {
      message: /cache\.s\.max_value_bytes: expected a whole number from 16 to 4193280/,
    },
  );
  assert.deepEqual(
    parse(base + 'cache:\n  d: { backend: redis, url: "redis://127.0.0.1:6379/0", prefix: "a:" }\n')
      .cache.d,
    {
      backend: "redis",
      url: "redis://127.0.0.1:6379/0",
      prefix: "a:",
      max_entries: 10000,
      max_bytes: 67108864,
      max_value_bytes: 1048576,
    },
  );
  assert.throws(() => parse(base + "cache:\n  d: { backend: redis, url: http://x }\n"), {
    message: "http.yaml:5:29: cache.d.url: the redis backend needs url: redis://host:port/db " +
      '(or rediss://), got "http://x"',
  });
  assert.throws(() => parse(base + "cache:\n  s: { backend: disk }\n"), {
    message: 'http.yaml:5:17: cache.s.backend: expected one of memory, redis, got "disk"',
  });
});

Deno.test("parseConfig() reads admin: and lists the keys an object accepts", () => {
  const base = "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\n";
  assert.throws(() => parse(base + "admin: { port: 9091 }\n"), {
    message: 'http.yaml:4:8: admin: expected false or { listen: "host:port", metrics: ' +
      'true|false, metrics_methods: [METHOD, …] }, got {"port":9091}',
  });
  assert.equal(parse(base + "admin: false\n").admin, null);
  assert.deepEqual(parse(base).admin, {
    listen: { text: "127.0.0.1:9091", hostname: "127.0.0.1", port: 9091 },
    explicit: false,
    metrics: true,
    metricsMethods: [],
  });
  assert.deepEqual(parse(base + 'admin: { metrics: "false" }\n').admin, {
    listen: { text: "127.0.0.1:9091", hostname: "127.0.0.1", port: 9091 },
    explicit: false,
    metrics: false,
    metricsMethods: [],
  });
  assert.deepEqual(parse(base + "admin: { metrics_methods: [purge] }\n").admin?.metricsMethods, [
    "PURGE",
  ]);
  assert.throws(() => parse(base + 'admin: { metrics_methods: ["GET /"] }\n'), {
    message: /metrics_methods: expected HTTP methods like PURGE/,
  });
  assert.throws(() => parse(base + "admin: { metrics: sometimes }\n"), {
    message: 'http.yaml:4:8: admin: metrics: expected true or false, got "sometimes"',
  });
  assert.throws(() => parse(base + "log: { cache: 1 }\n"), {
    message:
      'http.yaml:4:8: log.cache: unknown key "cache"; known keys here: level, format, access, ' +
      "max_line_bytes, max_bytes_per_sec",
  });
  assert.equal(parse(base + "log: { access: true }\n").log.access, true);
});

Deno.test("parseConfig() reports every problem, one line each, in file order", () => {
  assert.throws(
    () => parse("script: app.py\nworkers: x\nservers:\n  - listen: nope\n    max_inflight: 0\n"),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.deepEqual(e.message.split("\n"), [
        'http.yaml:2:10: workers: expected "auto" or a whole number from 1 to 1024, got "x"',
        'http.yaml:4:13: servers[0].listen: expected "host:port" with a port from 1 to 65535, got "nope"',
        "http.yaml:5:19: servers[0].max_inflight: expected a whole number >= 1, got 0",
      ]);
      return true;
    },
  );
});

/** The http.yaml of the error example in README.md and docs/configuration.md. */
const DOCS_ERROR_EXAMPLE = [
  "script: app.py",
  "workers: 2",
  "servers:",
  '  - listen: "8080"',
  "    max_inflight: 100",
  "    request_timeout_ms: 1000",
  "    max_body_byte: 1",
  "routes:",
  "  - path: /u/{id}",
  "    handler: a",
  "    methods: [GET]",
  "  - path: /u/{name}",
  "    handler: b",
  "",
].join("\n");

Deno.test("parseConfig() reports a route clash together with schema problems, as the docs show", () => {
  assert.throws(() => parse(DOCS_ERROR_EXAMPLE), (e: unknown) => {
    assert.ok(e instanceof ConfigError);
    const lines = e.message.split("\n");
    assert.deepEqual(lines, [
      'http.yaml:4:13: servers[0].listen: expected "host:port" with a port from 1 to 65535, got "8080"',
      'http.yaml:7:5: servers[0].max_body_byte: unknown key "max_body_byte"; did you mean "max_body_bytes"?',
      "http.yaml:12:11: routes[1].path: Cannot add route GET /u/{name} (http.yaml:12:5): it can " +
      "never be told apart from GET /u/{id} (http.yaml:9:5); change one path or method",
    ]);
    for (const page of ["README.md", "docs/configuration.md"]) {
      const shown = Deno.readTextFileSync(new URL(`../../${page}`, import.meta.url));
      assert.ok(shown.includes("```yaml\n" + DOCS_ERROR_EXAMPLE + "```"), `${page} shows the file`);
      assert.ok(shown.includes("```text\n" + lines.join("\n") + "\n```"), `${page}: the lines`);
    }
    return true;
  });
});

Deno.test("parseConfig() reads static: folders, per listener first, and checks them in place", () => {
  Deno.mkdirSync(`${dir}/public`, { recursive: true });
  Deno.mkdirSync(`${dir}/admin_ui`, { recursive: true });
  const c = parse(
    "script: app.py\nstatic:\n  - path: /assets\n    dir: public\n" +
      '    cache_control: "public, max-age=60"\n' +
      "servers:\n  - listen: 127.0.0.1:8080\n    static:\n      - { path: /ui, dir: admin_ui }\n" +
      "  - listen: 127.0.0.1:8081\n",
  );
  assert.deepEqual(c.servers[0].static, [
    { path: "/ui", dir: `${dir}/admin_ui`, listing: false },
    { path: "/assets", dir: `${dir}/public`, cache_control: "public, max-age=60", listing: false },
  ]);
  assert.deepEqual(c.servers[1].static.map((m) => m.path), ["/assets"]);
  const bad = (text: string) => {
    try {
      parse("script: app.py\nservers:\n  - listen: 127.0.0.1:8080\n" + text);
    } catch (e) {
      return (e as Error).message;
    }
    return "accepted";
  };
  assert.equal(
    bad("static:\n  - { path: assets/, dir: public }\n"),
    'http.yaml:5:13: static[0].path: expected a URL prefix like "/assets" (a leading /, no ' +
      'trailing / except for "/"), got "assets/"',
  );
  assert.equal(
    bad("static:\n  - { path: /a, dir: nowhere }\n"),
    `http.yaml:5:22: static[0].dir: folder not found: ${dir}/nowhere (relative paths resolve against ${dir})`,
  );
  assert.equal(
    bad("static:\n  - { path: /a, dir: public }\n  - { path: /a, dir: admin_ui }\n"),
    `http.yaml:6:13: static[1].path: /a is already served from ${dir}/public on 127.0.0.1:8080; ` +
      "give each folder its own prefix",
  );
  assert.match(
    bad("static:\n  - { path: /a, dir: public, listin: true }\n"),
    /did you mean "listing"/,
  );
});

Deno.test("python.packages: names checked at their place; the wheelhouse from the config's folder or embedded", () => {
  const base = "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\npython:\n";
  const c = parse(base + "  mounts: []\n");
  assert.deepEqual([c.python.packages, c.python.wheelhouse, c.python.site], [
    [],
    `${dir}/wheels`,
    null,
  ]);
  assert.equal(
    parse(base + "  wheelhouse: embedded\n").python.wheelhouse,
    EMBEDDED_WHEELHOUSE,
  );
  assert.throws(
    () => parse(base + "  packages: [ok, 'bad name']\n"),
    /http\.yaml:5:18: python\.packages\[1\]: expected a package name or name==version/,
  );
  // The repository's wheelhouse holds no wheels: what it lacks is said at the entry.
  assert.throws(
    () => parse(base + "  wheelhouse: embedded\n  packages: [pyjwt]\n"),
    /http\.yaml:6:14: python\.packages\[0\]: no wheel of pyjwt .* \(it holds: no wheels\)/,
  );
  assert.throws(
    () => parse(base + "  packages: [pyjwt]\n"),
    /python\.wheelhouse: wheelhouse folder not found: .*\/wheels/,
  );
});

Deno.test("parseConfig() reads websocket routes, ws_* limits and pubsub:, by position", () => {
  const base = "script: app.py\nservers:\n  - listen: 127.0.0.1:8080\n";
  const c = parse(
    base.replace("8080\n", "8080\n    ws_max_message_bytes: 4096\n    ws_idle_timeout_ms: 0\n") +
      'routes:\n  - { path: "/chat/{room}", handler: chat, websocket: true }\n' +
      "pubsub: { backend: redis, url: redis://127.0.0.1:6379/0, subscriber_queue: 8 }\n",
  );
  assert.equal(c.servers[0].ws_max_message_bytes, 4096);
  assert.equal(c.servers[0].ws_idle_timeout_ms, 0);
  assert.equal(c.routes[0].websocket, true);
  assert.deepEqual(c.routes[0].methods, ["GET"]);
  assert.deepEqual(c.pubsub, {
    backend: "redis",
    url: "redis://127.0.0.1:6379/0",
    subscriber_queue: 8,
  });
  assert.throws(
    () => parse(base + "routes:\n  - { path: /c, handler: c, websocket: true, methods: [POST] }\n"),
    {
      message: "http.yaml:5:55: routes[0].methods: a websocket route answers GET (the upgrade) " +
        "only; leave methods out",
    },
  );
  assert.throws(() => parse(base + "pubsub: { backend: redis }\n"), {
    message: "http.yaml:4:20: pubsub.backend: the redis backend needs url: " +
      "redis://host:port/db (or rediss://), got none",
  });
  assert.throws(() => parse(base + "pubsub: { backend: kafka }\n"), {
    message: 'http.yaml:4:20: pubsub.backend: expected one of memory, redis, got "kafka"',
  });
});
