/**
 * examples/chat as its README says to use it: the page comes from its `static:` folder (Deno,
 * not Python), and two members in two headless Chromium pages hear each other over the
 * script's WebSockets — with no console error and nothing fetched but the page's own socket.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { launchChromium, type Page } from "../../harness/browser.ts";
import { freePort, fresh, ROOT, startServer, waitFor } from "../../harness/launch.ts";

/** Joins `room` as `name` in the page's form. */
function join_(page: Page, name: string, room: string): Promise<unknown> {
  return page.evaluate(`(() => {
    document.getElementById("name").value = ${JSON.stringify(name)};
    document.getElementById("room").value = ${JSON.stringify(room)};
    document.getElementById("join").requestSubmit();
  })()`);
}

const transcript = (page: Page) =>
  page.evaluate(`[...document.querySelectorAll("#log p")].map((p) => p.textContent)`) as Promise<
    string[]
  >;

Deno.test("examples/chat: the page from static:, two members in Chromium hear each other", async () => {
  const port = freePort();
  const server = await startServer({
    config: join(ROOT, "examples", "chat", "http.yaml"),
    env: { PORT: String(port) },
    args: ["--access-log"],
  });
  const base = `http://127.0.0.1:${port}`;
  const browser = await launchChromium();
  try {
    const page = await fresh(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.text, /<title>siphon-deno chat<\/title>/);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(page.headers.get("cache-control"), "no-cache");
    assert.match(page.headers.get("etag") ?? "", /^W\//);
    await server.waitForLog(/GET \/ 200 .*route=\/\{\*file\}/);

    const ada = await browser.open(`${base}/`);
    const bob = await browser.open(`${base}/`);
    await join_(ada, "ada", "lobby");
    await waitFor(async () => (await transcript(ada)).includes("ada joined lobby"), "ada joined");
    await join_(bob, "bob", "lobby");
    await waitFor(async () => (await transcript(ada)).includes("bob joined lobby"), "bob seen");
    await ada.evaluate(`(() => {
      document.getElementById("text").value = "hello bob";
      document.getElementById("say").requestSubmit();
    })()`);
    await waitFor(async () => (await transcript(bob)).includes("ada: hello bob"), "bob hears ada");
    for (const [who, p] of [["ada", ada], ["bob", bob]] as const) {
      assert.deepEqual(p.errors, [], `${who}: no console error`);
      assert.deepEqual(
        p.fetched,
        [`ws://127.0.0.1:${port}/chat/lobby?name=${who}`],
        `${who}: only its socket`,
      );
    }
    await ada.close();
    await bob.close();
  } finally {
    await browser.close();
    assert.equal((await server.stop()).code, 0);
  }
});
