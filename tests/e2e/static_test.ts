/**
 * Static folders (`static:`) on a real server: validators and 304s, ranges, HEAD, precompressed
 * siblings, index and listing, the refusals (traversal, dot-files, symlinks out of the folder,
 * methods), routes before files, the access log and metrics by the mount's label, and a hot
 * reload that adds a folder — then one that names a missing folder and keeps the old config.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import { freePort, fresh, startServer, waitFor } from "../../harness/launch.ts";

const FILE = new Uint8Array(10240).map((_, i) => 32 + (i * 7) % 90); // printable, 10 KiB

function project() {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-static-" });
  const [port, admin] = [freePort(), freePort()];
  const pub = join(dir, "public");
  for (const d of ["public/sub", "public/bare", "files/b", "more"]) {
    Deno.mkdirSync(join(dir, d), { recursive: true });
  }
  Deno.writeFileSync(join(pub, "app.js"), FILE);
  Deno.writeFileSync(join(pub, "app.js.br"), brotliCompressSync(FILE));
  Deno.writeFileSync(join(pub, "app.js.gz"), gzipSync(FILE));
  Deno.writeTextFileSync(join(pub, "index.html"), "<h1>home</h1>\n");
  Deno.writeTextFileSync(join(pub, "sub", "index.html"), "<h1>sub</h1>\n");
  Deno.writeTextFileSync(join(pub, ".env"), "SECRET=1\n");
  Deno.writeTextFileSync(join(dir, "secret.txt"), "outside the folder\n");
  Deno.symlinkSync(join(dir, "secret.txt"), join(pub, "escape.txt"));
  Deno.symlinkSync(join(pub, "app.js"), join(pub, "inner.js"));
  Deno.writeTextFileSync(join(dir, "files", "a.txt"), "a\n");
  Deno.writeTextFileSync(join(dir, "files", "<b>&.txt"), "odd name\n");
  Deno.writeTextFileSync(join(dir, "more", "m.txt"), "more\n");
  Deno.writeTextFileSync(
    join(dir, "app.py"),
    'from siphon import http\n\n@http.route("/assets/api")\ndef api(req):\n' +
      '    return http.Response(200, None, "from python")\n',
  );
  const config = (extra = "") =>
    `script: app.py\nworkers: 2\nlog: { access: true }\n` +
    `admin: { listen: "127.0.0.1:${admin}" }\n` +
    `static:\n  - path: /assets\n    dir: public\n    cache_control: "public, max-age=60"\n` +
    `  - path: /files\n    dir: files\n    listing: true\n${extra}` +
    `servers:\n  - listen: 127.0.0.1:${port}\n`;
  Deno.writeTextFileSync(join(dir, "http.yaml"), config());
  return {
    dir,
    config,
    file: join(dir, "http.yaml"),
    base: `http://127.0.0.1:${port}`,
    admin: `http://127.0.0.1:${admin}`,
  };
}

/** curl with the path sent as written (fetch would normalise `..` away). */
async function raw(url: string, ...args: string[]): Promise<{ status: number; body: string }> {
  const out = await new Deno.Command("curl", {
    args: ["-s", "--path-as-is", "-o", "-", "-w", "\n%{http_code}", ...args, url],
    stdout: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const cut = text.lastIndexOf("\n");
  return { status: Number(text.slice(cut + 1)), body: text.slice(0, cut) };
}

/** fetch asking for the file as it is (fetch would take and undo a compressed sibling). */
async function get(url: string, headers: Record<string, string> = {}, method = "GET") {
  const res = await fetch(url, { headers: { "accept-encoding": "identity", ...headers }, method });
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

/** curl with this Accept-Encoding: the Content-Encoding it got, and the bytes as they came. */
async function encoded(url: string, accept: string) {
  const dir = Deno.makeTempDirSync();
  await new Deno.Command("curl", {
    args: ["-s", "-H", `accept-encoding: ${accept}`, "-D", `${dir}/h`, "-o", `${dir}/b`, url],
  }).output();
  const head = Deno.readTextFileSync(`${dir}/h`);
  return {
    encoding: /^content-encoding: (\S+)/im.exec(head)?.[1] ?? null,
    vary: /^vary: ([^\r\n]+)/im.exec(head)?.[1] ?? null,
    bytes: Deno.readFileSync(`${dir}/b`),
  };
}

Deno.test("static folders: served by Deno with validators, ranges, encodings; refusals; reload", async (t) => {
  const p = project();
  const server = await startServer({ config: p.file });
  try {
    await t.step(
      "a file: type, length, ETag, Last-Modified, Cache-Control, Accept-Ranges",
      async () => {
        const { res, bytes } = await get(`${p.base}/assets/app.js`);
        assert.equal(res.status, 200);
        assert.deepEqual(bytes, FILE);
        assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
        assert.equal(res.headers.get("content-length"), "10240");
        assert.match(res.headers.get("etag")!, /^W\/"2800-[0-9a-f]+"$/);
        assert.match(res.headers.get("last-modified")!, /GMT$/);
        assert.equal(res.headers.get("cache-control"), "public, max-age=60");
        assert.equal(res.headers.get("accept-ranges"), "bytes");
        assert.equal(res.headers.get("vary"), "Accept-Encoding", "it has precompressed siblings");
        assert.equal(res.headers.get("content-encoding"), null, "no Accept-Encoding: the file");
        for (let i = 0; i < 5; i++) { // the kept bytes serve every answer whole
          assert.deepEqual((await get(`${p.base}/assets/app.js`)).bytes, FILE);
        }
      },
    );

    await t.step("conditional GET: If-None-Match and If-Modified-Since give 304", async () => {
      const { res } = await get(`${p.base}/assets/app.js`);
      const tag = res.headers.get("etag")!;
      const again = await get(`${p.base}/assets/app.js`, { "if-none-match": tag });
      assert.equal(again.res.status, 304);
      assert.equal(again.bytes.length, 0);
      assert.equal(again.res.headers.get("etag"), tag);
      assert.equal(again.res.headers.get("cache-control"), "public, max-age=60");
      const since = await get(`${p.base}/assets/app.js`, {
        "if-modified-since": res.headers.get("last-modified")!,
      });
      assert.equal(since.res.status, 304);
      const stale = await get(`${p.base}/assets/app.js`, { "if-none-match": 'W/"nope"' });
      assert.equal(stale.res.status, 200);
    });

    await t.step(
      "ranges: 206 with Content-Range, 416 past the end, several ranges get it all",
      async () => {
        const first = await get(`${p.base}/assets/app.js`, { range: "bytes=0-99" });
        assert.equal(first.res.status, 206);
        assert.equal(first.res.headers.get("content-range"), "bytes 0-99/10240");
        assert.deepEqual(first.bytes, FILE.slice(0, 100));
        const tail = await get(`${p.base}/assets/app.js`, { range: "bytes=-100" });
        assert.equal(tail.res.status, 206);
        assert.deepEqual(tail.bytes, FILE.slice(10140));
        const middle = await get(`${p.base}/assets/app.js`, { range: "bytes=5000-5009" });
        assert.deepEqual(middle.bytes, FILE.slice(5000, 5010));
        const past = await get(`${p.base}/assets/app.js`, { range: "bytes=10240-" });
        assert.equal(past.res.status, 416);
        assert.equal(past.res.headers.get("content-range"), "bytes */10240");
        const many = await get(`${p.base}/assets/app.js`, { range: "bytes=0-1,100-101" });
        assert.equal(many.res.status, 200);
        assert.equal(many.bytes.length, 10240);
        const changed = await get(`${p.base}/assets/app.js`, {
          range: "bytes=0-9",
          "if-range": '"not-this-one"',
        });
        assert.equal(changed.res.status, 200, "If-Range that does not match: the whole file");
      },
    );

    await t.step("HEAD: the headers without the body", async () => {
      const { res, bytes } = await get(`${p.base}/assets/app.js`, {}, "HEAD");
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-length"), "10240");
      assert.equal(bytes.length, 0);
    });

    await t.step("precompressed siblings chosen by Accept-Encoding", async () => {
      const url = `${p.base}/assets/app.js`;
      const br = await encoded(url, "gzip, deflate, br");
      assert.equal(br.encoding, "br");
      assert.deepEqual(new Uint8Array(brotliDecompressSync(br.bytes)), FILE);
      assert.equal(br.vary, "Accept-Encoding");
      const gz = await encoded(url, "gzip");
      assert.equal(gz.encoding, "gzip");
      assert.deepEqual(new Uint8Array(gunzipSync(gz.bytes)), FILE);
      assert.equal((await encoded(url, "br;q=0, gzip")).encoding, "gzip");
      const plain = await encoded(url, "identity");
      assert.equal(plain.encoding, null);
      assert.deepEqual(plain.bytes, FILE);
      // and a client that undoes it (fetch) gets the file
      assert.deepEqual(new Uint8Array(await (await fetch(url)).arrayBuffer()), FILE);
    });

    await t.step(
      "folders: index.html, a redirect to the slash, a listing only where asked",
      async () => {
        assert.equal((await fresh(`${p.base}/assets/`)).text, "<h1>home</h1>\n");
        const redirect = await fetch(`${p.base}/assets/sub?x=1`, { redirect: "manual" });
        await redirect.body?.cancel();
        assert.equal(redirect.status, 301);
        assert.equal(redirect.headers.get("location"), "/assets/sub/?x=1");
        assert.equal((await fresh(`${p.base}/assets/sub/`)).text, "<h1>sub</h1>\n");
        assert.equal((await fresh(`${p.base}/assets/bare/`)).status, 404, "no index, no listing");
        const list = await fresh(`${p.base}/files/`);
        assert.equal(list.status, 200);
        assert.match(list.text, /<a href="b\/">b\/<\/a>/);
        assert.match(list.text, /<a href="a\.txt">a\.txt<\/a>/);
        assert.match(list.text, /&#60;b&#62;&#38;\.txt/, "names escaped");
        assert.doesNotMatch(list.text, /<b>&/);
      },
    );

    await t.step(
      "refused: traversal, encoded slashes, NUL, dot-files, symlinks out, methods",
      async () => {
        for (
          const path of ["/assets/%2e%2e/secret.txt", "/assets/..%2fsecret.txt", "/assets/a%00b"]
        ) {
          assert.equal((await raw(`${p.base}${path}`)).status, 400, path);
        }
        const dotdot = await raw(`${p.base}/assets/../secret.txt`);
        assert.notEqual(dotdot.status, 200, "a raw ../ never reaches the file");
        assert.doesNotMatch(dotdot.body, /outside the folder/);
        assert.equal((await fresh(`${p.base}/assets/.env`)).status, 404);
        const escape = await fresh(`${p.base}/assets/escape.txt`);
        assert.equal(escape.status, 404, "a symlink out of the folder");
        assert.doesNotMatch(escape.text, /outside/);
        assert.equal((await fresh(`${p.base}/assets/inner.js`)).text.length, 10240, "one inside");
        const post = await fresh(`${p.base}/assets/app.js`, { method: "POST", body: "x" });
        assert.equal(post.status, 405);
        assert.equal(post.headers.get("allow"), "GET, HEAD");
        assert.equal((await fresh(`${p.base}/assets/nothing.js`)).status, 404);
        assert.equal((await fresh(`${p.base}/elsewhere`)).status, 404);
      },
    );

    await t.step("routes come first; the access log and metrics name the mount", async () => {
      assert.equal((await fresh(`${p.base}/assets/api`)).text, "from python");
      await server.waitForLog(/GET \/assets\/app\.js 200 .*route=\/assets\/\{\*file\}/);
      const metrics = (await fresh(`${p.admin}/metrics`)).text;
      assert.match(metrics, /siphon_requests_total\{[^}]*route="\/assets\/\{\*file\}"[^}]*\} \d+/);
      assert.match(metrics, /route="\/files\/\{\*file\}"/);
    });

    await t.step(
      "an edited file is served as edited (within the second files are trusted)",
      async () => {
        Deno.writeTextFileSync(join(p.dir, "public", "index.html"), "<h1>edited</h1>\n");
        await waitFor(
          async () => (await fresh(`${p.base}/assets/`)).text === "<h1>edited</h1>\n",
          "the edited page",
        );
        const gone = join(p.dir, "public", "sub", "index.html");
        Deno.removeSync(gone);
        await waitFor(
          async () => (await fresh(`${p.base}/assets/sub/`)).status === 404,
          "gone: 404",
        );
      },
    );

    await t.step("reload: a new folder is served; a missing one keeps the old config", async () => {
      Deno.writeTextFileSync(p.file, p.config("  - path: /more\n    dir: more\n"));
      await server.waitForLog(/reloaded \(file change\): generation 2/);
      await waitFor(async () => (await fresh(`${p.base}/more/m.txt`)).text === "more\n", "/more");
      Deno.writeTextFileSync(p.file, p.config("  - path: /gone\n    dir: nowhere\n"));
      await server.waitForLog(
        /reload failed \(file change\)[^\n]*\n[^\n]*http\.yaml:\d+:\d+: static\[2\]\.dir: folder not found: .*nowhere/,
      );
      assert.equal((await fresh(`${p.base}/more/m.txt`)).text, "more\n", "the old one serves");
      assert.equal((await fresh(`${p.base}/assets/app.js`)).status, 200);
    });
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
