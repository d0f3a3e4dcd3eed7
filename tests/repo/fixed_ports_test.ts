/**
 * Tests and benchmarks take ports the system hands out (harness/launch.ts `freePort`), never a
 * port of their own: on a shared machine a fixed one collides with whatever runs there. This
 * reads every file under tests/, bench/ and harness/ for the ways a fixed port gets in.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { ROOT } from "../../harness/launch.ts";

/** Each way a fixed port is written, and what to use instead. */
const FIXED: [RegExp, string][] = [
  [/\blisten:\s*["']?[\w.\-\[\]]*:[1-9]\d*\b/, "a listen address with a literal port"],
  [/\blisten:\s*["']?[^"'\n]*\$\{(ADMIN_)?PORT:-[1-9]\d*\}/, "a ${PORT:-N} default in a listen"],
  [/\b(ADMIN_)?PORT:\s*["'][1-9]\d*["']/, "a literal PORT/ADMIN_PORT in an environment"],
  [/Deno\.args\[\d\]\s*\?\?\s*[1-9]\d{3,}/, "a default port for a command-line argument"],
  [/Deno\.(serve|listen|listenTls)\(\{[^}]*\bport:\s*[1-9]/, "Deno.serve/listen on a literal port"],
  [/\bfreePortNear\b|\bportHint\b/, "a preferred port"],
  [/--(port|admin)["']?[,\s=]+["']?[\w.]*:?[1-9]\d{3,}/, "a literal --port/--admin argument"],
];

/**
 * Files that hold a port and never bind it, each with the reason.
 */
const NEVER_BOUND: Record<string, string> = {
  "tests/repo/deploy_test.ts": "checks the ports the deploy/ manifests declare",
  "tests/repo/fixed_ports_test.ts": "this check",
  "tests/fixtures/script_tests/http.yaml": "`siphon-deno test` reads the config, never listens",
  "tests/fixtures/script_mounts/http.yaml": "`siphon-deno test` reads the config, never listens",
  "tests/fixtures/siphon_yaml/siphon.yaml": "siphon-http's SIP listener, which siphon-deno ignores",
};

function* files(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory && !entry.name.startsWith(".")) yield* files(path);
    else if (entry.isFile && /\.(ts|py|ya?ml|lua|sh)$/.test(entry.name)) yield path;
  }
}

Deno.test("no fixed port in tests/, bench/ or harness/: ports come from freePort()", () => {
  const found: string[] = [];
  for (const top of ["tests", "bench", "harness"]) {
    for (const path of files(join(ROOT, top))) {
      const name = relative(ROOT, path);
      if (name in NEVER_BOUND) continue;
      Deno.readTextFileSync(path).split("\n").forEach((line, i) => {
        for (const [pattern, what] of FIXED) {
          if (pattern.test(line)) found.push(`${name}:${i + 1}: ${what}: ${line.trim()}`);
        }
      });
    }
  }
  assert.deepEqual(found, [], "take a port from harness/launch.ts freePort() instead");
});

Deno.test("the fixed-port check finds each way a fixed port gets in", () => {
  const samples = [
    'servers:\n  - listen: "127.0.0.1:8080"',
    '  - listen: "127.0.0.1:${PORT:-8090}"',
    'env: { PORT: "8090" }',
    "const port = Number(Deno.args[0] ?? 8095);",
    'Deno.serve({ hostname: "127.0.0.1", port: 8097 }, h)',
    "const port = freePortNear(8100);",
    'args: ["serve", "--admin", "127.0.0.1:9091"]',
  ];
  for (const sample of samples) {
    assert.ok(FIXED.some(([p]) => sample.split("\n").some((l) => p.test(l))), sample);
  }
  for (
    const fine of [
      "listen: 127.0.0.1:${port}",
      '  - listen: "127.0.0.1:${PORT}"',
      "env: { PORT: String(port) }",
      "remoteAddr: { hostname: '127.0.0.1', port: 50000 }",
    ]
  ) {
    assert.ok(!FIXED.some(([p]) => p.test(fine)), fine);
  }
});
