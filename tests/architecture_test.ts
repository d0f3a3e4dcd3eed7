/**
 * The shape of the code, checked: `src/` (importable, testable without a listener) never imports
 * `workers/` (what runs in a worker thread); no product file grows past ~400 lines nor a
 * function past ~60; and the markers Python answers with mean the same on both sides.
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { MARKERS } from "../src/http/errors.ts";
import { ROOT } from "./_server.ts";

/** Product code: what ships (tests, benches and the load driver are not product). */
function productFiles(dir: string, ext: string[]): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(ROOT, dir))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) {
      if (!["stubs", "testing"].includes(e.name)) out.push(...productFiles(path, ext));
    } else if (ext.some((x) => e.name.endsWith(x)) && !/_test\.ts$|^test_/.test(e.name)) {
      out.push(path);
    }
  }
  return out;
}

const TS = ["main.ts", ...productFiles("src", [".ts"]), ...productFiles("workers", [".ts"])];
const PY = productFiles("workers/python", [".py"]);
const read = (path: string) => Deno.readTextFileSync(join(ROOT, path));

Deno.test("src/ never imports workers/ (shared types live in src/)", () => {
  const offenders = productFiles("src", [".ts"]).flatMap((f) =>
    [...read(f).matchAll(/^\s*(?:import|export)\b[^;]*?from\s+["']([^"']+)["']/gm)]
      .map((m) => m[1])
      .filter((spec) => relative(ROOT, join(ROOT, f, "..", spec)).startsWith("workers/"))
      .map((spec) => `${f} imports ${spec}`)
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

/** Functions and methods of a `deno fmt`-formatted file, with their lengths in lines. */
function tsFunctions(text: string): [string, number][] {
  const lines = text.split("\n");
  const out: [string, number][] = [];
  const start =
    /^(\s*)(?:export\s+)?(?:async\s+)?(?:function\s*\*?\s*([\w$]+)|(?:static\s+|private\s+|readonly\s+)*(?:async\s+)?(?:get\s+|set\s+)?(#?[\w$]+)\s*(?:<[^>]*>)?\()/;
  lines.forEach((line, i) => {
    const m = start.exec(line);
    if (!m || /^\s*(if|for|while|switch|catch|return|await)\b/.test(line)) return;
    if (!m[2] && m[1].length !== 2) return; // methods sit at one indent inside their class
    // A body opens where the parameter list closes; a signature ending in ";" declares one only.
    let depth = 0;
    let open = i;
    for (; open < lines.length; open++) {
      for (const c of lines[open]) depth += c === "(" ? 1 : c === ")" ? -1 : 0;
      if (depth <= 0) break;
    }
    if (open >= lines.length || !lines[open].trimEnd().endsWith("{")) return;
    const end = lines.findIndex((l, j) => j > open && l === `${m[1]}}`);
    if (end !== -1) out.push([m[2] ?? m[3], end - i + 1]);
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

Deno.test("the markers Python answers with are the ones the bridge reads", () => {
  const python = read("workers/python/siphon/_bridge.py");
  const defined = [...python.matchAll(/^[A-Z_]+ = "(![0-9]+[a-z]?)"/gm)].map((m) => m[1]).sort();
  assert.deepEqual(defined, Object.keys(MARKERS).sort());
});
