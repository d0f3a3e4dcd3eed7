/**
 * The admin listener: /healthz, /readyz, /metrics summed over workers, never shadowing user
 * routes; an explicitly configured address that is taken stops the start; at boot it answers
 * before the workers do, and /readyz turns 200 only when every worker accepts, while the first
 * worker ready already serves.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  freePort,
  fresh,
  ROOT,
  runToExit,
  siphonCommand,
  startServer,
  waitFor,
} from "../../harness/launch.ts";

function project(adminPort: number, port: number, metrics = true): string {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-admin-" });
  Deno.writeTextFileSync(
    join(dir, "app.py"),
    `from siphon import http\n\n@http.route("/users/{id:int}")\ndef user(req):\n` +
      `    return http.Response(200, None, str(req.path_params["id"]))\n\n` +
      `@http.route("/healthz")\ndef mine(req):\n    return http.Response(200, None, "user health")\n`,
  );
  Deno.writeTextFileSync(
    join(dir, "http.yaml"),
    `script: app.py\nworkers: 2\n` +
      `admin: { listen: "127.0.0.1:${adminPort}", metrics: ${metrics} }\n` +
      `servers:\n  - listen: 127.0.0.1:${port}\n`,
  );
  return join(dir, "http.yaml");
}

Deno.test("admin listener: health, readiness and metrics summed over workers", async () => {
  const [adminPort, port] = [freePort(), freePort()];
  const config = project(adminPort, port);
  const server = await startServer({ config });
  const admin = `http://127.0.0.1:${adminPort}`;
  try {
    const health = await fresh(`${admin}/healthz`);
    assert.deepEqual([health.status, health.text], [200, "ok\n"]);
    const ready = await fresh(`${admin}/readyz`);
    assert.deepEqual([ready.status, ready.text], [200, "ready\n"]);
    assert.equal((await fresh(`${admin}/users/1`)).status, 404);
    assert.equal(
      (await fresh(`http://127.0.0.1:${port}/healthz`)).text,
      "user health",
      "not shadowed",
    );
    for (let i = 0; i < 6; i++) {
      assert.equal((await fresh(`http://127.0.0.1:${port}/users/${i}`)).status, 200);
    }
    assert.equal((await fresh(`http://127.0.0.1:${port}/missing`)).status, 404);
    const metrics = (await fresh(`${admin}/metrics`)).text;
    const line = (l: string) =>
      assert.ok(metrics.split("\n").includes(l), `missing ${l}\n${metrics}`);
    line('siphon_requests_total{route="/users/{id:int}",method="GET",status="200"} 6');
    line('siphon_requests_total{route="(none)",method="GET",status="404"} 1');
    line('siphon_requests_total{route="/healthz",method="GET",status="200"} 1');
    line('siphon_request_duration_seconds_bucket{le="+Inf"} 8');
    line("siphon_workers 2");
    line('siphon_reloads_total{result="ok"} 0');
    assert.match(metrics, /^siphon_worker_busy_seconds_total\{worker="1"\} [\d.e-]+$/m);
    assert.match(metrics, /^siphon_worker_busy_seconds_total\{worker="2"\} [\d.e-]+$/m);
    Deno.kill(server.pid, "SIGHUP");
    await waitFor(
      async () =>
        (await fresh(`${admin}/metrics`)).text.includes('siphon_reloads_total{result="ok"} 1'),
      "the SIGHUP reload counted in /metrics",
      server.logs,
    );
    assert.match((await fresh(`${admin}/metrics`)).text, /^siphon_generation 2$/m);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

Deno.test("an explicitly configured admin address that is taken stops the start", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = freePort();
  try {
    const { code, output } = await runToExit({
      config: project((taken.addr as Deno.NetAddr).port, port),
    });
    assert.equal(code, 1);
    assert.match(
      output,
      /Cannot start: admin listener 127\.0\.0\.1:\d+: .*; pick another address \(admin\.listen in http\.yaml, --admin HOST:PORT or SIPHON_ADMIN=HOST:PORT\) or turn it off/,
    );
  } finally {
    taken.close();
  }
});

Deno.test("admin.metrics: false keeps health and readiness and turns /metrics off", async () => {
  const [adminPort, port] = [freePort(), freePort()];
  const server = await startServer({ config: project(adminPort, port, false) });
  const admin = `http://127.0.0.1:${adminPort}`;
  try {
    assert.equal((await fresh(`http://127.0.0.1:${port}/users/1`)).status, 200);
    assert.equal((await fresh(`${admin}/healthz`)).status, 200);
    assert.equal((await fresh(`${admin}/readyz`)).status, 200);
    const metrics = await fresh(`${admin}/metrics`);
    assert.equal(metrics.status, 404);
    assert.match(metrics.text, /metrics are off \(admin\.metrics: false in http\.yaml\)/);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

Deno.test("boot: a worker accepts as soon as it is ready; /readyz waits for every worker", async () => {
  const [adminPort, port] = [freePort(), freePort()];
  // Worker 2's on_startup waits for a gate this test holds shut.
  let asked!: () => void;
  const gateAsked = new Promise<void>((resolve) => asked = resolve);
  let open!: () => void;
  const gateOpen = new Promise<void>((resolve) => open = resolve);
  const gate = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    asked();
    await gateOpen;
    return new Response("open");
  });
  const dir = Deno.makeTempDirSync({ prefix: "siphon-boot-" });
  Deno.writeTextFileSync(
    join(dir, "app.py"),
    "import os\nfrom siphon import http\n\n@http.on_startup\nasync def hold():\n" +
      '    if os.environ["SIPHON_WORKER"] == "2":\n' +
      '        async with http.Client(base_url=os.environ["GATE"], timeout_ms=600000) as c:\n' +
      '            await c.get("/open")\n\n' +
      '@http.route("/who")\ndef who(req):\n    return http.Response(200, None, os.environ["SIPHON_WORKER"])\n',
  );
  Deno.writeTextFileSync(
    join(dir, "http.yaml"),
    `script: app.py\nworkers: 2\nadmin: { listen: "127.0.0.1:${adminPort}" }\n` +
      `servers:\n  - listen: 127.0.0.1:${port}\n` +
      `python: { env: [GATE], allow_net: ["127.0.0.1:${gate.addr.port}"] }\n`,
  );
  const server = await startServer({
    config: join(dir, "http.yaml"),
    env: { GATE: `http://127.0.0.1:${gate.addr.port}` },
    readyPattern: /admin listener on/,
  });
  const admin = `http://127.0.0.1:${adminPort}`;
  try {
    await gateAsked;
    await waitFor(
      async () => (await fresh(`http://127.0.0.1:${port}/who`)).text === "1",
      "worker 1 answering while worker 2 is in on_startup",
      server.logs,
    );
    assert.deepEqual((await fresh(`${admin}/healthz`)).status, 200);
    assert.deepEqual(
      [(await fresh(`${admin}/readyz`)).status, (await fresh(`${admin}/readyz`)).text],
      [503, "not ready\n"],
    );
    assert.doesNotMatch(server.logs(), /\] serving /, "not yet serving with every worker");
    open();
    await server.waitForLog(/\] serving .* with 2 workers/);
    assert.equal((await fresh(`${admin}/readyz`)).status, 200);
    const seen = new Set<string>();
    await waitFor(
      async () => seen.add((await fresh(`http://127.0.0.1:${port}/who`)).text).size === 2,
      "both workers answering",
      () => `seen ${[...seen]}`,
    );
  } finally {
    open();
    assert.equal((await server.stop()).code, 0);
    await gate.shutdown();
  }
});

Deno.test("two examples side by side, no file edited: PORT and ADMIN_PORT apart", async () => {
  const hello = join(ROOT, "examples", "hello", "http.yaml");
  const rest = join(ROOT, "examples", "rest", "http.yaml");
  const [a, b] = [freePort(), freePort()];
  const [adminA, adminB] = [freePort(), freePort()];
  const first = await startServer({
    config: hello,
    env: { PORT: String(a), ADMIN_PORT: String(adminA), WORKERS: "1" },
  });
  const second = await startServer({
    config: rest,
    env: { PORT: String(b), ADMIN_PORT: String(adminB) },
  });
  try {
    assert.equal((await fresh(`http://127.0.0.1:${a}/`)).text, "hello from siphon-deno\n");
    assert.equal((await fresh(`http://127.0.0.1:${b}/items/1`)).status, 404);
    for (const admin of [adminA, adminB]) {
      await waitFor(
        async () => (await fresh(`http://127.0.0.1:${admin}/readyz`)).status === 200,
        `/readyz on ${admin}`,
      );
    }
  } finally {
    assert.equal((await first.stop()).code, 0);
    assert.equal((await second.stop()).code, 0);
  }
});

Deno.test("--admin and SIPHON_ADMIN move the admin listener or turn it off", async (t) => {
  const [adminPort, port] = [freePort(), freePort()];
  const config = project(adminPort, port);
  await t.step("--admin wins over http.yaml's address and keeps its other settings", async () => {
    const moved = freePort();
    const server = await startServer({ config, args: ["--admin", `127.0.0.1:${moved}`] });
    try {
      await server.waitForLog(new RegExp(`admin listener on http://127\\.0\\.0\\.1:${moved} `));
      assert.equal((await fresh(`http://127.0.0.1:${moved}/healthz`)).status, 200);
      assert.match((await fresh(`http://127.0.0.1:${moved}/metrics`)).text, /siphon_/);
      const old = await fetch(`http://127.0.0.1:${adminPort}/healthz`).then(
        () => "answered",
        () => "refused",
      );
      assert.equal(old, "refused", "the file's address is not bound");
      assert.equal(
        (await runHealth(["--admin", `127.0.0.1:${moved}`])).code,
        0,
        "health finds the listener by --admin",
      );
    } finally {
      assert.equal((await server.stop()).code, 0);
    }
  });
  await t.step(
    "SIPHON_ADMIN=127.0.0.1:0 takes any free port and logs it; --admin beats it",
    async () => {
      const server = await startServer({ config, env: { SIPHON_ADMIN: "127.0.0.1:0" } });
      try {
        const m = await server.waitForLog(/admin listener on http:\/\/127\.0\.0\.1:(\d+) /);
        assert.notEqual(m[1], "0");
        assert.equal((await fresh(`http://127.0.0.1:${m[1]}/readyz`)).status, 200);
      } finally {
        assert.equal((await server.stop()).code, 0);
      }
      const flag = freePort();
      const both = await startServer({
        config,
        env: { SIPHON_ADMIN: "off" },
        args: ["--admin", `127.0.0.1:${flag}`],
      });
      try {
        assert.equal((await fresh(`http://127.0.0.1:${flag}/healthz`)).status, 200);
      } finally {
        assert.equal((await both.stop()).code, 0);
      }
    },
  );
  await t.step("off: no admin listener, the server still serves", async () => {
    const server = await startServer({ config, args: ["--admin", "off"] });
    try {
      assert.equal((await fresh(`http://127.0.0.1:${port}/users/3`)).text, "3");
      assert.doesNotMatch(server.logs(), /admin listener/);
      const admin = await fetch(`http://127.0.0.1:${adminPort}/healthz`).then(
        () => "answered",
        () => "refused",
      );
      assert.equal(admin, "refused");
    } finally {
      assert.equal((await server.stop()).code, 0);
    }
  });
  await t.step("a bad value is refused, naming where it came from", async () => {
    const flag = await runToExit({ config, command: "check", args: ["--admin", "nowhere:http"] });
    assert.equal(flag.code, 2);
    assert.match(
      flag.output,
      /^--admin: admin: expected "host:port" with a port from 0 to 65535, got "nowhere:http"/m,
    );
    const env = await runToExit({ config, command: "check", env: { SIPHON_ADMIN: "localhost" } });
    assert.equal(env.code, 2);
    assert.match(env.output, /^SIPHON_ADMIN: admin: expected "host:port"/m);
  });
});

/** `siphon-deno health` with `args`: its exit code. */
async function runHealth(args: string[]): Promise<{ code: number }> {
  const { cmd, args: base, env } = siphonCommand(["health", ...args]);
  const out = await new Deno.Command(cmd, { args: base, env, stdout: "null", stderr: "null" })
    .output();
  return { code: out.code };
}
