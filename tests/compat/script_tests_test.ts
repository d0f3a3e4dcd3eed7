/**
 * `siphon-deno test`: users' script tests run in the serving runtime. The examples' own tests
 * pass; a fixture with failing tests gives the report line by line (file:line, the assertion
 * with its values, the handler's traceback from the log) and exit 1; the stubs agree with the
 * runtime modules and `stubs --out` writes them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type CliRun, ROOT, runCli } from "../../harness/launch.ts";

function cli(...args: string[]): Promise<CliRun> {
  return runCli(args);
}

/** The CLI as `deno task` runs it from `folder` (INIT_CWD). */
function cliIn(folder: string, ...args: string[]): Promise<CliRun> {
  return runCli(args, folder);
}

Deno.test("siphon-deno test: every example's tests pass", async () => {
  const { code, out, err } = await cli("test", "examples");
  assert.equal(code, 0, out + err);
  for (const example of ["hello", "rest", "webhook", "proxy", "sse"]) {
    assert.match(out, new RegExp(`^PASS examples/${example}/test_app\\.py::`, "m"), example);
  }
  assert.doesNotMatch(out, /^FAIL /m);
  const [, passed] = /^(\d+) passed, 0 failed$/m.exec(out) ?? [];
  assert.ok(Number(passed) >= 25, out);
  assert.ok(out.trimEnd().endsWith("passed, 0 failed"), "the summary is the last line");
});

Deno.test("siphon-deno test: run from another project's folder, a test loads the app.py beside it", async () => {
  const other = Deno.makeTempDirSync({ prefix: "siphon-other-project-" });
  Deno.writeTextFileSync(
    join(other, "app.py"),
    'from siphon import http\n\n@http.route("/")\ndef index(req):\n' +
      '    return http.Response(200, None, "the other project")\n',
  );
  const { code, out, err } = await cliIn(other, "test", join(ROOT, "examples", "hello"));
  assert.equal(code, 0, out + err);
  assert.match(out, /^PASS .*examples\/hello\/test_app\.py::test_index$/m);
});

Deno.test("siphon-deno test: siphon-http's SDK idioms and layout (tests/python beside examples/)", async () => {
  // install() at import, the script reached through ../../examples and through the working
  // folder, fixtures in a class, harness.cache.set_data, harness.log.messages, a client name
  // no config declares, HttpTestHarness(dict), the mock_module accessors
  const { code, out, err } = await cliIn(
    join(ROOT, "tests", "fixtures", "sdk_layout"),
    "test",
    "tests/python",
  );
  assert.equal(code, 0, out + err);
  assert.match(out, /^PASS tests\/python\/test_relay\.py::TestRelay::test_dedups_repeats$/m);
  assert.equal(out.trimEnd().split("\n").at(-1), "9 passed, 0 failed");
});

Deno.test("siphon-deno test: failures show file:line, values and the handler's traceback", async () => {
  const { code, out, err } = await cli("test", "tests/fixtures/script_tests");
  assert.equal(code, 1, out + err);
  const file = "tests/fixtures/script_tests/test_mixed.py";
  for (
    const line of [
      `PASS ${file}::test_ok`,
      `PASS ${file}::test_middleware_guards`,
      `PASS ${file}::test_spinning_handler_is_cut_off`,
      `FAIL ${file}::test_fails_on_status`,
      `  ${file}:29: in test_fails_on_status`,
      "      assert resp.status == 200",
      "  AssertionError: assert 500 == 200",
      "    where resp.status = 500",
      "    INFO about to fail",
      "    ERROR GET /boom: boom (GET /boom) raised ValueError",
      '        raise ValueError("kaput")',
      `PASS ${file}::test_fails_once_of_two[/ok]`,
      `FAIL ${file}::test_fails_once_of_two[/missing]`,
      `  ${file}:34: in test_fails_once_of_two`,
      `SKIP ${file}::test_skipped: shows as skipped`,
      "4 passed, 2 failed, 1 skipped",
    ]
  ) {
    assert.ok(
      out.split("\n").includes(line),
      `missing line ${JSON.stringify(line)}:\n${out}\nstderr:\n${err}`,
    );
  }
  assert.match(out, /File ".*\/tests\/fixtures\/script_tests\/app\.py", line 18, in boom/);
  assert.ok(out.trimEnd().endsWith("4 passed, 2 failed, 1 skipped"));
});

const MARKS = "tests/fixtures/script_marks/test_marks.py";

