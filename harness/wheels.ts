/**
 * Pure-Python wheels made at test and bench time: {@link writeWheel} from texts, and
 * {@link debianWheels} from the pure-Python packages Debian installs under
 * /usr/lib/python3/dist-packages (python3-starlette, python3-anyio…), so tests and benches serve
 * real libraries without a package index.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { zipSync } from "fflate";

/** Debian's folder of pure-Python packages. */
export const DEBIAN_DIST = "/usr/lib/python3/dist-packages";

/**
 * Writes a py3-none-any wheel.
 *
 * @param dir the wheelhouse
 * @param name the distribution's name
 * @param version its version
 * @param files paths inside the wheel, with their contents
 * @param requires `Requires-Dist` lines
 * @returns the wheel's path
 */
export function writeWheel(
  dir: string,
  name: string,
  version: string,
  files: Record<string, string | Uint8Array>,
  requires: string[] = [],
): string {
  const info = `${name}-${version}.dist-info`;
  const text = new TextEncoder();
  const metadata = [
    "Metadata-Version: 2.1",
    `Name: ${name}`,
    `Version: ${version}`,
    ...requires.map((r) => `Requires-Dist: ${r}`),
    "",
    "A package for siphon-deno's tests.",
  ].join("\n");
  const entries: Record<string, Uint8Array> = {
    ...Object.fromEntries(
      Object.entries(files).map(([p, t]) => [p, typeof t === "string" ? text.encode(t) : t]),
    ),
    [`${info}/METADATA`]: text.encode(metadata),
    [`${info}/WHEEL`]: text.encode(
      "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    ),
  };
  entries[`${info}/RECORD`] = text.encode(
    Object.keys(entries).map((p) => `${p},,`).join("\n") + `\n${info}/RECORD,,\n`,
  );
  const path = join(dir, `${name.replaceAll("-", "_")}-${version}-py3-none-any.whl`);
  Deno.writeFileSync(path, zipSync(entries));
  return path;
}

/**
 * Wheels of Debian's pure-Python packages, one per top-level module: its `.py` files and its
 * metadata (`Requires-Dist` from a dist-info's METADATA, or an egg-info's unconditional
 * requirements).
 *
 * @param dir the wheelhouse
 * @param modules top-level module names, like `["starlette", "anyio"]`
 * @param dist where Debian installed them @default DEBIAN_DIST
 * @returns the distributions written, by name and version
 * @throws {Error} naming the Debian package to install when one is missing
 */
export function debianWheels(
  dir: string,
  modules: string[],
  dist: string = DEBIAN_DIST,
): { name: string; version: string }[] {
  return modules.map((module) => {
    const meta = metadataOf(dist, module);
    const files: Record<string, Uint8Array> = {};
    const walk = (folder: string, prefix: string) => {
      for (const e of Deno.readDirSync(folder)) {
        if (e.name === "__pycache__") continue;
        const path = join(folder, e.name);
        if (e.isDirectory) walk(path, `${prefix}${e.name}/`);
        else if (e.isFile) files[`${prefix}${e.name}`] = Deno.readFileSync(path);
      }
    };
    walk(join(dist, module), `${module}/`);
    writeWheel(dir, meta.name, meta.version, files, meta.requires);
    return { name: meta.name, version: meta.version };
  });
}

function metadataOf(
  dist: string,
  module: string,
): { name: string; version: string; requires: string[] } {
  const entries = [...Deno.readDirSync(dist)].map((e) => e.name);
  const info = entries.find((n) =>
    n.toLowerCase().startsWith(`${module.toLowerCase()}-`) &&
    (n.endsWith(".dist-info") || n.endsWith(".egg-info"))
  );
  if (!info) {
    throw new Error(
      `${module} is not in ${dist}: install Debian's python3-${module} (apt-get install -y ` +
        `python3-${module})`,
    );
  }
  const read = (f: string) => {
    try {
      return Deno.readTextFileSync(join(dist, info, f));
    } catch {
      return "";
    }
  };
  const head = read(info.endsWith(".dist-info") ? "METADATA" : "PKG-INFO");
  const field = (name: string) =>
    head.split("\n").filter((l) => l.startsWith(`${name}: `)).map((l) =>
      l.slice(name.length + 2).trim()
    );
  const requires = info.endsWith(".dist-info")
    ? field("Requires-Dist")
    : read("requires.txt").split(/\n\s*\n|\n\[/)[0].split("\n").filter((l) =>
      l.trim() && !l.startsWith("[")
    );
  return { name: field("Name")[0] ?? module, version: field("Version")[0] ?? "0", requires };
}

if (import.meta.main) {
  // deno task wheels:debian DIR MODULE... — a wheelhouse from Debian's packages (INIT_CWD is the
  // folder the task was started in).
  const [dir, ...modules] = Deno.args;
  if (!dir || modules.length === 0) {
    console.error(
      "usage: deno task wheels:debian DIR MODULE...  (e.g. wheels starlette anyio sniffio idna)",
    );
    Deno.exit(2);
  }
  const into = resolve(Deno.env.get("INIT_CWD") || Deno.cwd(), dir);
  Deno.mkdirSync(into, { recursive: true });
  try {
    for (const { name, version } of debianWheels(into, modules)) {
      console.log(`${name} ${version} → ${into}`);
    }
  } catch (e) {
    console.error((e as Error).message);
    Deno.exit(1);
  }
}
