/**
 * Python package requirements as wheels state them (PEP 508): `name[extras] specifiers ; marker`,
 * versions compared as PEP 440 orders them (release, pre, post, dev; no local versions), and
 * environment markers evaluated for Pyodide's Python (CPython 3.14 on emscripten/wasm32).
 *
 * Boundary: pure; used by the wheelhouse resolver (./resolve.ts) and the config check.
 *
 * @module
 */

/** A parsed requirement. */
export interface Requirement {
  /** The name as written. */
  name: string;
  /** PEP 503 normalised: lowercase, runs of `-_.` as one `-`. */
  key: string;
  extras: string[];
  /** `[operator, version]` pairs, all of which must hold. */
  specifiers: [string, string][];
  /** The environment marker, or "" for none. */
  marker: string;
}

/** Where a marker is evaluated: the variables PEP 508 defines, for Pyodide. */
export const PYODIDE_ENVIRONMENT: Readonly<Record<string, string>> = {
  python_version: "3.14",
  python_full_version: "3.14.2",
  implementation_name: "cpython",
  implementation_version: "3.14.2",
  platform_python_implementation: "CPython",
  os_name: "posix",
  sys_platform: "emscripten",
  platform_system: "Emscripten",
  platform_machine: "wasm32",
  platform_release: "",
  platform_version: "",
};

/**
 * PEP 503 name normalisation.
 *
 * @param name a distribution name
 * @returns its key
 */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, "-");
}

const REQUIREMENT =
  /^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[([^\]]*)\])?\s*\(?\s*([^;()]*?)\s*\)?\s*(?:;\s*(.*))?$/;

/**
 * Parses a requirement line (`Requires-Dist:` value, or an entry of `python.packages`).
 *
 * @param text e.g. `attrs>=22.2 ; python_version >= "3.8"`
 * @returns the requirement
 * @throws {Error} saying what is wrong with it
 */
export function parseRequirement(text: string): Requirement {
  const m = REQUIREMENT.exec(text);
  if (!m) throw new Error(`not a requirement: ${JSON.stringify(text)}`);
  const specifiers: [string, string][] = [];
  for (const part of m[3] ? m[3].split(",") : []) {
    const s = /^\s*(===|==|!=|~=|<=|>=|<|>)\s*([A-Za-z0-9.*+!_-]+)\s*$/.exec(part);
    if (!s) throw new Error(`not a version specifier: ${JSON.stringify(part.trim())} in ${text}`);
    specifiers.push([s[1], s[2]]);
  }
  const extras = (m[2] ?? "").split(",").map((e) => e.trim()).filter(Boolean).map(normalizeName);
  return { name: m[1], key: normalizeName(m[1]), extras, specifiers, marker: (m[4] ?? "").trim() };
}

/** A version split for ordering. */
interface Parsed {
  epoch: number;
  release: number[];
  /** [kind rank, number]: a=0, b=1, rc=2; none ranks above any pre-release. */
  pre: [number, number] | null;
  post: number | null;
  dev: number | null;
}

const VERSION =
  /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(a|b|c|rc|alpha|beta|pre|preview)[-_.]?(\d*))?(?:(?:-(\d+))|(?:[-_.]?(?:post|rev|r)[-_.]?(\d*)))?(?:[-_.]?dev[-_.]?(\d*))?(?:\+[a-z0-9.]+)?$/i;

function parseVersion(text: string): Parsed | null {
  const m = VERSION.exec(text.trim());
  if (!m) return null;
  const preKind = m[3]?.toLowerCase();
  const rank = preKind === undefined
    ? -1
    : preKind.startsWith("a")
    ? 0
    : preKind.startsWith("b")
    ? 1
    : 2;
  const post = m[5] ?? m[6];
  return {
    epoch: Number(m[1] ?? 0),
    release: m[2].split(".").map(Number),
    pre: rank === -1 ? null : [rank, Number(m[4] || 0)],
    post: post === undefined ? null : Number(post || 0),
    dev: m[7] === undefined ? null : Number(m[7] || 0),
  };
}

/**
 * Orders two versions as PEP 440 does (local labels ignored).
 *
 * @returns negative, 0 or positive; versions that do not parse compare as strings
 */
export function compareVersions(a: string, b: string): number {
  const x = parseVersion(a);
  const y = parseVersion(b);
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  if (x.epoch !== y.epoch) return x.epoch - y.epoch;
  const length = Math.max(x.release.length, y.release.length);
  for (let i = 0; i < length; i++) {
    const d = (x.release[i] ?? 0) - (y.release[i] ?? 0);
    if (d !== 0) return d;
  }
  // dev of a final release < its pre-releases < the release < its post-releases
  const phase = (v: Parsed): [number, number, number, number] => [
    v.pre ? v.pre[0] : v.dev !== null && v.post === null ? -1 : 3,
    v.pre ? v.pre[1] : 0,
    v.post ?? -1,
    v.dev ?? Number.POSITIVE_INFINITY,
  ];
  const [p, q] = [phase(x), phase(y)];
  for (let i = 0; i < 4; i++) if (p[i] !== q[i]) return p[i] < q[i] ? -1 : 1;
  return 0;
}

