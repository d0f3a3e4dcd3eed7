/**
 * The shape of the code, checked: `src/` (importable, testable without a listener) never imports
 * `workers/` (what runs in a worker thread); no product file grows past ~400 lines nor a
 * function (of any form) past ~60; no module-level mutable `let` in `workers/` (a thread's state
 * lives in one object); and no files — TypeScript or Python — import each other in a circle.
 * (That the two halves of the JS↔Python contract agree is workers/bridge/contract_test.ts.)
 */
import assert from "node:assert/strict";
import { dirname, join, relative } from "node:path";
import { ROOT } from "../../harness/launch.ts";

/** Product code: what ships (tests, benches and the load driver are not product). */
function productFiles(dir: string, ext: string[]): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(ROOT, dir))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) {
      if (!["stubs", "testing"].includes(e.name)) out.push(...productFiles(path, ext));
    } else if (ext.some((x) => e.name.endsWith(x)) && !/_test\.ts$|^test_.*\.py$/.test(e.name)) {
      out.push(path);
    }
  }
  return out;
}

const TS = ["main.ts", ...productFiles("src", [".ts"]), ...productFiles("workers", [".ts"])];
const PY = productFiles("workers/python", [".py"]);
const read = (path: string) => Deno.readTextFileSync(join(ROOT, path));

/** The repository files a TypeScript file imports by relative path (type imports count). */
function importedFiles(f: string): string[] {
  return [...read(f).matchAll(/^\s*(?:import|export)\b[^;]*?from\s+["'](\.[^"']+)["']/gm)]
    .map((m) => relative(ROOT, join(ROOT, dirname(f), m[1])));
}

Deno.test("src/ never imports workers/ (shared types live in src/)", () => {
  const offenders = productFiles("src", [".ts"]).flatMap((f) =>
    importedFiles(f).filter((target) => target.startsWith("workers/"))
      .map((target) => `${f} imports ${target}`)
  );
  assert.deepEqual(offenders, []);
});

Deno.test("no product file is over 400 lines", () => {
  const long = [...TS, ...PY]
    .map((f) => [f, read(f).split("\n").length] as const)
    .filter(([, n]) => n > 400)
    .map(([f, n]) => `${f}: ${n} lines`);
  assert.deepEqual(long, []);
});

/** The parameters of the list opening at `text[open]` (a `(`), as written. */
function parameters(text: string, open: number): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if ("([{<".includes(c)) depth++;
    else if (")]}".includes(c) || (c === ">" && text[i - 1] !== "=")) depth--;
    if (depth === 1 && c === ",") {
      out.push(text.slice(start, i));
      start = i + 1;
    }
    if (depth === 0) {
      out.push(text.slice(start, i));
      break;
    }
  }
  return out.map((p) => p.trim()).filter((p) => p !== "");
}

