/**
 * A listener address another process holds stops the start (or the reload), instead of being
 * shared through SO_REUSEPORT: two servers on one port would silently split the traffic. The
 * server's own workers still share their sockets (every other e2e test runs 2 workers; reloads
 * and recycling keep theirs open: tests/e2e/reload_test.ts, tests/e2e/recycle_test.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, fresh, runToExit, startServer } from "../../harness/launch.ts";

function project(ports: number[]): string {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-ports-" });
  Deno.writeTextFileSync(
    join(dir, "app.py"),
    'import os\nfrom siphon import http\n\n@http.route("/")\ndef index(req):\n' +
      '    return http.Response(200, None, os.environ["SIPHON_WORKER"])\n',
  );
  const yaml = (list: number[]) =>
    `script: app.py\nworkers: 2\nadmin: false\nservers:\n` +
    list.map((p) => `  - listen: 127.0.0.1:${p}\n`).join("");
  Deno.writeTextFileSync(join(dir, "http.yaml"), yaml(ports));
  return join(dir, "http.yaml");
}

Deno.test("a port held by another program stops the start with exit 1", async () => {
  const held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (held.addr as Deno.NetAddr).port;
  try {
    const { code, output } = await runToExit({ config: project([freePort(), port]) });
    assert.equal(code, 1, output);
    assert.match(
      output,
      new RegExp(
        `Cannot start: address 127\\.0\\.0\\.1:${port} is already in use \\(another process ` +
          `listens there\\); stop that process or change servers\\[1\\]\\.listen in .*http\\.yaml`,
      ),
    );
  } finally {
    held.close();
  }
});

Deno.test("a second siphon-deno on the same port is refused; the first keeps all the traffic", async () => {
  const port = freePort();
  const first = await startServer({ config: project([port]) });
  try {
    const { code, output } = await runToExit({ config: project([port]) });
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`address 127\\.0\\.0\\.1:${port} is already in use`));
    for (let i = 0; i < 10; i++) {
      assert.equal((await fresh(`http://127.0.0.1:${port}/`)).status, 200);
    }
  } finally {
    assert.equal((await first.stop()).code, 0);
  }
});

Deno.test("a reload adding a listener on a taken port fails; the old generation keeps serving", async () => {
  const [port, taken] = [freePort(), Deno.listen({ hostname: "127.0.0.1", port: 0 })];
  const takenPort = (taken.addr as Deno.NetAddr).port;
  const config = project([port]);
  const server = await startServer({ config });
  try {
    Deno.writeTextFileSync(
      config,
      Deno.readTextFileSync(config) + `  - listen: 127.0.0.1:${takenPort}\n`,
    );
    await server.waitForLog(
      new RegExp(
        `reload failed \\(file change\\)[^\\n]*\\n[^\\n]*address 127\\.0\\.0\\.1:${takenPort} is already in use`,
      ),
    );
    assert.equal((await fresh(`http://127.0.0.1:${port}/`)).status, 200);
  } finally {
    taken.close();
    assert.equal((await server.stop()).code, 0);
  }
});
