/**
 * HTTPS listener (`servers[].tls`) next to a plain one: HTTP/1.1 and h2 via ALPN on TLS, h2 with
 * prior knowledge on cleartext. Certificates are made here with openssl; curl checks the protocol.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeCerts } from "../_certs.ts";
import { freePort, startServer } from "../../harness/launch.ts";

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const d = new TextDecoder();
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} failed: ${d.decode(out.stderr)}`);
  return d.decode(out.stdout);
}

Deno.test("TLS listener serves HTTP/1.1 and h2; the plain one serves h2 with prior knowledge", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-tls-" });
  const certs = await makeCerts(dir);
  Deno.writeTextFileSync(
    join(dir, "app.py"),
    `from siphon import http\n\n@http.route("/")\ndef index(req):\n    return http.Response(200, None, "secure")\n`,
  );
  const [tlsPort, plainPort] = [freePort(), freePort()];
  Deno.writeTextFileSync(
    join(dir, "http.yaml"),
    `script: app.py\nworkers: 2\nservers:\n  - listen: 127.0.0.1:${tlsPort}\n` +
      `    tls: { cert_path: cert.pem, key_path: key.pem }\n  - listen: 127.0.0.1:${plainPort}\n`,
  );
  const server = await startServer({ config: join(dir, "http.yaml") });
  try {
    assert.match(server.logs(), new RegExp(`serving https://127\\.0\\.0\\.1:${tlsPort}, http://`));
    const client = Deno.createHttpClient({
      caCerts: [Deno.readTextFileSync(certs.ca)],
    });
    const res = await fetch(`https://127.0.0.1:${tlsPort}/`, { client });
    assert.equal(await res.text(), "secure");
    client.close();
    const curl = (...args: string[]) =>
      run("curl", ["-s", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", ...args]);
    const cacert = ["--cacert", certs.ca];
    assert.equal(await curl(...cacert, "--http2", `https://127.0.0.1:${tlsPort}/`), "2 200");
    assert.equal(await curl(...cacert, "--http1.1", `https://127.0.0.1:${tlsPort}/`), "1.1 200");
    assert.equal(await curl("--http2-prior-knowledge", `http://127.0.0.1:${plainPort}/`), "2 200");
    assert.equal(await curl(`http://127.0.0.1:${plainPort}/`), "1.1 200");
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
