import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "./files.ts";

const FIXTURE = join(import.meta.dirname!, "..", "..", "tests", "fixtures", "siphon_yaml");

Deno.test("a siphon.yaml becomes the config an http.yaml would give", async () => {
  const config = await loadConfig(join(FIXTURE, "siphon.yaml"), {
    env: { PORT: "18081" },
    cwd: FIXTURE,
  });
  assert.equal(config.script, join(FIXTURE, "scripts", "app.py"));
  assert.deepEqual(config.sources, [join(FIXTURE, "siphon.yaml"), join(FIXTURE, "addon.yaml")]);
  assert.equal(config.watch, false, "script.reload: sighup");
  assert.deepEqual(config.log, {
    level: "warning",
    format: "pretty",
    access: false,
    max_line_bytes: 16384,
    max_bytes_per_sec: 1048576,
  });
  assert.deepEqual(config.cache, {
    "seen-ids": {
      backend: "memory",
      url: undefined,
      prefix: "",
      max_entries: 500,
      max_bytes: 67108864,
      max_value_bytes: 1048576,
      local_ttl_secs: 3600,
    },
  });
  assert.equal(config.servers[0].listen.port, 18081);
  assert.equal(config.clients.upstream.base_url, undefined);
  assert.equal(config.clients.upstream.timeout_ms, 2000);
  assert.equal(config.warnings.length, 7);
});

Deno.test("siphon.yaml caches: a url makes a redis cache; local_ttl_secs keeps a local copy", async () => {
  const dir = Deno.makeTempDirSync();
  Deno.writeTextFileSync(join(dir, "app.py"), "");
  Deno.writeTextFileSync(join(dir, "http.yaml"), 'servers:\n  - listen: "127.0.0.1:18082"\n');
  Deno.writeTextFileSync(
    join(dir, "siphon.yaml"),
    "script: { path: app.py }\nextensions: { http: http.yaml }\ncache:\n" +
      '  - { name: cnam, url: "redis://127.0.0.1:6379", local_ttl_secs: 60 }\n' +
      '  - { name: plain, url: "redis://127.0.0.1:6379/2" }\n',
  );
  const config = await loadConfig(join(dir, "siphon.yaml"), { env: {}, cwd: dir });
  assert.deepEqual(
    Object.entries(config.cache).map(([n, c]) => [n, c.backend, c.url, c.local_ttl_secs]),
    [
      ["cnam", "redis", "redis://127.0.0.1:6379", 60],
      ["plain", "redis", "redis://127.0.0.1:6379/2", undefined],
    ],
  );
  assert.equal(config.watch, true);
  assert.deepEqual(config.warnings, []);
});