Deno.test("siphon-deno test: skip/skipif/xfail are honoured, other marks fail, output of failures shown", async () => {
  const { code, out, err } = await cli("test", MARKS);
  assert.equal(code, 1, out + err);
  const lines = out.split("\n");
  for (
    const line of [
      `PASS ${MARKS}::test_ok`,
      `FAIL ${MARKS}::test_fails`,
      "  captured stdout:",
      "    shown because the test failed",
      `XFAIL ${MARKS}::test_bare_xfail`,
      `XPASS ${MARKS}::test_xpass: known bug`,
      `FAIL ${MARKS}::test_xpass_strict`,
      "  [XPASS(strict)] must fail",
      `FAIL ${MARKS}::test_xfail_wrong_exception`,
      "  ValueError: not the expected KeyError",
      `SKIP ${MARKS}::test_skipped: skipped by condition`,
      `FAIL ${MARKS}::test_unknown_mark`,
      `PASS ${MARKS}::TestGroup::test_a`,
      `PASS ${MARKS}::TestGroup::test_b`,
    ]
  ) {
    assert.ok(lines.includes(line), `missing line ${JSON.stringify(line)}:\n${out}\n${err}`);
  }
  assert.match(out, /^ {2}unknown mark @pytest\.mark\.slow: siphon-deno test knows parametrize, /m);
  assert.doesNotMatch(out, /not shown: the test passed/);
  assert.ok(out.trimEnd().endsWith("3 passed, 4 failed, 1 skipped, 1 xfailed, 1 xpassed"), out);
});

Deno.test("siphon-deno test: file.py::name and -k pick tests", async () => {
  const one = await cli("test", `${MARKS}::test_ok`);
  assert.equal(one.code, 0, one.out + one.err);
  assert.match(one.out, /^PASS .*::test_ok\n1 passed, 0 failed, 9 deselected$/m);
  const group = await cli("test", `${MARKS}::TestGroup`, "-k", "not test_b");
  assert.equal(group.code, 0, group.out + group.err);
  assert.ok(
    group.out.trimEnd().endsWith(
      `PASS ${MARKS}::TestGroup::test_a\n1 passed, 0 failed, 9 deselected`,
    ),
  );
  const keyword = await cli("test", MARKS, "-k", "xpass and not strict or TestGroup and test_a");
  assert.ok(
    keyword.out.trimEnd().endsWith("1 passed, 0 failed, 1 xpassed, 8 deselected"),
    keyword.out,
  );
  const missing = await cli("test", `${MARKS}::test_nope`);
  assert.equal(missing.code, 1);
  assert.match(
    missing.out,
    /^FAIL .*::test_nope \(no such test; the file has test_ok, test_fails, /m,
  );
  const none = await cli("test", MARKS, "-k", "zzz");
  assert.equal(none.code, 2);
  assert.match(none.err, /no test matched -k "zzz"/);
  const bad = await cli("test", MARKS, "-k", "test_ok and (");
  assert.equal(bad.code, 2);
  assert.match(bad.err, /cannot read -k 'test_ok and \('/);
});

Deno.test("siphon-deno test: a read-only mount refuses writes, as when serving", async () => {
  const { code, out, err } = await cli("test", "tests/fixtures/script_mounts");
  assert.equal(code, 0, out + err);
  assert.match(out, /^PASS .*::test_ro_mount_refuses_writes$/m);
  assert.throws(() => Deno.statSync(join(ROOT, "tests/fixtures/script_mounts/data/new.txt")));
});

Deno.test("siphon-deno test: a path that does not exist is a usage error", async () => {
  const { code, err } = await cli("test", "no/such/tests");
  assert.equal(code, 2);
  assert.match(err, /Cannot test no\/such\/tests: no such file or folder/);
});

Deno.test("the .pyi stubs match the runtime modules; stubs --out writes them", async () => {
  const check = await cli("test", "workers/python/stubs");
  assert.equal(check.code, 0, check.out + check.err);
  assert.match(check.out, /^14 passed, 0 failed$/m);
  const out = Deno.makeTempDirSync({ prefix: "siphon-stubs-" });
  const { code, out: said } = await cli("stubs", "--out", out);
  assert.equal(code, 0);
  assert.match(said, /wrote 9 stub files/);
  for (
    const f of [
      "siphon/http.pyi",
      "siphon/log.pyi",
      "siphon/cache.pyi",
      "siphon_sdk/http_testing.pyi",
    ]
  ) {
    assert.ok(Deno.statSync(join(out, f)).size > 100, f);
  }
  assert.match(Deno.readTextFileSync(join(out, "siphon/http.pyi")), /^class Request:/m);
});

Deno.test("the README's testing snippet passes beside examples/hello", async () => {
  const readme = Deno.readTextFileSync(join(ROOT, "README.md"));
  const section = readme.slice(readme.indexOf("## Testing your scripts"));
  const snippet = /```python\n([^]*?)```/.exec(section)![1];
  const dir = Deno.makeTempDirSync({ prefix: "siphon-readme-" });
  for (const f of ["app.py", "http.yaml"]) {
    Deno.copyFileSync(join(ROOT, "examples", "hello", f), join(dir, f));
  }
  Deno.writeTextFileSync(join(dir, "test_readme.py"), snippet);
  const { code, out, err } = await cli("test", dir);
  assert.equal(code, 0, out + err);
  assert.match(out, /^PASS .*test_readme\.py::test_user$/m);
  assert.match(out, /^1 passed, 0 failed$/m);
});
