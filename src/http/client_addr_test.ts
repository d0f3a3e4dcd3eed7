import assert from "node:assert/strict";
import fc from "fast-check";
import { clientAddress, isTrusted, parseIp, parseTrusted, type Trusted } from "./client_addr.ts";

function trusted(entries: string[]): Trusted {
  const t = parseTrusted(entries);
  if ("error" in t) throw new Error(t.error);
  return t;
}

Deno.test("parseIp() reads IPv4, IPv6, compressed and IPv4-mapped forms", () => {
  assert.deepEqual(parseIp("10.1.2.3"), { v6: false, value: 0x0a010203n });
  assert.deepEqual(parseIp("::1"), { v6: true, value: 1n });
  assert.deepEqual(parseIp("2001:db8::7"), {
    v6: true,
    value: 0x20010db8000000000000000000000007n,
  });
  assert.deepEqual(parseIp("::ffff:127.0.0.1"), { v6: false, value: 0x7f000001n });
  assert.deepEqual(parseIp("[fe80::1%eth0]"), {
    v6: true,
    value: 0xfe800000000000000000000000000001n,
  });
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.256",
      "01.2.3.4",
      "1:2:3",
      "1::2::3",
      "g::1",
      "1.2.3.4.5",
      "::1.2.3",
    ]
  ) {
    assert.equal(parseIp(bad), null, bad);
  }
});

Deno.test("isTrusted() matches exact IPs and CIDR ranges, v4 and v6", () => {
  const t = trusted(["10.0.0.0/8", "192.168.1.7", "fd00::/8", "::1"]);
  assert.ok(isTrusted(t, "10.200.3.4"));
  assert.ok(isTrusted(t, "192.168.1.7"));
  assert.ok(!isTrusted(t, "192.168.1.8"));
  assert.ok(!isTrusted(t, "11.0.0.1"));
  assert.ok(isTrusted(t, "fd12:3456::1"));
  assert.ok(!isTrusted(t, "fe80::1"));
  assert.ok(isTrusted(t, "::1"));
  assert.ok(isTrusted(t, "::ffff:10.9.9.9"), "an IPv4-mapped peer counts as IPv4");
  assert.ok(!isTrusted(trusted([]), "10.0.0.1"));
  assert.ok(isTrusted(trusted(["0.0.0.0/0"]), "8.8.8.8"));
});

Deno.test("parseTrusted() names the entry that is not an IP or range", () => {
  assert.deepEqual(parseTrusted(["10.0.0.0/8", "10.0.0.0/33"]), {
    index: 1,
    error: 'expected an IP address or CIDR range like 10.0.0.0/8 or fd00::/8, got "10.0.0.0/33"',
  });
  for (const bad of ["proxy.local", "10.0.0.0/", "::1/129", "1.2.3.4/8/1"]) {
    assert.ok("error" in parseTrusted([bad]), bad);
  }
});

Deno.test("clientAddress() uses X-Forwarded-For only from a trusted peer", () => {
  const t = trusted(["127.0.0.0/8"]);
  const peer = { hostname: "127.0.0.1", port: 5000 };
  assert.equal(clientAddress(peer, "203.0.113.7, 10.0.0.1", t), "203.0.113.7");
  assert.equal(clientAddress(peer, "[2001:db8::1]:4711", t), "[2001:db8::1]:4711");
  assert.equal(clientAddress(peer, "not-an-ip", t), "127.0.0.1:5000");
  assert.equal(clientAddress(peer, null, t), "127.0.0.1:5000");
  const stranger = { hostname: "198.51.100.9", port: 6000 };
  assert.equal(clientAddress(stranger, "203.0.113.7", t), "198.51.100.9:6000", "spoof ignored");
  assert.equal(clientAddress({ hostname: "::1", port: 7 }, null, t), "[::1]:7");
});

Deno.test("parseIp() reads every address fast-check makes (property)", () => {
  fc.assert(fc.property(fc.ipV4(), (ip) => {
    assert.equal(parseIp(ip)?.v6, false);
  }));
  fc.assert(fc.property(fc.ipV6(), (ip) => {
    const parsed = parseIp(ip);
    assert.ok(parsed !== null, ip);
  }));
});

Deno.test("a /n range contains exactly the addresses sharing the first n bits (property)", () => {
  fc.assert(fc.property(fc.ipV4(), fc.ipV4(), fc.integer({ min: 0, max: 32 }), (a, b, n) => {
    const toBits = (ip: string) =>
      ip.split(".").map((o) => Number(o).toString(2).padStart(8, "0")).join("");
    const same = toBits(a).slice(0, n) === toBits(b).slice(0, n);
    assert.equal(isTrusted(trusted([`${a}/${n}`]), b), same);
  }));
});