/**
 * Whether a version is a pre-release or development release, which installers pick only when
 * no final release satisfies the requirement.
 *
 * @param version e.g. `2.0rc1`
 * @returns true for pre and dev releases
 */
export function isPrerelease(version: string): boolean {
  const v = parseVersion(version);
  return v !== null && (v.pre !== null || v.dev !== null);
}

/**
 * Whether a version satisfies every specifier.
 *
 * @param version e.g. `1.4.2`
 * @param specifiers from {@link parseRequirement}
 * @returns true when all hold
 */
export function satisfies(version: string, specifiers: readonly [string, string][]): boolean {
  return specifiers.every(([op, wanted]) => {
    if (op === "===") return version === wanted;
    if (wanted.endsWith(".*")) {
      const prefix = wanted.slice(0, -2).split(".");
      const release = version.split(/[^0-9.]/)[0].split(".");
      const same = prefix.every((p, i) => Number(p) === Number(release[i] ?? 0));
      return op === "!=" ? !same : same;
    }
    const c = compareVersions(version, wanted);
    switch (op) {
      case "==":
        return c === 0;
      case "!=":
        return c !== 0;
      case "<":
        return c < 0;
      case "<=":
        return c <= 0;
      case ">":
        return c > 0;
      case ">=":
        return c >= 0;
      default: { // ~=: at least this version, same release prefix but the last part
        const release = wanted.split(/[^0-9.]/)[0].split(".");
        const prefix = release.slice(0, Math.max(1, release.length - 1)).join(".");
        return c >= 0 && satisfies(version, [["==", `${prefix}.*`]]);
      }
    }
  });
}

/**
 * Evaluates an environment marker.
 *
 * @param marker e.g. `python_version >= "3.8" and extra == "test"`
 * @param extras the extras requested of the distribution the marker is in
 * @param env the marker variables @default PYODIDE_ENVIRONMENT
 * @returns whether the requirement applies
 * @throws {Error} on a marker that does not parse
 */
export function evaluateMarker(
  marker: string,
  extras: readonly string[] = [],
  env: Readonly<Record<string, string>> = PYODIDE_ENVIRONMENT,
): boolean {
  if (marker === "") return true;
  const fail = (): never => {
    throw new Error(`cannot read the marker ${JSON.stringify(marker)}`);
  };
  const tokens: string[] = [];
  const token = /\s*("[^"]*"|'[^']*'|\(|\)|===|==|!=|~=|<=|>=|<|>|[A-Za-z_.]+)\s*/y;
  for (let m; token.lastIndex < marker.length;) {
    if (!(m = token.exec(marker))) fail();
    if (m![1] === "in" && tokens.at(-1) === "not") tokens[tokens.length - 1] = "not in";
    else tokens.push(m![1]);
  }
  let at = 0;
  const value = (): MarkerValue => {
    const t = tokens[at++] ?? fail();
    if (/^["']/.test(t)) return { text: t.slice(1, -1), isVersion: false, extra: false };
    if (t === "extra") return { text: "", isVersion: false, extra: true };
    if (!(t in env)) fail();
    return { text: env[t], isVersion: /version/.test(t), extra: false };
  };
  const comparison = (): boolean => {
    if (tokens[at] === "(") {
      at++;
      const inner = or();
      if (tokens[at++] !== ")") fail();
      return inner;
    }
    const left = value();
    const op = tokens[at++] ?? fail();
    return compareMarker(left, op, value(), extras) ?? fail();
  };
  const and = (): boolean => {
    let result = comparison();
    while (tokens[at] === "and") {
      at++;
      result = comparison() && result;
    }
    return result;
  };
  const or = (): boolean => {
    let result = and();
    while (tokens[at] === "or") {
      at++;
      result = and() || result;
    }
    return result;
  };
  const result = or();
  if (at !== tokens.length) fail();
  return result;
}

/** One side of a marker comparison: a literal, a variable's value, or `extra`. */
interface MarkerValue {
  text: string;
  isVersion: boolean;
  extra: boolean;
}

/** One marker comparison; null for an operator that does not apply. */
function compareMarker(
  left: MarkerValue,
  op: string,
  right: MarkerValue,
  extras: readonly string[],
): boolean | null {
  if (left.extra || right.extra) {
    const has = extras.includes(normalizeName(left.extra ? right.text : left.text));
    return op === "==" ? has : op === "!=" ? !has : null;
  }
  if (op === "in") return right.text.includes(left.text);
  if (op === "not in") return !right.text.includes(left.text);
  if (left.isVersion || right.isVersion) return satisfies(left.text, [[op, right.text]]);
  if (op === "==" || op === "===") return left.text === right.text;
  if (op === "!=") return left.text !== right.text;
  return null;
}
