/**
 * siphon-http's own files, unmodified, against this server: its SDK test with its example
 * script, its harness siphon.yaml, and its deploy/http.example.yaml behind the cookbook's
 * siphon.yaml. They are not part of this repository: set SIPHON_HTTP_CHECKOUT to a checkout of
 * siphon-project/siphon-http to run this (it is ignored otherwise; CI has no checkout).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeCerts } from "../_certs.ts";
import { runCli } from "../../harness/launch.ts";

const CHECKOUT = Deno.env.get("SIPHON_HTTP_CHECKOUT");

async function cliIn(folder: string, ...args: string[]) {
  const { code, out, err } = await runCli(args, folder);
  return { code, text: out + err };
}

/** Makes `files` (path → contents) that do not exist; returns a function that removes them. */
function provide(files: Record<string, string>): () => void {
  const made = Object.entries(files).filter(([path]) => {
    try {
      Deno.statSync(path);
      return false;
    } catch {
      return true;
    }
  });
  for (const [path, text] of made) {
    Deno.mkdirSync(join(path, ".."), { recursive: true });
    Deno.writeTextFileSync(path, text);
  }
  return () => made.forEach(([path]) => Deno.removeSync(path));
}

Deno.test({
  name: "siphon-http's SDK test, harness siphon.yaml and deploy/http.example.yaml, unmodified",
  ignore: !CHECKOUT,
  async fn(t) {
    const repo = CHECKOUT!;
    await t.step("tests/python/test_whatsapp_cloud_api.py: all 12 pass", async () => {
      // laid out as in its repository: tests/python/ beside examples/
      const dir = Deno.makeTempDirSync({ prefix: "siphon-http-sdk-" });
      for (
        const f of ["tests/python/test_whatsapp_cloud_api.py", "examples/whatsapp_cloud_api.py"]
      ) {
        Deno.mkdirSync(join(dir, f, ".."), { recursive: true });
        Deno.copyFileSync(join(repo, f), join(dir, f));
      }
      const { code, text } = await cliIn(dir, "test", "tests/python");
      assert.equal(code, 0, text);
      assert.equal(text.trimEnd().split("\n").at(-1), "12 passed, 0 failed", text);
    });
    await t.step("check --config harness/siphon.bench.yaml, run from the checkout", async () => {
      const { code, text } = await cliIn(repo, "check", "--config", "harness/siphon.bench.yaml");
      assert.equal(code, 0, text);
      assert.match(text, /siphon\.bench\.yaml: ok \(1 listener, 1 route\b/);
      assert.match(text, /listen: a siphon SIP-core setting/);
    });
    await t.step({
      name: "deploy/http.example.yaml behind the cookbook's siphon.yaml",
      ignore: Deno.uid() !== 0, // its TLS files are under /etc/siphon/tls
      fn: async () => {
        const dir = Deno.makeTempDirSync({ prefix: "siphon-http-deploy-" });
        Deno.writeTextFileSync(
          join(dir, "siphon.yaml"),
          `script:\n  path: "${repo}/examples/whatsapp_cloud_api.py"\ncache:\n` +
            `  - name: "wa_dedup"\n    url: "redis://localhost:6379"\n    local_ttl_secs: 3600\n` +
            `extensions:\n  http: ${repo}/deploy/http.example.yaml\n`,
        );
        const certs = await makeCerts(dir);
        const remove = provide({
          "/etc/siphon/tls/server.crt": Deno.readTextFileSync(certs.cert),
          "/etc/siphon/tls/server.key": Deno.readTextFileSync(certs.key),
          "/etc/siphon/tls/ca.crt": Deno.readTextFileSync(certs.ca),
        });
        try {
          const { code, text } = await cliIn(dir, "check", "--config", "siphon.yaml");
          assert.equal(code, 0, text);
          assert.match(text, /siphon\.yaml: ok \(2 listeners, 2 routes/);
        } finally {
          remove();
        }
      },
    });
  },
});
