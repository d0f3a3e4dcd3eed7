/**
 * A wheelhouse: a folder of `.whl` files — pure-Python wheels (`py3-none-any`) and Pyodide's
 * emscripten builds — and the resolution of `python.packages` against it: each requirement and,
 * through each wheel's `Requires-Dist`, its dependencies, to the newest wheel that satisfies all
 * that asked for it. With Pyodide's `pyodide-lock.json` in the folder, a wheel it lists takes its
 * dependencies from there (`depends`), as Pyodide's own loader does. Nothing is fetched; a missing wheel is an error that says which package,
 * who asked for it, and where it was looked for.
 *
 * Boundary: main thread or a worker, at config load (sync reads: a wheel's METADATA is small).
 *
 * @module
 */
import { join } from "node:path";
import { unzipSync } from "fflate";
import {
  compareVersions,
  evaluateMarker,
  isPrerelease,
  normalizeName,
  parseRequirement,
  satisfies,
} from "./requirement.ts";

/** One wheel file of the folder. */
export interface Wheel {
  file: string;
  name: string;
  key: string;
  version: string;
  /** Whether Pyodide can install it (pure Python, or built for Pyodide's platform). */
  fits: boolean;
  /** Its `Requires-Dist` lines, read when first needed. */
  requires(): string[];
}

/** Platform tags of wheels built for this Pyodide (pyodide-lock.json's `info`). */
const PYODIDE_PLATFORMS = /^(any|pyodide_2026_0_wasm32|emscripten_5_0_3_wasm32)$/;

/**
 * Lists the wheels of a folder.
 *
 * @param dir the wheelhouse
 * @returns every `.whl` whose file name follows the wheel naming convention
 * @throws {Deno.errors.NotFound} without the folder; {Error} for an unreadable pyodide-lock.json
 */
export function scanWheelhouse(dir: string): Wheel[] {
  const wheels = listWheels(dir);
  const lock = readLock(dir);
  for (const wheel of wheels) {
    const entry = lock.get(wheel.file.slice(dir.length + 1));
    if (!entry) continue;
    wheel.fits = true;
    wheel.requires = () => entry.depends;
  }
  return wheels;
}

/** `pyodide-lock.json`'s packages by wheel file name, when the folder has one. */
function readLock(dir: string): Map<string, { depends: string[] }> {
  let text;
  try {
    text = Deno.readTextFileSync(join(dir, "pyodide-lock.json"));
  } catch {
    return new Map();
  }
  try {
    const packages = JSON.parse(text).packages as Record<string, Record<string, unknown>>;
    return new Map(
      Object.values(packages).map((p) => [
        String(p.file_name),
        { depends: (p.depends as string[] | undefined ?? []).map(String) },
      ]),
    );
  } catch (e) {
    throw new Error(
      `${join(dir, "pyodide-lock.json")} is not a Pyodide lock file: ${(e as Error).message}`,
    );
  }
}

function listWheels(dir: string): Wheel[] {
  const wheels: Wheel[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const parts = entry.isFile && entry.name.endsWith(".whl")
      ? entry.name.slice(0, -4).split("-")
      : [];
    if (parts.length !== 5 && parts.length !== 6) continue;
    const [name, version] = parts;
    const [py, abi, platform] = parts.slice(-3);
    const file = join(dir, entry.name);
    let requires: string[] | undefined;
    wheels.push({
      file,
      name,
      key: normalizeName(name),
      version,
      fits: PYODIDE_PLATFORMS.test(platform) &&
        (platform !== "any" || (/(^|\.)py3/.test(py) && /^(none|abi3)$/.test(abi))),
      requires: () => requires ??= readRequires(file),
    });
  }
  return wheels;
}

/** The `Requires-Dist` values of a wheel's `*.dist-info/METADATA`. */
function readRequires(file: string): string[] {
  const found = unzipSync(Deno.readFileSync(file), {
    filter: (f) => /^[^/]+\.dist-info\/METADATA$/.test(f.name),
  });
  const metadata = Object.values(found)[0];
  if (!metadata) throw new Error(`${file} has no *.dist-info/METADATA: not a wheel`);
  const text = new TextDecoder().decode(metadata);
  const headers = text.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, " ");
  return headers.split(/\r?\n/).flatMap((line) => {
    const m = /^Requires-Dist:\s*(.+)$/i.exec(line);
    return m ? [m[1].trim()] : [];
  });
}

