import assert from "node:assert/strict";
import { join } from "node:path";
import { zipSync } from "fflate";
import { PackageError, resolveWheels, scanWheelhouse, type Wheel } from "./wheelhouse.ts";
import { installWheels } from "./install.ts";

function w(name: string, version: string, requires: string[] = [], fits = true): Wheel {
  return {
    file: `/wh/${name}-${version}-py3-none-any.whl`,
    name,
    key: name.toLowerCase(),
    version,
    fits,
    requires: () => requires,
  };
}

Deno.test("resolveWheels() picks the newest final release every requirer accepts, with its dependencies", () => {
  const wheels = [
    w("app", "1.0", ["lib>=1.2", 'winonly ; sys_platform == "win32"', "extra-dep ; extra == 'x'"]),
    w("lib", "1.1"),
    w("lib", "1.3", ["base"]),
    w("lib", "2.0.dev1"),
    w("base", "0.9"),
  ];
  const chosen = resolveWheels(["app"], "/wh", wheels);
  assert.deepEqual(chosen.map((c) => `${c.wheel.name} ${c.wheel.version}`), [
    "app 1.0",
    "lib 1.3",
    "base 0.9",
  ]);
  assert.deepEqual(chosen.map((c) => c.requiredBy), [
    'python.packages "app"',
    "app 1.0",
    "lib 1.3",
  ]);
  assert.equal(resolveWheels(["lib==1.1"], "/wh", wheels)[0].wheel.version, "1.1");
  assert.equal(
    resolveWheels(["lib>=1.5"], "/wh", wheels)[0].wheel.version,
    "2.0.dev1",
    "a development release only when no final one satisfies",
  );
});

Deno.test("resolveWheels() says what is missing, who needs it, and where it looked", () => {
  const wheels = [w("app", "1.0", ["lib>=2"]), w("lib", "1.0"), w("native", "1.0", [], false)];
  const fail = (wanted: string[]) => {
    try {
      resolveWheels(wanted, "/wh", wheels);
    } catch (e) {
      assert.ok(e instanceof PackageError);
      return [e.message, e.root] as const;
    }
    throw new Error("resolved");
  };
  assert.deepEqual(fail(["lib", "app"]), [
    '"lib>=2" (required by app 1.0) conflicts with lib 1.0, chosen for python.packages "lib"; ' +
    "put one wheel in /wh that both accept",
    1,
  ]);
  assert.deepEqual(
    fail(["app"])[0],
    'no version of lib in /wh satisfies "lib>=2" (required by app 1.0): it has 1.0',
  );
  assert.match(
    fail(["zzz"])[0],
    /^no wheel of zzz for "zzz" \(required by python.packages\) in \/wh \(it holds: app, lib, native\)/,
  );
  assert.match(fail(["native"])[0], /runs in Pyodide \(native-1\.0-py3-none-any\.whl\)/);
});

Deno.test("scanWheelhouse() + installWheels(): pure and Pyodide wheels fit, others do not; files unpack once", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-wheelhouse-" });
  const text = new TextEncoder();
  const meta = (n: string) =>
    text.encode(
      `Metadata-Version: 2.1\nName: ${n}\nVersion: 1.0\nRequires-Dist: b\n\nbody\nRequires-Dist: not-a-header\n`,
    );
  Deno.writeFileSync(
    join(dir, "a-1.0-py3-none-any.whl"),
    zipSync({
      "a.py": text.encode("x = 1\n"),
      "a-1.0.data/purelib/a_extra.py": text.encode("y = 2\n"),
      "a-1.0.data/scripts/tool": text.encode("#!/bin/sh\n"),
      "a-1.0.dist-info/METADATA": meta("a"),
    }),
  );
  Deno.writeFileSync(
    join(dir, "b-1.0-cp314-cp314-pyodide_2026_0_wasm32.whl"),
    zipSync({ "b.py": text.encode(""), "b-1.0.dist-info/METADATA": meta("b") }),
  );
  Deno.writeFileSync(join(dir, "c-1.0-cp314-cp314-manylinux_2_17_x86_64.whl"), zipSync({}));
  Deno.writeTextFileSync(join(dir, "README.txt"), "not a wheel");
  const wheels = scanWheelhouse(dir).sort((x, y) => x.name.localeCompare(y.name));
  assert.deepEqual(wheels.map((x) => [x.name, x.fits]), [["a", true], ["b", true], ["c", false]]);
  assert.deepEqual(wheels[0].requires(), ["b"], "only headers count");
  const cache = Deno.makeTempDirSync({ prefix: "siphon-cache-" });
  const chosen = resolveWheels(["a"], dir, wheels).map((c) => c.wheel.file);
  const site = await installWheels(chosen, cache);
  assert.equal(Deno.readTextFileSync(join(site, "a.py")), "x = 1\n");
  assert.equal(Deno.readTextFileSync(join(site, "a_extra.py")), "y = 2\n", "purelib to the top");
  assert.throws(() => Deno.statSync(join(site, "a-1.0.data")), "scripts are not installed");
  assert.ok(Deno.statSync(join(site, "b.py")).isFile);
  const first = Deno.statSync(join(site, ".complete")).mtime;
  assert.equal(await installWheels(chosen, cache), site, "the same wheels, the same folder");
  assert.deepEqual(Deno.statSync(join(site, ".complete")).mtime, first, "not unpacked again");
  Deno.writeFileSync(
    join(dir, "evil-1.0-py3-none-any.whl"),
    zipSync({ "../escape.py": text.encode(""), "evil-1.0.dist-info/METADATA": meta("evil") }),
  );
  const evil = resolveWheels(["evil"], dir, scanWheelhouse(dir)).map((c) => c.wheel.file);
  await assert.rejects(
    () => installWheels(evil, cache),
    /entry outside its folder: \.\.\/escape\.py/,
  );
});

Deno.test("scanWheelhouse(): a wheel pyodide-lock.json lists takes its dependencies from there", () => {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-wheelhouse-lock-" });
  const text = new TextEncoder();
  const wheel = (file: string, name: string, requires = "") =>
    Deno.writeFileSync(
      join(dir, file),
      zipSync({
        [`${name}-1.0.dist-info/METADATA`]: text.encode(
          `Metadata-Version: 2.1\nName: ${name}\nVersion: 1.0\n${requires}`,
        ),
      }),
    );
  wheel("fast-1.0-cp314-cp314-pyodide_2026_0_wasm32.whl", "fast", "Requires-Dist: nope\n");
  wheel("base-1.0-py3-none-any.whl", "base");
  wheel("other-1.0-py3-none-any.whl", "other", "Requires-Dist: not-in-pyodide\n");
  Deno.writeTextFileSync(
    join(dir, "pyodide-lock.json"),
    JSON.stringify({
      info: { python: "3.14.2" },
      packages: {
        fast: {
          name: "fast",
          version: "1.0",
          file_name: "fast-1.0-cp314-cp314-pyodide_2026_0_wasm32.whl",
          depends: ["base"],
        },
      },
    }),
  );
  const chosen = resolveWheels(["fast"], dir, scanWheelhouse(dir));
  assert.deepEqual(chosen.map((c) => c.wheel.name), ["fast", "base"]);
  assert.throws(
    () => resolveWheels(["other"], dir, scanWheelhouse(dir)),
    /no wheel of not-in-pyodide .*required by other 1\.0/,
    "a wheel the lock does not list keeps its own metadata",
  );
  Deno.writeTextFileSync(join(dir, "pyodide-lock.json"), "{ not json");
  assert.throws(() => scanWheelhouse(dir), /pyodide-lock\.json is not a Pyodide lock file/);
});
