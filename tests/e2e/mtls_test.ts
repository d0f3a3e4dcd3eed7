/**
 * Mutual TLS: a listener with tls.client_ca accepts only clients whose certificate chains to
 * that CA, over h2 and HTTP/1.1, on every worker; Python sees the certificate.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeCerts, makeClientCert } from "../_certs.ts";
import { freePort, startServer } from "../../harness/launch.ts";

Deno.test("mutual TLS: good cert served with req.client_cert; none or wrong CA refused", async (t) => {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-mtls-" });
  const certs = await makeCerts(dir);
  const alice = await makeClientCert(dir, "alice");
  const mallory = await makeClientCert(dir, "mallory", "other-ca");
  const old = await makeClientCert(dir, "old", "ca", 1);
  const [mtlsPort, plainPort] = [freePort(), freePort()];
  Deno.writeTextFileSync(
    join(dir, "app.py"),
    `import json, os
from siphon import http

@http.route("/whoami")
def whoami(req):
    c = req.client_cert
    who = None if c is None else {"cn": c["subject"]["CN"], "issuer": c["issuer"]["CN"],
                                   "serial": c["serial"], "fp": len(c["fingerprint256"])}
    return http.Response(200, {"content-type": "application/json"},
                         json.dumps({"cert": who, "worker": os.environ["SIPHON_WORKER"]}))

@http.route("/combined-pem")
async def combined_pem(req):
    c = http.Client(base_url="https://localhost:${mtlsPort}", verify="${certs.ca}",
                    cert="${join(dir, "alice-combined.pem")}")
    resp = await c.get("/whoami")
    return http.Response(resp.status, None, resp.body)

@http.route("/through-client")
async def through_client(req):
    c = http.Client(base_url="https://localhost:${mtlsPort}", verify="${certs.ca}",
                    cert="${alice.cert}", key="${alice.key}")
    resp = await c.get("/whoami")
    return http.Response(resp.status, None, resp.body)
`,
  );
  Deno.writeTextFileSync(
    join(dir, "http.yaml"),
    `script: app.py\nworkers: 2\nservers:\n  - listen: 127.0.0.1:${mtlsPort}\n` +
      `    tls: { cert_path: cert.pem, key_path: key.pem, client_ca: ca.pem }\n` +
      `  - listen: 127.0.0.1:${plainPort}\n` +
      `python: { allow_net: ["localhost:${mtlsPort}"] }\n`,
  );
  Deno.writeTextFileSync(
    join(dir, "alice-combined.pem"),
    Deno.readTextFileSync(alice.cert) + Deno.readTextFileSync(alice.key),
  );
  const server = await startServer({ config: join(dir, "http.yaml") });
  const ca = Deno.readTextFileSync(certs.ca);
  const withCert = (c?: { cert: string; key: string }, localAddress?: string) =>
    Deno.createHttpClient({
      caCerts: [ca],
      poolMaxIdlePerHost: 0,
      localAddress,
      ...(c ? { cert: Deno.readTextFileSync(c.cert), key: Deno.readTextFileSync(c.key) } : {}),
    });
  const whoami = async (c?: { cert: string; key: string }, localAddress?: string) => {
    const client = withCert(c, localAddress);
    try {
      const res = await fetch(`https://127.0.0.1:${mtlsPort}/whoami`, { client });
      return await res.json();
    } finally {
      client.close();
    }
  };
  const passed: boolean[] = [];
  try {
    passed.push(
      await t.step("a certificate from the client CA is served, on every worker", async () => {
        const workers = new Set<string>();
        for (let i = 0; i < 30 && workers.size < 2; i++) {
          const body = await whoami(alice);
          assert.deepEqual(body.cert, {
            cn: "alice",
            issuer: "siphon test CA",
            serial: body.cert.serial,
            fp: 95,
          });
          workers.add(body.worker);
        }
        assert.equal(workers.size, 2, "both workers serve the mutual-TLS listener (reusePort)");
      }),
    );
    passed.push(
      await t.step("no certificate, or one from another CA, is refused", async () => {
        await assert.rejects(() => whoami());
        await assert.rejects(() => whoami(mallory));
      }),
    );
    passed.push(
      await t.step(
        "each failed handshake is logged once per peer, with the likely causes",
        async () => {
          // From addresses of their own (all of 127/8 is loopback), so each peer is new.
          await assert.rejects(() => whoami(undefined, "127.0.0.2"));
          await assert.rejects(() => whoami(mallory, "127.0.0.3"));
          await assert.rejects(() => whoami(undefined, "127.0.0.2"));
          // Deno's own client refuses to send an X.509 v1 certificate; curl sends it.
          const curl = await new Deno.Command("curl", {
            args: [
              ...["-s", "--interface", "127.0.0.4", "--cacert", certs.ca],
              ...["--cert", old.cert, "--key", old.key, `https://127.0.0.1:${mtlsPort}/whoami`],
            ],
            stdout: "null",
          }).output();
          assert.notEqual(curl.code, 0, "a v1 client certificate was accepted");
          const from = (peer: string) =>
            new RegExp(
              `mutual TLS handshake from ${
                peer.replaceAll(".", "\\.")
              } on 127\\.0\\.0\\.1:${mtlsPort} failed`,
              "g",
            );
          for (const peer of ["127.0.0.2", "127.0.0.3", "127.0.0.4"]) {
            await server.waitForLog(from(peer));
          }
          const logs = server.logs();
          assert.match(
            logs,
            /127\.0\.0\.2 [^\n]*\(peer sent no certificates\): the client sent no certificate/,
          );
          assert.match(
            logs,
            /127\.0\.0\.3 [^\n]*: the client certificate was refused; likely causes: it does not chain to tls\.client_ca/,
          );
          assert.match(logs, /127\.0\.0\.4 [^\n]*it is not X\.509 v3/);
          assert.equal(
            [...logs.matchAll(from("127.0.0.2"))].length,
            1,
            "one line per peer and minute",
          );
        },
      ),
    );
    passed.push(
      await t.step("h2 and HTTP/1.1 both work with the client certificate", async () => {
        for (const [flag, want] of [["--http2", "2"], ["--http1.1", "1.1"]]) {
          const out = await new Deno.Command("curl", {
            args: [
              "-s",
              "-o",
              "/dev/null",
              "-w",
              "%{http_version}",
              flag,
              "--cacert",
              certs.ca,
              "--cert",
              alice.cert,
              "--key",
              alice.key,
              `https://127.0.0.1:${mtlsPort}/whoami`,
            ],
            stdout: "piped",
          }).output();
          assert.equal(new TextDecoder().decode(out.stdout), want);
        }
      }),
    );
    passed.push(
      await t.step("a listener without client_ca gives req.client_cert = None", async () => {
        const body = await fetch(`http://127.0.0.1:${plainPort}/whoami`).then((r) => r.json());
        assert.equal(body.cert, null);
      }),
    );
    passed.push(
      await t.step("http.Client presents a client certificate (cert + key)", async () => {
        const body = await fetch(`http://127.0.0.1:${plainPort}/through-client`).then((r) =>
          r.json()
        );
        assert.equal(body.cert.cn, "alice");
      }),
    );
  } finally {
    const { code, logs } = await server.stop();
    if (passed.includes(false)) console.log(`server log:\n${logs}`);
    assert.equal(code, 0);
  }
});
