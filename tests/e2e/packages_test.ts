/**
 * python.packages from a wheelhouse, end to end, with wheels built here: a handler imports an
 * installed package (and through it its dependency) on every worker; `siphon-deno test` sees the
 * same packages; a second start finds them installed; a missing dependency stops the start and
 * `check` with the package, who required it and the folder, and a reload that needs one keeps
 * the old generation serving.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, fresh, runCli, runToExit, startServer, waitFor } from "../../harness/launch.ts";
import { writeWheel as wheel } from "../../harness/wheels.ts";

/** A project whose script imports `greet`, which needs `shout` (and, on Windows only, `nope`). */
function project(packages = "[greet]"): { dir: string; config: string; port: number } {
  const dir = Deno.makeTempDirSync({ prefix: "siphon-packages-" });
  const wheels = join(dir, "wheels");
  Deno.mkdirSync(wheels);
  wheel(wheels, "greet", "1.0", {
    "greet/__init__.py":
      "from shout import loud\n\ndef hello(name):\n    return loud('hi ' + name)\n",
  }, ["shout>=2", 'nope ; sys_platform == "win32"', 'pytest ; extra == "test"']);
  wheel(wheels, "shout", "1.5", { "shout.py": "def loud(s):\n    return s.upper() + ' (1.5)'\n" });
  wheel(wheels, "shout", "2.1", { "shout.py": "def loud(s):\n    return s.upper() + '!'\n" });
  Deno.writeTextFileSync(
    join(dir, "app.py"),
    "import os, sys\n" +
      "PRELOADED = [m for m in ('greet', 'shout', 'extra') if m in sys.modules]\n" +
      "import greet\nfrom siphon import http\n\n" +
      '@http.route("/preloaded")\ndef preloaded(req):\n' +
      '    return http.Response(200, None, ",".join(PRELOADED) or "none")\n\n' +
      '@http.route("/hello/{name}")\ndef hello(req):\n' +
      '    return http.Response(200, None, greet.hello(req.path_params["name"]) + " " +\n' +
      '                         os.environ["SIPHON_WORKER"] + " " + greet.__file__)\n',
  );
  const port = freePort();
  Deno.writeTextFileSync(
    join(dir, "http.yaml"),
    `script: app.py\nworkers: 2\npython:\n  packages: ${packages}\n` +
      `servers:\n  - listen: 127.0.0.1:${port}\n`,
  );
  return { dir, config: join(dir, "http.yaml"), port };
}

