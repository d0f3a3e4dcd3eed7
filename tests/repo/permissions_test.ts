/**
 * Least privilege: every task runs under a permission set of deno.json (`-P`), never `-A`; the
 * server's set grants no `run` and no `ffi`; the tasks launch the server exactly as
 * harness/launch.ts does (which is how every test and benchmark starts it).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { SERVE_ENV, SERVE_FLAGS, V8_FLAGS } from "../../harness/launch.ts";
import { ROOT } from "../../harness/launch.ts";

const config = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json")));
const tasks: Record<string, { command: string }> = config.tasks;

Deno.test("no task runs with -A; each names a permission set", () => {
  for (const [name, { command }] of Object.entries(tasks)) {
    assert.doesNotMatch(command, /(^|\s)(-A|--allow-all)(\s|$)/, `task ${name}: ${command}`);
    if (/\bdeno (run|test|bench|compile)\b/.test(command)) {
      assert.match(command, /\s-P(=[\w-]+)?(\s|$)/, `task ${name} has no -P: ${command}`);
    }
    const set = /\s-P=([\w-]+)/.exec(command)?.[1];
    if (set) assert.ok(config.permissions[set], `task ${name} names a missing set "${set}"`);
  }
  assert.ok(config.test.permissions, "deno test -P reads test.permissions");
  assert.ok(config.bench.permissions, "deno bench -P reads bench.permissions");
});

Deno.test("the server's permission set grants no run, no ffi", () => {
  const serve = config.permissions.serve;
  for (const denied of ["run", "ffi"]) {
    assert.ok(!serve[denied], `serve grants ${denied}: ${JSON.stringify(serve)}`);
  }
  for (const task of ["start", "serve", "test:script", "compile"]) {
    assert.match(tasks[task].command, /\s-P=serve\s/, task);
  }
});

Deno.test("deno task serve launches the server as harness/launch.ts does", () => {
  for (const task of ["start", "serve"]) {
    const command = tasks[task].command;
    for (const [k, v] of Object.entries(SERVE_ENV)) assert.ok(command.startsWith(`${k}=${v} `));
    assert.ok(command.includes(`deno run ${SERVE_FLAGS.join(" ")} ${V8_FLAGS} main.ts serve`));
  }
});
