/**
 * Starting the real server: what it refuses (and says), and both Python load paths.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, runToExit, startServer } from "../../harness/launch.ts";

/** Writes an http.yaml + app.py pair into a fresh folder. */
function project(app: string, extraYaml = ""): { config: string; dir: string; port: number } {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-start-" });
  const port = freePort();
  Deno.writeTextFileSync(join(dir, "app.py"), app);
  Deno.writeTextFileSync(
    join(dir, "http.yaml"),
    `script: app.py\nworkers: 2\nservers:\n  - listen: 127.0.0.1:${port}\n${extraYaml}`,
  );
  return { config: join(dir, "http.yaml"), dir, port };
}

async function assertNotListening(port: number) {
  await assert.rejects(() => Deno.connect({ hostname: "127.0.0.1", port }));
}

/**
 * `serve` refuses the project (exit 1, "Cannot start: …") and `check` refuses it the same way
 * without serving (exit 2): a CI step can trust check.
 *
 * @returns serve's output
 */
async function refusedByServeAndCheck(config: string, ...patterns: RegExp[]): Promise<string> {
  const serve = await runToExit({ config });
  assert.equal(serve.code, 1, serve.output);
  const check = await runToExit({ config, command: "check" });
  assert.equal(check.code, 2, check.output);
  for (const p of patterns) {
    assert.match(serve.output, p);
    assert.match(check.output, p, `check does not say what serve says:\n${check.output}`);
  }
  assert.doesNotMatch(check.output, /: ok \(/);
  return serve.output;
}

const HELLO =
  `from siphon import http\n\n@http.route("/")\ndef index(req):\n    return http.Response(200, None, "hi")\n`;

Deno.test("serve exits 2 with one positioned line for a bad config, without listening", async () => {
  const p = project(HELLO, "    max_body_bytes: lots\n");
  const { code, output } = await runToExit({ config: p.config });
  assert.equal(code, 2);
  assert.equal(
    output.trim(),
    `${p.config}:5:21: servers[0].max_body_bytes: expected a whole number >= 0, got "lots"`,
  );
  await assertNotListening(p.port);
});

Deno.test("check validates the config and imports the script, without serving", async () => {
  const p = project(HELLO, "routes:\n  - path: /also\n    handler: index\n");
  const { code, output } = await runToExit({ config: p.config, command: "check" });
  assert.equal(code, 0, output);
  assert.match(
    output,
    /: ok \(1 listener, 2 routes from http\.yaml and app\.py, 2 workers; on_startup hooks not run\)/,
  );
  await assertNotListening(p.port);
});

Deno.test("a script that fails to import is reported with its traceback and line", async () => {
  const p = project(`from siphon import http\n\nx = 1\nraise RuntimeError("bad import")\n`);
  const output = await refusedByServeAndCheck(
    p.config,
    /Cannot import .*app\.py:/,
    new RegExp(`File "${p.dir}/app.py", line 4, in <module>`),
    /RuntimeError: bad import/,
  );
  assert.match(output, /Cannot start: Cannot import .*app\.py:/);
  await assertNotListening(p.port);
});

Deno.test("a syntax error in the script names file and line", async () => {
  const p = project(`from siphon import http\n\ndef broken(:\n    pass\n`);
  await refusedByServeAndCheck(
    p.config,
    new RegExp(`File "${p.dir}/app.py", line 3`),
    /SyntaxError/,
  );
});

Deno.test("a yaml route and a decorator route that collide are refused, naming both", async () => {
  const p = project(
    `from siphon import http\n\ndef a(req):\n    return http.Response()\n\n` +
      `@http.route("/u/{name}", methods=["get"])\ndef b(req):\n    return http.Response()\n`,
    "routes:\n  - path: /u/{id}\n    handler: a\n",
  );
  await refusedByServeAndCheck(
    p.config,
    new RegExp(
      `Cannot add route GET /u/\\{name\\} \\(${p.dir}/app.py:6\\): it can never be told apart ` +
        `from GET /u/\\{id\\} \\(${p.config}:6:5\\)`,
    ),
  );
});

Deno.test("a yaml route naming a missing function is refused with its position", async () => {
  const p = project(HELLO, "routes:\n  - path: /x\n    handler: nope\n");
  await refusedByServeAndCheck(
    p.config,
    new RegExp(`${p.config}:6:5: routes handler 'nope': no function`),
  );
  const typo = project(
    HELLO + "\ndef get_user(req):\n    return None\n",
    "routes:\n  - path: /x\n    handler: get_usr\n",
  );
  await refusedByServeAndCheck(
    typo.config,
    new RegExp(
      `${typo.config}:6:5: routes handler 'get_usr': no function of that name in ` +
        `${typo.dir}/app\\.py \\(did you mean 'get_user'\\?\\); define it or fix the name`,
    ),
  );
});

Deno.test("on_startup raising stops the start, with the traceback", async () => {
  const p = project(
    `from siphon import http\n\n@http.on_startup\ndef boot():\n    raise KeyError("db")\n`,
  );
  const { code, output } = await runToExit({ config: p.config });
  assert.equal(code, 1);
  assert.match(output, /@http\.on_startup boot raised:/);
  assert.match(output, new RegExp(`File "${p.dir}/app.py", line 5, in boot`));
  await assertNotListening(p.port);
  // check imports the script but, by design, runs no on_startup hook (it may need live services).
  const check = await runToExit({ config: p.config, command: "check" });
  assert.equal(check.code, 0, check.output);
  assert.match(check.output, /on_startup hooks not run/);
});

Deno.test("serves after a cold Pyodide load (SIPHON_SNAPSHOT=off)", async () => {
  const p = project(HELLO);
  const server = await startServer({ config: p.config, env: { SIPHON_SNAPSHOT: "off" } });
  try {
    assert.equal(await fetch(`http://127.0.0.1:${p.port}/`).then((r) => r.text()), "hi");
    assert.match(server.logs(), /python from cold/);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

Deno.test("a corrupt cached snapshot falls back to a cold load with a warning", async () => {
  const p = project(HELLO);
  const cache = Deno.makeTempDirSync({ prefix: "siphon-cache-" });
  // Build a real snapshot first so the file name (its cache key) is right, then corrupt it.
  const first = await startServer({ config: p.config, env: { SIPHON_CACHE_DIR: cache } });
  assert.match(first.logs(), /built the Python snapshot/);
  assert.match(first.logs(), /python from snapshot/);
  await first.stop();
  const [file] = [...Deno.readDirSync(cache)].filter((e) => e.name.endsWith(".snapshot"))
    .map((e) => join(cache, e.name));
  const bytes = Deno.readFileSync(file);
  Deno.writeFileSync(file, bytes.subarray(0, 4096));
  const server = await startServer({ config: p.config, env: { SIPHON_CACHE_DIR: cache } });
  try {
    assert.equal(await fetch(`http://127.0.0.1:${p.port}/`).then((r) => r.text()), "hi");
    assert.match(server.logs(), /Cannot restore the Python memory snapshot/);
    assert.match(server.logs(), /python from cold/);
  } finally {
    await server.stop();
  }
});

Deno.test("--log-level debug: the start's phases are logged with their times, in order", async () => {
  const p = project(HELLO);
  const spawned = Date.now();
  const server = await startServer({ config: p.config, args: ["--log-level", "debug"] });
  const ready = Date.now();
  try {
    const marks = [...server.logs().matchAll(/\[(\w+)\] startup: (.+) at (\d+\.\d)\n/g)]
      .map(([, thread, phase, at]) => ({ thread, phase, at: Number(at) }));
    const of = (thread: string) => marks.filter((m) => m.thread === thread);
    const phases = (thread: string) => of(thread).map((m) => m.phase);
    for (
      const phase of [
        "runtime started",
        "head start settled",
        "modules loaded",
        "config loaded",
        "first worker listening",
        "workers listening",
      ]
    ) assert.ok(phases("main").includes(phase), `main: ${phase}\n${server.logs()}`);
    for (const w of ["w1", "w2"]) {
      assert.deepEqual(phases(w).slice(-4), [
        "python restored from the snapshot",
        "script imported, routes compiled",
        "on_startup done",
        "listening",
      ]);
      assert.ok(phases(w).includes("snapshot memory written"), phases(w).join(", "));
    }
    for (const thread of ["main", "w1", "w2"]) {
      const times = of(thread).map((m) => m.at);
      assert.deepEqual(times, [...times].sort((a, b) => a - b), `${thread}: in time order`);
      // The clock is the wall clock (epoch ms), shared with whoever spawned the server.
      assert.ok(
        times.every((t) => t >= spawned - 1000 && t <= ready + 1000),
        `${thread}: ${times}`,
      );
    }
  } finally {
    await server.stop();
  }
});