/** A requirement that cannot be met; `root` is the `python.packages` entry that led to it. */
export class PackageError extends Error {
  /**
   * @param message what is missing, who asked for it, where it was looked for
   * @param root index into `python.packages`
   */
  constructor(message: string, readonly root: number) {
    super(message);
    this.name = "PackageError";
  }
}

/** A wheel chosen for a requirement, and why. */
export interface Chosen {
  wheel: Wheel;
  /** Who asked first: `python.packages` or `name version`. */
  requiredBy: string;
}

/**
 * Resolves requirements against a wheelhouse, dependencies included.
 *
 * @param wanted `python.packages` entries (`name` or `name==version`)
 * @param dir the wheelhouse (for messages)
 * @param wheels its wheels ({@link scanWheelhouse})
 * @returns the wheels to install, each once, in the order they were first needed
 * @throws {PackageError} naming the package, the requirement that pulled it in and the folder
 */
export function resolveWheels(wanted: readonly string[], dir: string, wheels: Wheel[]): Chosen[] {
  const chosen = new Map<string, Chosen & { extras: Set<string>; root: number }>();
  const queue = wanted.map((text, root) => ({ text, by: "python.packages", root }));
  while (queue.length > 0) {
    const { text, by, root } = queue.shift()!;
    let req;
    try {
      req = parseRequirement(text);
    } catch (e) {
      throw new PackageError(`${(e as Error).message} (required by ${by})`, root);
    }
    const asked = `"${text}" (required by ${by})`;
    const have = chosen.get(req.key);
    if (have) {
      if (!satisfies(have.wheel.version, req.specifiers)) {
        throw new PackageError(
          `${asked} conflicts with ${have.wheel.name} ${have.wheel.version}, chosen for ` +
            `${have.requiredBy}; put one wheel in ${dir} that both accept`,
          root,
        );
      }
      const added = req.extras.filter((e) => !have.extras.has(e));
      for (const e of added) have.extras.add(e);
      if (added.length > 0) queue.push(...dependencies(have.wheel, [...have.extras], root));
      continue;
    }
    const named = wheels.filter((w) => w.key === req.key);
    const fitting = named.filter((w) => w.fits);
    const satisfying = fitting.filter((w) => satisfies(w.version, req.specifiers));
    const finals = satisfying.filter((w) => !isPrerelease(w.version));
    const usable = (finals.length > 0 ? finals : satisfying)
      .sort((a, b) => compareVersions(b.version, a.version));
    if (usable.length === 0) {
      throw new PackageError(missing(asked, req.name, dir, named, fitting, wheels), root);
    }
    const wheel = usable[0];
    const requiredBy = by === "python.packages" ? `python.packages "${text}"` : by;
    chosen.set(req.key, { wheel, requiredBy, extras: new Set(req.extras), root });
    queue.push(...dependencies(wheel, req.extras, root));
  }
  return [...chosen.values()].map(({ wheel, requiredBy }) => ({ wheel, requiredBy }));
}

/** A wheel's requirements that apply in Pyodide with these extras. */
function dependencies(
  wheel: Wheel,
  extras: string[],
  root: number,
): { text: string; by: string; root: number }[] {
  const by = `${wheel.name} ${wheel.version}`;
  try {
    return wheel.requires().filter((text) => evaluateMarker(parseRequirement(text).marker, extras))
      .map((text) => ({ text: text.split(";")[0].trim(), by, root }));
  } catch (e) {
    throw new PackageError(`${wheel.file}: ${(e as Error).message}`, root);
  }
}

/** Why nothing fits: no such wheel, only other platforms, or no version that satisfies. */
function missing(
  asked: string,
  name: string,
  dir: string,
  named: Wheel[],
  fitting: Wheel[],
  all: Wheel[],
): string {
  const where = `in ${dir}`;
  if (named.length === 0) {
    const held = [...new Set(all.map((w) => w.name))].sort().join(", ") || "no wheels";
    return `no wheel of ${name} for ${asked} ${where} (it holds: ${held}); add ${name}'s ` +
      "wheel there (docs/packages.md says how to download one)";
  }
  if (fitting.length === 0) {
    return `no wheel of ${name} for ${asked} ${where} runs in Pyodide (${
      named.map((w) => w.file.split("/").pop()).join(", ")
    }): add a pure-Python (py3-none-any) wheel or Pyodide's own build`;
  }
  return `no version of ${name} ${where} satisfies ${asked}: it has ${
    fitting.map((w) => w.version).join(", ")
  }`;
}
