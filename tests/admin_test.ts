/**
 * The admin listener: /healthz, /readyz, /metrics summed over workers, never shadowing user
 * routes; an explicitly configured address that is taken stops the start.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, fresh, runToExit, startServer, waitFor } from "./_server.ts";

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
      /Cannot start: admin listener 127\.0\.0\.1:\d+: .*; change admin\.listen or set admin: false/,
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
