/**
 * Hot reload under load: 10 edits (3 bad) to the route table and the script while the driver
 * keeps 32 connections busy. No request may fail; good edits show up, bad ones are reported
 * and the old generation keeps serving.
 */
import assert from "node:assert/strict";
import { reloadSoak } from "../harness/reload_soak.ts";
import { freePort, startServer } from "./_server.ts";

Deno.test("hot reload under load: 0 failed requests over 10 edits, bad edits ignored", async () => {
  const { edits, load, logs } = await reloadSoak({ port: freePort() });
  for (const e of edits) {
    console.log(`  ${e.good ? "good" : "bad "} ${Math.round(e.ms)} ms  ${e.name}`);
  }
  console.log(`  load: ${load.requests} requests, ${load.errors} errors`);
  assert.equal(edits.length, 10);
  assert.equal(edits.filter((e) => !e.good).length, 3);
  assert.ok(load.requests > 1000, `only ${load.requests} requests`);
  assert.equal(load.errors, 0, JSON.stringify(load));
  for (const e of edits) {
    // The issue's bound: every edit shows (or is reported) within 1.5 s, under load.
    assert.ok(e.ms <= 1500, `${e.name}: ${Math.round(e.ms)} ms`);
    if (!e.good) assert.equal(e.oldKeptServing, true, `${e.name}: old generation stopped serving`);
  }
  assert.match(logs, /reload failed \(file change\); generation \d+ keeps serving/);
  assert.match(logs, /YAML syntax error/);
  assert.match(logs, /RuntimeError: bad edit/);
  assert.match(logs, /it can never be told apart from GET \/ping/);
  assert.match(logs, /reloaded \(file change\): generation 8 serving/);
});

Deno.test("reload opens an added listener and closes a removed one; the kept one never closes", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-listeners-" });
  Deno.writeTextFileSync(
    `${dir}/app.py`,
    'from siphon import http\n\n@http.route("/")\ndef index(req):\n    return http.Response(200, None, "hi")\n',
  );
  const [a, b] = [freePort(), freePort()];
  const config = (ports: number[]) =>
    `script: app.py\nworkers: 2\nservers:\n${
      ports.map((p) => `  - listen: 127.0.0.1:${p}\n`).join("")
    }`;
  Deno.writeTextFileSync(`${dir}/http.yaml`, config([a]));
  const server = await startServer({ config: `${dir}/http.yaml` });
  const answers = (port: number) =>
    fetch(`http://127.0.0.1:${port}/`).then(async (r) => (await r.text()) === "hi").catch(() =>
      false
    );
  const until = async (check: () => Promise<boolean>) => {
    const t0 = Date.now();
    while (!(await check())) {
      if (Date.now() - t0 > 5000) return false;
      await new Promise((r) => setTimeout(r, 20));
    }
    return true;
  };
  try {
    // A keep-alive connection to the first listener must survive both reloads.
    const client = Deno.createHttpClient({ poolMaxIdlePerHost: 1 });
    const viaKept = () => fetch(`http://127.0.0.1:${a}/`, { client }).then((r) => r.text());
    assert.equal(await viaKept(), "hi");
    Deno.writeTextFileSync(`${dir}/http.yaml`, config([a, b]));
    assert.ok(await until(() => answers(b)), "the added listener never answered");
    assert.equal(await viaKept(), "hi");
    Deno.writeTextFileSync(`${dir}/http.yaml`, config([a]));
    assert.ok(await until(async () => !(await answers(b))), "the removed listener kept answering");
    assert.equal(await viaKept(), "hi");
    client.close();
    // Workers batch info lines (up to 20 ms).
    const closed = new RegExp(`closed listener 127\\.0\\.0\\.1:${b}`);
    assert.ok(await until(() => Promise.resolve(closed.test(server.logs()))), server.logs());
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
