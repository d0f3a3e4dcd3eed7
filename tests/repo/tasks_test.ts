/**
 * The tasks work from any folder: `deno task` runs them in the repository root, and relative
 * paths given on the command line resolve against the folder the user ran the command in
 * (INIT_CWD), as a user following an example's README would expect.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CACHE_DIR, ROOT } from "../../harness/launch.ts";

/** `deno task …` run from `cwd`, with a clean INIT_CWD (deno task sets it to `cwd`). */
async function task(cwd: string, ...args: string[]) {
  const env = Deno.env.toObject();
  delete env.INIT_CWD;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--config", join(ROOT, "deno.json"), ...args],
    cwd,
    env: { ...env, SIPHON_CACHE_DIR: CACHE_DIR },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: out.code, out: d.decode(out.stdout), err: d.decode(out.stderr) };
}

Deno.test("deno task check --config http.yaml from an example's folder", async () => {
  const { code, out, err } = await task(
    join(ROOT, "examples", "hello"),
    "check",
    "--config",
    "http.yaml",
  );
  assert.equal(code, 0, out + err);
  assert.match(out, /^http\.yaml: ok \(1 listener\(s\), 3 route\(s\) from http\.yaml and app\.py/m);
});

Deno.test("deno task test:script . from an example's folder runs that example's tests", async () => {
  const { code, out, err } = await task(join(ROOT, "examples", "hello"), "test:script", ".");
  assert.equal(code, 0, out + err);
  assert.match(out, /^PASS test_app\.py::test_index$/m, "paths relative to the user's folder");
  assert.doesNotMatch(out, /examples\/rest/);
});

Deno.test("deno task stubs writes ./typings into the folder it is run in", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-stubs-cwd-" });
  const { code, out, err } = await task(dir, "stubs");
  assert.equal(code, 0, out + err);
  assert.match(out, new RegExp(`wrote 9 stub files under ${dir}/typings/`));
  assert.ok(Deno.statSync(join(dir, "typings", "siphon", "http.pyi")).isFile);
});
