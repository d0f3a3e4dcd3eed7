/**
 * `deno task compile` embeds everything the server loads at run time. `deno compile` needs to
 * download its `denort` runtime, which this machine cannot; with DENORT_BIN set to the deno
 * binary it still builds the executable and its embedded file system, which this test reads
 * back. Running the binary is checked on a machine with network (see README, "Deployment").
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { ROOT } from "../../harness/launch.ts";

/** Every file path in the compiled binary's embedded file system. */
function embeddedFiles(binary: Uint8Array): string[] {
  const text = new TextDecoder("latin1").decode(binary);
  type Entry = { Dir?: { n: string; e: Entry[] }; File?: { n: string }; Symlink?: { n: string } };
  // The file system is a JSON array of entries, sorted by name; the one whose top level holds
  // main.ts is the repository root.
  for (let start = text.indexOf('[{"'); start !== -1; start = text.indexOf('[{"', start + 1)) {
    if (!/^\[\{"(Dir|File|Symlink)":\{"n":"/.test(text.slice(start, start + 20))) continue;
    const end = closing(text, start);
    let root: Entry[];
    try {
      root = JSON.parse(text.slice(start, end + 1));
    } catch {
      continue;
    }
    if (!root.some((e) => e.File?.n === "main.ts")) continue;
    const paths: string[] = [];
    const walk = (entries: Entry[], prefix: string) => {
      for (const e of entries) {
        if (e.Dir) walk(e.Dir.e, `${prefix}${e.Dir.n}/`);
        else if (e.File) paths.push(prefix + e.File.n);
        else if (e.Symlink) paths.push(prefix + e.Symlink.n);
      }
    };
    walk(root, "");
    return paths;
  }
  throw new Error("no embedded file system found in the binary");
}

/** Where the JSON array or object opening at `start` closes. */
function closing(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let end = start; end < text.length; end++) {
    const c = text[end];
    if (inString) {
      if (c === "\\") end++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "[" || c === "{") depth++;
    else if ((c === "]" || c === "}") && --depth === 0) return end;
  }
  return text.length - 1;
}

/** Modules that hold only types: erased at compile time, so rightly not embedded. */
const TYPES_ONLY = ["src/protocol.ts", "src/config/config_type.ts"];

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(ROOT, dir))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...filesUnder(path, keep));
    else if (keep(e.name)) out.push(path);
  }
  return out;
}

Deno.test("deno task compile embeds every worker module, the siphon package and Pyodide", async () => {
  const task = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).tasks.compile.command;
  const out = join(Deno.makeTempDirSync({ prefix: "siphon-compile-" }), "siphon-deno");
  const args = (task as string).split(" ").slice(1).map((a) => a === "dist/siphon-deno" ? out : a);
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { DENORT_BIN: Deno.execPath() },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const log = new TextDecoder().decode(result.stderr) + new TextDecoder().decode(result.stdout);
  assert.ok(result.success, log);
  const files = new Set(embeddedFiles(Deno.readFileSync(out)));
  const wanted = [
    "main.ts",
    ...filesUnder("workers", (n) => n.endsWith(".ts") && !n.endsWith("_test.ts")),
    ...filesUnder("workers/python", (n) => n.endsWith(".py") || n.endsWith(".pyi")),
    ...filesUnder("src", (n) => n.endsWith(".ts") && !n.endsWith("_test.ts")),
  ].filter((f) => !TYPES_ONLY.includes(f));
  const pyodide = relative(ROOT, Deno.realPathSync(join(ROOT, "node_modules", "pyodide")));
  for (
    const asset of [
      "pyodide.asm.wasm",
      "python_stdlib.zip",
      "pyodide-lock.json",
      "pyodide.asm.mjs",
      "pyodide.mjs",
      "package.json",
    ]
  ) {
    wanted.push(`${pyodide}/${asset}`);
  }
  // Loaded only under OTEL_DENO=true, by a dynamic import the compiler must still follow.
  const otel = relative(ROOT, Deno.realPathSync(join(ROOT, "node_modules", "@opentelemetry/api")));
  wanted.push(`${otel}/package.json`, `${otel}/dist/index.mjs`);
  // The wheelhouse the executable carries (`python.wheelhouse: embedded`).
  wanted.push(...filesUnder("deploy/wheelhouse", () => true));
  const missing = wanted.filter((f) => !files.has(f));
  assert.deepEqual(missing, [], `not embedded: ${missing.join(", ")}`);
  assert.ok(files.size > wanted.length);
  Deno.removeSync(out);
});
