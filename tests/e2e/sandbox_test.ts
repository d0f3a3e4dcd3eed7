/**
 * A hostile script against the worker's Deno permissions: each escape the script tries through
 * the worker's JavaScript (`import js`, `Function`, Pyodide's own FS API) is refused by Deno, or
 * survived, and the server keeps serving.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CACHE_DIR, freePort, fresh, ROOT, startServer, waitFor } from "../../harness/launch.ts";

const CONFIG = join(ROOT, "tests", "fixtures", "sandbox", "http.yaml");

Deno.test("sandbox: a script reaches only what its config grants", async (t) => {
  const [port, admin] = [freePort(), freePort()];
  const ro = Deno.makeTempDirSync({ prefix: "siphon-ro-" });
  const rw = Deno.makeTempDirSync({ prefix: "siphon-rw-" });
  Deno.writeTextFileSync(join(ro, "ro.txt"), "read-only data");
  const outside = Deno.makeTempDirSync({ prefix: "siphon-outside-" });
  const server = await startServer({
    config: CONFIG,
    env: {
      PORT: String(port),
      ADMIN_PORT: String(admin),
      RO_DIR: ro,
      RW_DIR: rw,
      GRANTED: "yes",
      SECRET_NOT_GRANTED: "hunter2",
    },
  });
  const base = `http://127.0.0.1:${port}`;
  const escape = async (what: string, query = "") =>
    (await fresh(`${base}/escape/${what}?${query}`)).text;
  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
  try {
    await t.step("files: nothing outside the script's folder and the mounts", async () => {
      assert.match(
        await escape("read", q({ path: "/etc/hostname" })),
        /^refused: .*Requires read access to "\/etc\/hostname"/,
      );
      assert.match(
        await escape("read", q({ path: join(ROOT, "tests", "fixtures", "sandbox", "app.py") })),
        /^allowed: """A script/,
      );
      assert.match(await escape("function"), /^refused: .*Requires read access/);
      for (
        const path of [
          join(outside, "x"),
          join(ROOT, "tests", "fixtures", "sandbox", "x.py"),
          join(CACHE_DIR, "x"),
        ]
      ) {
        assert.match(await escape("write", q({ path })), /^refused: .*Requires write access/, path);
        assert.throws(() => Deno.statSync(path));
      }
      assert.equal(await escape("write", q({ path: join(rw, "ok.txt") })), "allowed: None");
      assert.equal(Deno.readTextFileSync(join(rw, "ok.txt")), "planted");
    });

    await t.step("read-only means read-only, through Pyodide's own file system too", async () => {
      assert.match(
        await escape("mount-ro", q({ host: ro })),
        /^refused: \[Errno \d+\] Permission denied/,
      );
      assert.equal(Deno.readTextFileSync(join(ro, "ro.txt")), "read-only data");
    });

    await t.step("environment: only what python.env lists", async () => {
      const env = JSON.parse((await fresh(`${base}/environ`)).text);
      delete env.SIPHON_WORKER;
      assert.deepEqual(env, { GRANTED: "yes", FIXED: "fixed value" });
      assert.match(await escape("env"), /^refused: .*Requires env access/);
    });

    await t.step("network: no new listener, no admin listener, no host not granted", async () => {
      assert.match(
        await escape("listen", q({ port: String(freePort()) })),
        /^refused: .*Requires net access/,
      );
      assert.match(
        await escape("admin", q({ url: `http://127.0.0.1:${admin}/metrics` })),
        /^refused: .*Requires net access/,
      );
      const client = await escape("client", q({ url: `http://127.0.0.1:${admin}` }));
      assert.match(
        client,
        /^refused: .*may not reach 127\.0\.0\.1:\d+.*add "127\.0\.0\.1:\d+" to python\.allow_net/,
      );
    });

    await t.step("the worker cannot end itself; Deno's internals are gone", async () => {
      for (const what of ["exit", "close", "process-exit"]) {
        assert.match(await escape(what), /^refused: .*not available in a siphon-deno worker/, what);
      }
      assert.equal(await escape("internal"), "allowed: None");
      const seen = new Set<string>();
      await waitFor(
        async () => {
          seen.add((await fresh(`${base}/who`)).text);
          return seen.size === 2;
        },
        "both workers still serving",
        server.logs,
      );
      assert.doesNotMatch(server.logs(), /replaced|died/);
    });

    await t.step("a forged message: the worker is replaced, the process serves on", async () => {
      assert.equal(await escape("forge"), "posted");
      await server.waitForLog(
        /worker \d: it posted a "handshake_failed" message on its thread's own channel/,
      );
      await server.waitForLog(/worker \d replaced in \d+ ms/);
      await waitFor(
        async () => (await fresh(`http://127.0.0.1:${admin}/readyz`)).status === 200,
        "/readyz 200 again",
        server.logs,
      );
      assert.equal((await fresh(`${base}/who`)).status, 200);
    });
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
