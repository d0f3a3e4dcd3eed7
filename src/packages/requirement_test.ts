import assert from "node:assert/strict";
import {
  compareVersions,
  evaluateMarker,
  isPrerelease,
  normalizeName,
  parseRequirement,
  satisfies,
} from "./requirement.ts";

Deno.test("parseRequirement() reads names, extras, specifiers and markers as wheels write them", () => {
  assert.deepEqual(parseRequirement("Foo_Bar.baz"), {
    name: "Foo_Bar.baz",
    key: "foo-bar-baz",
    extras: [],
    specifiers: [],
    marker: "",
  });
  const r = parseRequirement('attrs[Tests, dev] (>=22.2,<24) ; python_version >= "3.8"');
  assert.deepEqual([r.key, r.extras, r.specifiers, r.marker], [
    "attrs",
    ["tests", "dev"],
    [[">=", "22.2"], ["<", "24"]],
    'python_version >= "3.8"',
  ]);
  assert.deepEqual(parseRequirement("six==1.16.0").specifiers, [["==", "1.16.0"]]);
  assert.throws(() => parseRequirement("-nope"), /not a requirement/);
  assert.throws(() => parseRequirement("x >> 1"), /not a version specifier/);
  assert.equal(normalizeName("Python-Dateutil"), normalizeName("python_dateutil"));
});

Deno.test("compareVersions() orders dev < pre < final < post, numerically", () => {
  const order = [
    "1.0.dev1",
    "1.0a1",
    "1.0a2",
    "1.0b1",
    "1.0rc1",
    "1.0",
    "1.0.post1",
    "1.0.1",
    "1.10",
  ];
  for (let i = 1; i < order.length; i++) {
    assert.ok(compareVersions(order[i - 1], order[i]) < 0, `${order[i - 1]} < ${order[i]}`);
    assert.ok(compareVersions(order[i], order[i - 1]) > 0);
  }
  assert.equal(compareVersions("1.0", "1.0.0"), 0);
  assert.equal(compareVersions("2!1.0", "3.0") > 0, true, "epochs first");
  assert.deepEqual(["1.0", "1.0rc1", "1.0.dev0", "1.0.post1"].map(isPrerelease), [
    false,
    true,
    true,
    false,
  ]);
});

Deno.test("satisfies() handles ==, !=, ranges, wildcards and ~=", () => {
  assert.ok(satisfies("1.4.2", [[">=", "1.4"], ["<", "2"]]));
  assert.ok(!satisfies("2.0", [[">=", "1.4"], ["<", "2"]]));
  assert.ok(satisfies("1.4.9", [["==", "1.4.*"]]));
  assert.ok(!satisfies("1.5", [["==", "1.4.*"]]));
  assert.ok(satisfies("1.5", [["!=", "1.4.*"]]));
  assert.ok(satisfies("2.2.1", [["~=", "2.2"]]) && !satisfies("3.0", [["~=", "2.2"]]));
  assert.ok(satisfies("1.4.5", [["~=", "1.4.2"]]) && !satisfies("1.5.0", [["~=", "1.4.2"]]));
  assert.ok(satisfies("1.0+local", [["===", "1.0+local"]]));
});

Deno.test("evaluateMarker() answers for Pyodide's Python, with extras only when asked", () => {
  assert.equal(evaluateMarker('python_version >= "3.8"'), true);
  assert.equal(evaluateMarker('python_version < "3.10"'), false);
  assert.equal(evaluateMarker('sys_platform == "win32"'), false);
  assert.equal(evaluateMarker("platform_system != 'Windows' and os_name == 'posix'"), true);
  assert.equal(evaluateMarker('extra == "test"'), false);
  assert.equal(evaluateMarker('extra == "Test"', ["test"]), true);
  assert.equal(
    evaluateMarker('(sys_platform == "win32" or sys_platform == "emscripten") and extra != "x"'),
    true,
  );
  assert.equal(evaluateMarker('"wasm" in platform_machine'), true);
  assert.equal(evaluateMarker('"arm" not in platform_machine'), true);
  assert.throws(() => evaluateMarker("python_version >= "), /cannot read the marker/);
  assert.throws(() => evaluateMarker('nonsense == "1"'), /cannot read the marker/);
});
