/**
 * siphon.cache, memory backend, end to end with 2 workers: one store for the whole process.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, fresh, ROOT, startServer, waitFor } from "../../harness/launch.ts";

const FIXTURE = join(ROOT, "tests", "fixtures", "cache");

Deno.test("siphon.cache (memory): shared by workers, atomic, bounded, survives reload and replacement", async (t) => {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-cache-" });
  for (const f of ["http.yaml", "app.py"]) Deno.copyFileSync(join(FIXTURE, f), join(dir, f));
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = await startServer({ config: join(dir, "http.yaml"), env: { PORT: String(port) } });
  try {
    await t.step("a value stored by one worker is seen by every request", async () => {
      assert.equal((await fresh(`${base}/store?k=greeting&v=hej`)).text, "stored");
      const workers = new Set<string>();
      for (let i = 0; i < 50; i++) {
        const r = await fresh(`${base}/fetch?k=greeting`);
        assert.deepEqual([r.status, r.text], [200, "hej"]);
        workers.add(r.headers.get("x-worker")!);
      }
      assert.equal(workers.size, 2, "the fetches landed on both workers");
    });
    await t.step("ttl expires entries", async () => {
      await fresh(`${base}/store?k=brief&v=x&ttl=0.3`);
      assert.equal((await fresh(`${base}/fetch?k=brief`)).status, 200);
      await new Promise((r) => setTimeout(r, 450));
      assert.equal((await fresh(`${base}/fetch?k=brief`)).status, 404);
    });
    await t.step("200 concurrent incr end at exactly 200", async () => {
      const all = await Promise.all(
        Array.from({ length: 200 }, () => fresh(`${base}/incr`, { method: "POST" })),
      );
      const values = all.map((r) => Number(r.text)).sort((a, b) => a - b);
      assert.deepEqual(values, Array.from({ length: 200 }, (_, i) => i + 1));
    });
    await t.step("add wins exactly once under a race", async () => {
      const all = await Promise.all(
        Array.from({ length: 100 }, () => fresh(`${base}/add?id=msg-1`, { method: "POST" })),
      );
      assert.equal(all.filter((r) => r.text === "won").length, 1);
      assert.equal(all.filter((r) => r.text === "lost").length, 99);
    });
    await t.step("the LRU bound holds", async () => {
      for (let i = 0; i < 10; i++) await fresh(`${base}/store?c=small&k=k${i}&v=${i}`);
      const present = [];
      for (let i = 0; i < 10; i++) {
        if ((await fresh(`${base}/fetch?c=small&k=k${i}`)).status === 200) present.push(i);
      }
      assert.deepEqual(present, [5, 6, 7, 8, 9]);
    });
    await t.step("local_ttl_secs bounds how long a memory entry lives", async () => {
      await fresh(`${base}/store?c=brief&k=soon&v=x`);
      await fresh(`${base}/store?c=brief&k=long&v=x&ttl=3600`);
      assert.equal((await fresh(`${base}/fetch?c=brief&k=soon`)).status, 200);
      await waitFor(
        async () => (await fresh(`${base}/fetch?c=brief&k=long`)).status === 404,
        "the entry stored with ttl=3600 gone after local_ttl_secs (1 s)",
        server.logs,
      );
    });
    await t.step("lists, and clear errors", async () => {
      assert.equal((await fresh(`${base}/list`)).text, "2 a,b False");
      assert.equal(
        (await fresh(`${base}/errors`)).text,
        "cache 'shared', incr 'text': cannot incr \"text\": it holds text, not a whole number\n" +
          "siphon.cache values are str, got int",
      );
    });
    await t.step(
      "siphon-http's answers: True/False, lengths, unknown names, siphon: keys",
      async () => {
        const answers = JSON.parse((await fresh(`${base}/siphon-http`)).text);
        assert.deepEqual(answers, {
          store: true,
          delete_missing: true,
          pushes: [1, 2, 1, 1],
          len_sum: 3,
          has: [true, false],
          expire: [true, false],
          unknown: [null, false, false, false, null, [], null, false],
          refused: [
            "keys starting with 'siphon:' are reserved for internal use",
            "prefix must not be empty (it would scan the whole cache)",
          ],
        });
        await fresh(`${base}/siphon-http`);
        const warnings = server.logs().match(/no cache named 'nope'[^\n]*/g) ?? [];
        assert.ok(warnings.length >= 1 && warnings.length <= 2, "one warning per worker at most");
        assert.match(
          warnings[0]!,
          /no cache named 'nope' \(configured: brief, shared, small\); its calls answer as for a missing key/,
        );
      },
    );
    await t.step("state survives a hot reload", async () => {
      const app = join(dir, "app.py");
      Deno.writeTextFileSync(app, Deno.readTextFileSync(app).replace("VERSION = 1", "VERSION = 2"));
      await waitFor(
        async () => (await fresh(`${base}/version`)).text === "2",
        "the reloaded script serving",
        server.logs,
      );
      assert.equal((await fresh(`${base}/fetch?k=greeting`)).text, "hej");
    });
    await t.step("state survives a worker replacement", async () => {
      await fresh(`${base}/exit`);
      await server.waitForLog(/worker \d replaced in/);
      for (let i = 0; i < 10; i++) {
        assert.equal((await fresh(`${base}/fetch?k=greeting`)).text, "hej");
      }
    });
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
