/**
 * The docs stay true to the code: every key the config schema accepts is in
 * docs/configuration.md, and every relative link in README.md and docs/ points at a file.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { knownKeysAt } from "../src/config/schema.ts";
import { ROOT } from "./_server.ts";

/** Keys whose values are lists (`servers[]`); the other containers are maps (`cache.<name>`). */
const ARRAYS = new Set(["servers", "routes", "mounts"]);
const MAPS = new Set(["clients", "cache"]);

function documentedNames(path: PropertyKey[] = [], prefix = ""): string[] {
  const names: string[] = [];
  for (const key of knownKeysAt(path)) {
    const name = prefix + key;
    const inner = ARRAYS.has(key) ? `${name}[]` : MAPS.has(key) ? `${name}.<name>` : name;
    const children = knownKeysAt([...path, key]);
    const elements = knownKeysAt([...path, key, 0]);
    if (children.length === 0 && elements.length === 0) names.push(name);
    names.push(...documentedNames([...path, key], `${name}.`));
    if (elements.length) names.push(...documentedNames([...path, key, 0], `${inner}.`));
  }
  return names;
}

Deno.test("docs/configuration.md documents every config key", () => {
  const doc = Deno.readTextFileSync(join(ROOT, "docs", "configuration.md"));
  // `admin` is parsed by hand (false | { listen, metrics }), so the schema cannot list it.
  const names = [...documentedNames(), "admin.listen", "admin.metrics"];
  assert.ok(names.includes("servers[].tls.client_ca"), names.join(" "));
  assert.ok(names.includes("cache.<name>.prefix"), names.join(" "));
  const missing = names.filter((n) => !doc.includes("`" + n + "`"));
  assert.deepEqual(missing, []);
});

Deno.test("README.md and docs/ link only to files that exist", () => {
  const pages = [
    "README.md",
    ...[...Deno.readDirSync(join(ROOT, "docs"))].map((e) => `docs/${e.name}`),
  ];
  const broken: string[] = [];
  for (const page of pages) {
    const text = Deno.readTextFileSync(join(ROOT, page));
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target)) continue;
      try {
        Deno.statSync(join(ROOT, dirname(page), target));
      } catch {
        broken.push(`${page} → ${target}`);
      }
    }
  }
  assert.deepEqual(broken, []);
});
