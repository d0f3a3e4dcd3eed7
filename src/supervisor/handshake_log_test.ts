import assert from "node:assert/strict";
import { HandshakeLog } from "./handshake_log.ts";

function log() {
  const lines: string[] = [];
  const h = new HandshakeLog({
    listen: "127.0.0.1:8443",
    clientCa: "/etc/siphon/ca.pem",
    warn: (m) => lines.push(m),
  });
  return { h, lines };
}

Deno.test("HandshakeLog.failed() names the peer, the listener and the likely causes", () => {
  const { h, lines } = log();
  h.failed("127.0.0.2", "peer sent no certificates", 0);
  h.failed("127.0.0.3", "socket hang up", 0);
  assert.match(
    lines[0],
    /^mutual TLS handshake from 127\.0\.0\.2 on 127\.0\.0\.1:8443 failed \(peer sent no certificates\): the client sent no certificate; .*tls\.client_ca \(\/etc\/siphon\/ca\.pem\)/,
  );
  assert.match(lines[1], /does not chain to tls\.client_ca \(\/etc\/siphon\/ca\.pem\)/);
  assert.match(lines[1], /it is not X\.509 v3 \(`openssl x509 -req` without -extfile makes v1\)/);
});

Deno.test("HandshakeLog.failed() warns once per peer and minute, then counts what it held back", () => {
  const { h, lines } = log();
  assert.equal(h.failed("127.0.0.2", "socket hang up", 0), true);
  assert.equal(h.failed("127.0.0.2", "socket hang up", 1_000), false);
  assert.equal(h.failed("127.0.0.2", "socket hang up", 59_999), false);
  assert.equal(h.failed("127.0.0.9", "socket hang up", 30_000), true, "another peer");
  assert.equal(h.failed("127.0.0.2", "socket hang up", 60_000), true);
  assert.equal(lines.length, 3);
  assert.match(lines[2], /\(2 more from this address since the last warning\)/);
});
