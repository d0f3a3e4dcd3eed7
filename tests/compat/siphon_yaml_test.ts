/**
 * siphon-http's own config files: a siphon.yaml (script.path, cache:, extensions.http and the
 * SIP core's settings) with the http addon config it names, checked and served as they are.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, fresh, ROOT, runToExit, startServer } from "../../harness/launch.ts";

const FIXTURE = join(ROOT, "tests", "fixtures", "siphon_yaml");

/** A copy of the fixture in a temp folder, with `edit` applied to named files. */
function copyFixture(edit: Record<string, (text: string) => string> = {}): string {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-yaml-" });
  Deno.mkdirSync(join(dir, "scripts"));
  for (const f of ["siphon.yaml", "addon.yaml", "scripts/app.py"]) {
    const text = Deno.readTextFileSync(join(FIXTURE, f));
    Deno.writeTextFileSync(join(dir, f), (edit[f] ?? ((t) => t))(text));
  }
  return dir;
}

Deno.test("check accepts a siphon.yaml and its addon config, warning once per unused key", async () => {
  const { code, output } = await runToExit({
    command: "check",
    config: "siphon.yaml",
    cwd: FIXTURE,
    env: { PORT: String(freePort()) },
  });
  assert.equal(code, 0, output);
  const warnings = output.split("\n").filter((l) => l.startsWith("warning: "));
  const where = warnings.map((w) => /siphon\.yaml:(\d+:\d+: [\w.]+):/.exec(w)?.[1]);
  assert.deepEqual(where, [
    "4:1: listen",
    "7:1: domain",
    "12:3: script.sync_pool_size",
    "13:1: registrar",
    "15:1: auth",
    "20:3: log.file",
    "27:3: extensions.smpp",
  ]);
  assert.match(output, /listen: a siphon SIP-core setting; siphon-deno serves HTTP only/);
  assert.match(output, /siphon\.yaml: ok \(1 listener, 2 routes/);
});

Deno.test("siphon.yaml paths resolve against the working folder, as siphon-http's do", async () => {
  const elsewhere = Deno.makeTempDirSync({ prefix: "siphon-cwd-" });
  const { code, output } = await runToExit({
    command: "check",
    config: join(FIXTURE, "siphon.yaml"),
    cwd: elsewhere,
    env: { PORT: String(freePort()) },
  });
  assert.equal(code, 2, output);
  assert.match(
    output,
    new RegExp(
      `siphon\\.yaml:10:9: script\\.path: file not found: ${elsewhere}/scripts/app\\.py ` +
        `\\(relative paths resolve against the working folder, ${elsewhere}, as in siphon-http\\)`,
    ),
  );
});

Deno.test("unknown keys in either file are errors naming the closest known key", async () => {
  const cases: [Record<string, (t: string) => string>, RegExp][] = [
    [
      { "siphon.yaml": (t) => t.replace("registrar:", "registar:") },
      /siphon\.yaml:13:1: registar: unknown key "registar"; did you mean "registrar"\?/,
    ],
    [
      { "siphon.yaml": (t) => t.replace("local_ttl_secs: 3600", "local_ttl_sec: 3600") },
      /siphon\.yaml:23:5: cache\[0\]\.local_ttl_sec: unknown key "local_ttl_sec"; did you mean "local_ttl_secs"\?/,
    ],
    [
      { "addon.yaml": (t) => t.replace("pool_size: 4", "pool_sise: 4") },
      /addon\.yaml:10:5: clients\.upstream\.pool_sise: unknown key "pool_sise"; did you mean "pool_size"\?/,
    ],
    [
      { "addon.yaml": (t) => t + "script: other.py\n" },
      /addon\.yaml:11:1: script: this file is the http addon config of \S*siphon\.yaml, which sets script\.path; set it there only/,
    ],
    [
      { "siphon.yaml": (t) => t.replace("  http: addon.yaml", "  http: { servers: [] }") },
      /siphon\.yaml:26:9: extensions\.http: expected the path of the http addon config; an inline mapping is not supported/,
    ],
  ];
  for (const [edit, expected] of cases) {
    const dir = copyFixture(edit);
    const { code, output } = await runToExit({
      command: "check",
      config: "siphon.yaml",
      cwd: dir,
      env: { PORT: String(freePort()) },
    });
    assert.equal(code, 2, output);
    assert.match(output, expected);
  }
});

Deno.test("serve runs a siphon.yaml: its caches, a client without base_url; reload: sighup", async () => {
  const dir = copyFixture();
  const port = freePort();
  const server = await startServer({
    config: "siphon.yaml",
    cwd: dir,
    env: { PORT: String(port) },
    args: ["--log-level", "info"], // siphon.yaml says warn; the command line wins
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    const first = await fresh(`${base}/seen/a`, { method: "POST" });
    const again = await fresh(`${base}/seen/a`, { method: "POST" });
    assert.deepEqual([first.status, first.text, again.status, again.text], [
      201,
      "first",
      200,
      "again",
    ]);
    assert.equal((await fresh(`${base}/client`)).text, "None 2000");
    assert.match(server.logs(), /file watching is off \(script\.reload: sighup\)/);
    assert.match(server.logs(), /siphon\.yaml:4:1: listen: a siphon SIP-core setting/);
    const addon = join(dir, "addon.yaml");
    Deno.writeTextFileSync(
      addon,
      Deno.readTextFileSync(addon).replace("timeout_ms: 2000", "timeout_ms: 3000"),
    );
    Deno.kill(server.pid, "SIGHUP");
    await server.waitForLog(/reloaded \(SIGHUP\)/);
    assert.equal((await fresh(`${base}/client`)).text, "None 3000");
    assert.doesNotMatch(server.logs(), /reloaded \(file change\)/, "no file watching");
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