Deno.test("python.packages: an installed package and its dependency import on every worker", async () => {
  const p = project();
  let site = "";
  const server = await startServer({ config: p.config });
  try {
    const seen = new Set<string>();
    await waitFor(
      async () => {
        // "HI ANN! <worker> <greet's file>"
        const [hi, ann, worker, file] = (await fresh(`http://127.0.0.1:${p.port}/hello/ann`))
          .text.split(" ");
        assert.equal(`${hi} ${ann}`, "HI ANN!", "the newest shout that greet accepts: 2.1");
        seen.add(worker);
        site = file.slice(0, file.indexOf("/greet/"));
        return seen.size === 2;
      },
      "both workers importing greet",
      server.logs,
    );
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
  // A second start (and check) finds the same wheels installed: the folder is not unpacked again.
  const installed = Deno.statSync(join(site, ".complete")).mtime;
  const check = await runToExit({ config: p.config, command: "check" });
  assert.equal(check.code, 0, check.output);
  const again = await startServer({ config: p.config });
  try {
    assert.match((await fresh(`http://127.0.0.1:${p.port}/hello/bo`)).text, /^HI BO! /);
    assert.deepEqual(Deno.statSync(join(site, ".complete")).mtime, installed);
  } finally {
    await again.stop();
  }
});

Deno.test("python.packages: a missing dependency stops serve and check, naming who needs it", async () => {
  const p = project();
  for (const f of Deno.readDirSync(join(p.dir, "wheels"))) {
    if (f.name.startsWith("shout-2")) Deno.removeSync(join(p.dir, "wheels", f.name));
  }
  for (const command of ["serve", "check"] as const) {
    const { code, output } = await runToExit({ config: p.config, command });
    assert.equal(code, 2, output);
    assert.match(
      output,
      new RegExp(
        `http\\.yaml:4:14: python\\.packages\\[0\\]: no version of shout in ${p.dir}/wheels ` +
          `satisfies "shout>=2" \\(required by greet 1\\.0\\): it has 1\\.5`,
      ),
    );
  }
  Deno.removeSync(join(p.dir, "wheels"), { recursive: true });
  const gone = await runToExit({ config: p.config, command: "check" });
  assert.match(gone.output, /python\.wheelhouse: wheelhouse folder not found: .*\/wheels/);
});

Deno.test("python.packages: a reload that needs a missing wheel keeps the old generation", async () => {
  const p = project();
  const server = await startServer({ config: p.config });
  try {
    Deno.writeTextFileSync(
      p.config,
      Deno.readTextFileSync(p.config).replace("[greet]", "[greet, jinja2==3.1.4]"),
    );
    await server.waitForLog(/reload failed/);
    assert.match(
      server.logs(),
      /python\.packages\[1\]: no wheel of jinja2 for "jinja2==3\.1\.4" \(required by python\.packages\) in .*\/wheels \(it holds: greet, shout\)/,
    );
    assert.match((await fresh(`http://127.0.0.1:${p.port}/hello/cy`)).text, /^HI CY! /);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});

Deno.test("siphon-deno test sees the packages serving sees", async () => {
  const p = project();
  Deno.writeTextFileSync(
    join(p.dir, "test_app.py"),
    "from siphon_sdk.http_testing import HttpTestHarness\n\n" +
      "def test_hello():\n    h = HttpTestHarness()\n    h.load_script('app.py')\n" +
      "    assert h.request('GET', '/hello/di').body.decode().startswith('HI DI!')\n",
  );
  const { code, out, err } = await runCli(["test", p.dir]);
  const text = out + err;
  assert.equal(code, 0, text);
  assert.match(text, /1 passed, 0 failed/);
});

Deno.test("python.packages are imported into the snapshot (over 30 MiB too); a new set gets its own on reload", async () => {
  const p = project();
  const preloaded = async () => (await fresh(`http://127.0.0.1:${p.port}/preloaded`)).text;
  const built = /built the Python snapshot in \d+ ms: \S+\.snapshot/g;
  const dropped = /\[w1\] startup: head start dropped/;
  const debug = ["--log-level", "debug"];
  const first = await startServer({ config: p.config, args: debug });
  try {
    assert.equal(first.logs().match(built)?.length, 1, first.logs());
    // The first start knows neither the config's packages nor its workers' permissions: its
    // head start starts no worker (a thread's permissions are fixed when it starts).
    assert.doesNotMatch(first.logs(), dropped, first.logs());
    assert.equal(await preloaded(), "greet,shout", "a worker starts with them imported");
  } finally {
    await first.stop();
  }
  const again = await startServer({ config: p.config, args: debug });
  try {
    assert.doesNotMatch(again.logs(), built, "the second start restores the cached snapshot");
    assert.doesNotMatch(again.logs(), dropped, "worker 1's head start used the packages' snapshot");
    assert.equal(await preloaded(), "greet,shout");
    // 12 MB at import: the snapshot outgrows the wasm file's 30 MiB initial memory.
    wheel(join(p.dir, "wheels"), "extra", "0.1", { "extra.py": "X = bytearray(12_000_000)\n" });
    Deno.writeTextFileSync(
      p.config,
      Deno.readTextFileSync(p.config).replace("[greet]", "[greet, extra]"),
    );
    await again.waitForLog(/reloaded \(file change\): generation 2/);
    assert.equal(again.logs().match(built)?.length, 1, "a snapshot for the new set of wheels");
    await waitFor(
      async () => await preloaded() === "greet,shout,extra",
      "extra preloaded",
      again.logs,
    );
    assert.doesNotMatch(again.logs(), /Cannot restore the Python memory snapshot/);
  } finally {
    assert.equal((await again.stop()).code, 0);
  }
});

Deno.test("check reports an import nothing provides, with its line; guarded imports pass", async () => {
  const p = project();
  Deno.writeTextFileSync(
    join(p.dir, "app.py"),
    "from greet import hello\nimport helper\ntry:\n    import ujson\nexcept ImportError:\n" +
      "    ujson = None\nfrom siphon import http\n\n" +
      '@http.route("/dump")\ndef dump(req):\n    import yaml.dumper\n' +
      "    return http.Response(200, None, yaml.dump({}))\n",
  );
  Deno.writeTextFileSync(join(p.dir, "helper.py"), "X = 1\n");
  const { code, output } = await runToExit({ config: p.config, command: "check" });
  assert.equal(code, 2, output);
  assert.match(
    output,
    new RegExp(
      `${p.dir}/app\\.py:11: import yaml\\.dumper: no installed package, standard-library ` +
        "module or file beside the script provides yaml; add its wheel to the wheelhouse",
    ),
  );
  assert.doesNotMatch(output, /ujson|helper|greet/, "guarded, beside the script, installed");
});

Deno.test("an import at module level that nothing provides gets the same hint, from check and serve", async () => {
  const p = project();
  Deno.writeTextFileSync(
    join(p.dir, "app.py"),
    "from siphon import http\nimport requests\n\n" +
      '@http.route("/x")\ndef x(req):\n    return http.Response(200, None, "x")\n',
  );
  const hint = new RegExp(
    `${p.dir}/app\\.py:2: import requests: no installed package, standard-library module or ` +
      "file beside the script provides requests; add its wheel to the wheelhouse and the name " +
      "to python\\.packages \\(docs/packages\\.md\\)",
  );
  for (const command of ["check", "serve"] as const) {
    const { code, output } = await runToExit({ config: p.config, command });
    assert.notEqual(code, 0, output);
    assert.match(output, /ModuleNotFoundError: No module named 'requests'/, command);
    assert.match(output, hint, command);
  }
});

Deno.test("a new wheel in the wheelhouse is a reload: the newer version serves", async () => {
  const p = project();
  const server = await startServer({ config: p.config });
  try {
    assert.match((await fresh(`http://127.0.0.1:${p.port}/hello/ed`)).text, /^HI ED! /);
    wheel(join(p.dir, "wheels"), "shout", "2.2", {
      "shout.py": "def loud(s):\n    return s.upper() + '!!'\n",
    });
    await server.waitForLog(/reloaded \(file change\): generation 2/);
    assert.match((await fresh(`http://127.0.0.1:${p.port}/hello/ed`)).text, /^HI ED!! /);
  } finally {
    assert.equal((await server.stop()).code, 0);
  }
});