/** Functions and methods of a `deno fmt`-formatted file: name, length in lines, parameters. */
export function tsFunctions(text: string): [string, number, number][] {
  const lines = text.split("\n");
  const out: [string, number, number][] = [];
  // `function f(`, a method `f(` / `async #f(` at one indent, or anything assigned an arrow
  // function or function expression: `x = async (…) => {`, `const f = (…): T => {`.
  const declared =
    /^(\s*)(?:export\s+)?(?:async\s+)?(?:function\s*\*?\s*([\w$]+)|(?:static\s+|private\s+|readonly\s+)*(?:async\s+)?(?:get\s+|set\s+)?(#?[\w$]+)\s*(?:<[^>]*>)?\()/;
  const assigned =
    /^(\s*)(?:export\s+)?(?:(?:const|let|var|readonly|static|private)\s+)*([\w$#.]+)\s*(?::[^=]+)?=\s*(?:async\s+)?(?:function\b|\(|[\w$]+\s*=>)/;
  lines.forEach((line, i) => {
    const a = assigned.exec(line);
    const m = a ? null : declared.exec(line);
    if (!a && !m) return;
    if (/^\s*(if|for|while|switch|catch|return|await)\b/.test(line)) return;
    const indent = (a ?? m)![1];
    if (m && !m[2] && indent.length !== 2) return; // methods sit at one indent inside a class
    // A body opens where the parameter list closes; a signature ending in ";" declares one only.
    let depth = 0;
    let open = i;
    for (; open < lines.length; open++) {
      for (const c of lines[open]) depth += c === "(" ? 1 : c === ")" ? -1 : 0;
      if (depth <= 0) break;
    }
    if (open >= lines.length || !lines[open].trimEnd().endsWith("{")) return;
    if (a && !/=>\s*\{$|function\b.*\{$/.test(lines[open].trimEnd())) return;
    const end = lines.findIndex((l, j) => j > open && new RegExp(`^${indent}\\}[);,]*$`).test(l));
    if (end === -1) return;
    const from = lines.slice(0, i).join("\n").length + (i > 0 ? 1 : 0) + line.indexOf("(");
    out.push([a ? a[2] : m![2] ?? m![3], end - i + 1, parameters(text, from).length]);
  });
  return out;
}

/** Python `def`s with their lengths in lines (the body is what is indented deeper). */
function pyFunctions(text: string): [string, number][] {
  const lines = text.split("\n");
  const out: [string, number][] = [];
  lines.forEach((line, i) => {
    const m = /^(\s*)(?:async\s+)?def\s+(\w+)/.exec(line);
    if (!m) return;
    let end = i + 1;
    while (
      end < lines.length &&
      (lines[end].trim() === "" || /^\s*/.exec(lines[end])![0].length > m[1].length ||
        /^\s*\)/.test(lines[end]))
    ) end++;
    while (lines[end - 1].trim() === "") end--;
    out.push([m[2], end - i]);
  });
  return out;
}

Deno.test("no product function is over 60 lines", () => {
  const long = [
    ...TS.flatMap((f) => tsFunctions(read(f)).map(([name, n]) => [f, name, n] as const)),
    ...PY.flatMap((f) => pyFunctions(read(f)).map(([name, n]) => [f, name, n] as const)),
  ].filter(([, , n]) => n > 60).map(([f, name, n]) => `${f}: ${name} is ${n} lines`);
  assert.deepEqual(long, []);
});

Deno.test("the function finder sees every form a function takes", () => {
  const text = [
    "function a() {",
    "}",
    "self.onmessage = async (event: MessageEvent<T>) => {",
    "  x();",
    "};",
    "export const b = (n: number): number => {",
    "  return n;",
    "};",
    "class C {",
    "  #c = async () => {",
    "  };",
    "  async d(x: number) {",
    "  }",
    "}",
  ].join("\n");
  assert.deepEqual(tsFunctions(text).map(([name, , n]) => `${name}/${n}`).sort(), [
    "#c/0",
    "a/0",
    "b/1",
    "d/1",
    "self.onmessage/1",
  ]);
});

Deno.test("no function on the request path takes more than 3 parameters", () => {
  const path = [
    ...productFiles("workers/serve", [".ts"]),
    ...productFiles("workers/bridge", [".ts"]),
  ];
  const wide = path.flatMap((f) =>
    tsFunctions(read(f)).filter(([, , n]) => n > 3).map(([name, , n]) => `${f}: ${name} takes ${n}`)
  );
  assert.deepEqual(wide, []);
});

Deno.test("imports go down the layers: base ← bridge ← services ← serve ← generation ← thread", () => {
  const layers = ["base", "bridge", "services", "serve", "generation", "thread"];
  const upward = productFiles("workers", [".ts"]).flatMap((f) => {
    const layer = layers.indexOf(f.split("/")[1]);
    if (layer === -1) return [];
    return importedFiles(f)
      .filter((target) => layers.indexOf(target.split("/")[1]) > layer)
      .map((target) => `${f} imports ${target}`);
  });
  assert.deepEqual(upward, []);
});

Deno.test("benches and the driver never reach into tests/", () => {
  const reach = [...allTs("bench"), ...allTs("harness")].flatMap((f) =>
    importedFiles(f)
      .filter((target) => target.startsWith("tests/"))
      .map((target) => `${f} imports ${target}`)
  );
  assert.deepEqual(reach, []);
});

Deno.test("no module-level mutable let in workers/ (a thread keeps its state in one object)", () => {
  const found = productFiles("workers", [".ts"]).flatMap((f) =>
    read(f).split("\n").flatMap((line, i) =>
      /^(export\s+)?let\s/.test(line) ? [`${f}:${i + 1}`] : []
    )
  );
  assert.deepEqual(found, []);
});

/** Every import cycle among `files`, given how to list one file's imports (as files). */
function cycles(files: string[], importsOf: (file: string) => string[]): string[][] {
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((g) => files.includes(g))]));
  // Tarjan's strongly connected components: a component of more than one file is a circle.
  let index = 0;
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const out: string[][] = [];
  const visit = (v: string) => {
    order.set(v, index);
    low.set(v, index++);
    stack.push(v);
    for (const w of graph.get(v)!) {
      if (!order.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (stack.includes(w)) low.set(v, Math.min(low.get(v)!, order.get(w)!));
    }
    if (low.get(v) !== order.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      component.push(w);
    } while (w !== v);
    if (component.length > 1) out.push(component.sort());
  };
  for (const f of files) if (!order.has(f)) visit(f);
  return out;
}

/** Every TypeScript file of the repository (tests, benches and the driver too). */
function allTs(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(ROOT, dir))) {
    const path = dir === "." ? e.name : `${dir}/${e.name}`;
    if (
      e.isDirectory && !["node_modules", "fixtures", "python"].includes(e.name) && e.name[0] !== "."
    ) {
      out.push(...allTs(path));
    } else if (e.isFile && e.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

Deno.test("no TypeScript files import each other in a circle (type imports count)", () => {
  const files = ["main.ts", ...["src", "workers", "harness", "bench", "tests"].flatMap(allTs)];
  const found = cycles(files, importedFiles);
  assert.deepEqual(found, []);
});

Deno.test("no Python modules of siphon or siphon_sdk import each other in a circle", () => {
  const files = productFiles("workers/python", [".py"]);
  const moduleFile = (name: string) => `workers/python/${name.replaceAll(".", "/")}.py`;
  const found = cycles(files, (f) => {
    const pkg = dirname(f).slice("workers/python/".length).replaceAll("/", ".");
    return [
      ...read(f).matchAll(/^\s*from\s+(\.?[\w.]*)\s+import\s+([\w, ]+)|^\s*import\s+([\w.]+)/gm),
    ]
      .flatMap((m) => {
        if (m[3]) return [moduleFile(m[3])];
        const base = m[1].startsWith(".") ? pkg + (m[1] === "." ? "" : m[1]) : m[1];
        // `from pkg import mod` depends on the module; `from mod import name` on `mod`.
        const modules = m[2].split(",").map((n) => moduleFile(`${base}.${n.trim()}`))
          .filter((path) => files.includes(path));
        return modules.length > 0 ? modules : [moduleFile(base)];
      })
      .map((path) => files.includes(path) ? path : path.replace(/\.py$/, "/__init__.py"))
      .filter((path) => path !== `${dirname(f)}/__init__.py`); // a package is imported first
  });
  assert.deepEqual(found, []);
});
