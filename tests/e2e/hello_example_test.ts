/**
 * The README's 30-second example: examples/hello served as `deno task start` serves it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, ROOT, startServer } from "../../harness/launch.ts";

Deno.test("examples/hello answers its three routes", async () => {
  const port = freePort();
  const server = await startServer({
    config: join(ROOT, "examples", "hello", "http.yaml"),
    env: { PORT: String(port), WORKERS: "2" },
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    assert.equal(await fetch(`${base}/`).then((r) => r.text()), "hello from siphon-deno\n");
    const user = await fetch(`${base}/users/7`).then((r) => r.json());
    assert.deepEqual(user, { id: 7, name: "user7" });
    const echo = await fetch(`${base}/echo`, {
      method: "POST",
      body: "ping",
      headers: { "content-type": "text/x-ping" },
    });
    assert.equal(echo.headers.get("content-type"), "text/x-ping");
    assert.equal(await echo.text(), "ping");
    assert.match(server.logs(), /hello example ready/);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
