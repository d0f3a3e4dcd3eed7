/**
 * The tasks work from any folder: `deno task` runs them in the repository root, and relative
 * paths given on the command line resolve against the folder the user ran the command in
 * (INIT_CWD), as a user following an example's README would expect.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { ROOT, runTask } from "../../harness/launch.ts";

const task = runTask;

Deno.test("deno task check --config http.yaml from an example's folder", async () => {
  const { code, out, err } = await task(
    join(ROOT, "examples", "hello"),
    "check",
    "--config",
    "http.yaml",
  );
  assert.equal(code, 0, out + err);
  assert.match(out, /^http\.yaml: ok \(1 listener, 3 routes from http\.yaml and app\.py/m);
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

Deno.test("the command line: a positional config, a script as config, a missing file, two configs", async () => {
  const hello = join(ROOT, "examples", "hello");
  const positional = await task(hello, "check", "http.yaml");
  assert.equal(positional.code, 0, positional.out + positional.err);
  assert.match(positional.out, /^http\.yaml: ok /m);

  const said = (err: string) => stripVTControlCharacters(err).split("\n").filter((l) => l);
  const script = await task(hello, "check", "--config", "app.py");
  assert.equal(script.code, 2);
  assert.equal(
    said(script.err).join("\n"),
    "app.py is a Python script; check takes its config, an http.yaml (with script: or app:) " +
      "or a siphon.yaml — see docs/configuration.md",
  );

  const missing = await task(hello, "check", "nope.yaml");
  assert.equal(missing.code, 2);
  const lines = said(missing.err);
  assert.deepEqual(lines, [
    `${hello}/nope.yaml: no such config file; name one with --config path/to/http.yaml (or ` +
    "siphon.yaml), or run the command in the folder that has http.yaml",
  ]);
  assert.equal(lines[0].split("nope.yaml").length - 1, 1, "the path once");

  const twice = await task(hello, "check", "a.yaml", "--config", "b.yaml");
  assert.equal(twice.code, 2);
  assert.match(
    said(twice.err)[0],
    /^the config is named twice \("a\.yaml" and --config b\.yaml\); give one/,
  );
});
