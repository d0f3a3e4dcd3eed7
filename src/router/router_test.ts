import assert from "node:assert/strict";
import fc from "fast-check";
import { type Match, RouteConflictError, type RouteDef, Router } from "./router.ts";
import { parseTemplate, type Segment, TemplateError } from "./template.ts";

function table(...routes: [string, string[]][]): Router {
  return Router.compile(
    routes.map(([template, methods], id) => ({ template, methods, id, source: `t:${id}` })),
  );
}

const r = table(
  ["/", ["GET"]],
  ["/users", ["GET", "POST"]],
  ["/users/", ["GET"]],
  ["/users/me", ["GET"]],
  ["/users/{id:int}", ["GET", "DELETE"]],
  ["/users/{id:uuid}", ["GET"]],
  ["/users/{name}", ["GET"]],
  ["/users/{id:int}/orders/{order:uuid}", ["GET"]],
  ["/static/{*path}", ["GET"]],
  ["/caf\u00e9/{x:str}", ["PUT"]],
);

Deno.test("Router.match() prefers static, then typed, then str, then catch-all", () => {
  assert.deepEqual(r.match("GET", "/users/me"), { status: 200, route: 3, params: [] });
  assert.deepEqual(r.match("GET", "/users/42"), { status: 200, route: 4, params: ["42"] });
  assert.deepEqual(r.match("GET", "/users/-7"), { status: 200, route: 4, params: ["-7"] });
  assert.deepEqual(r.match("GET", "/users/bob"), { status: 200, route: 6, params: ["bob"] });
});

Deno.test("Router.match() gives uuid values in canonical lower case", () => {
  const id = "0F8FAD5B-D9CB-469F-A165-70867728950E";
  assert.deepEqual(r.match("GET", `/users/${id}`), {
    status: 200,
    route: 5,
    params: [id.toLowerCase()],
  });
  assert.deepEqual(r.match("GET", `/users/7/orders/${id}`), {
    status: 200,
    route: 7,
    params: ["7", id.toLowerCase()],
  });
});

Deno.test("Router.match() treats a value that does not fit its type as no match", () => {
  assert.deepEqual(r.match("GET", "/users/7/orders/not-a-uuid"), { status: 404 });
  assert.deepEqual(r.match("GET", "/users/7x/orders/x"), { status: 404 });
});

Deno.test("Router.match() tells / and trailing slashes apart", () => {
  assert.deepEqual(r.match("GET", "/"), { status: 200, route: 0, params: [] });
  assert.deepEqual(r.match("GET", "/users"), { status: 200, route: 1, params: [] });
  assert.deepEqual(r.match("GET", "/users/"), { status: 200, route: 2, params: [] });
  assert.deepEqual(r.match("GET", "//"), { status: 404 });
});

Deno.test("Router.match() gives the catch-all the rest of the path, decoded", () => {
  assert.deepEqual(r.match("GET", "/static/css/a%20b.css"), {
    status: 200,
    route: 8,
    params: ["css/a b.css"],
  });
  assert.deepEqual(r.match("GET", "/static/"), { status: 404 });
  assert.deepEqual(r.match("GET", "/static"), { status: 404 });
});

Deno.test("Router.match() decodes parameters and static segments as UTF-8", () => {
  assert.deepEqual(r.match("PUT", "/caf%C3%A9/%E2%82%AC"), {
    status: 200,
    route: 9,
    params: ["€"],
  });
  assert.deepEqual(r.match("GET", "/users/a%2Fb"), { status: 200, route: 6, params: ["a/b"] });
});

Deno.test("Router.match() answers 400 for invalid percent-encoding", () => {
  const m = r.match("GET", "/users/%E9");
  assert.equal(m.status, 400);
  assert.equal(r.match("GET", "/users/%zz").status, 400);
});

Deno.test("Router.match() answers 405 with every method the path allows", () => {
  assert.deepEqual(r.match("PATCH", "/users"), { status: 405, allow: "GET, HEAD, POST" });
  assert.deepEqual(r.match("POST", "/users/42"), {
    status: 405,
    allow: "DELETE, GET, HEAD",
  });
  assert.deepEqual(r.match("GET", "/nope"), { status: 404 });
});

Deno.test("Router.match() serves HEAD from a GET route", () => {
  assert.deepEqual(r.match("HEAD", "/users/me"), { status: 200, route: 3, params: [] });
});

Deno.test("Router.match() falls through to a route that fits the method", () => {
  const t = table(["/a/{id:int}", ["GET"]], ["/a/{name}", ["POST"]]);
  assert.deepEqual(t.match("POST", "/a/5"), { status: 200, route: 1, params: ["5"] });
});

Deno.test("Router.compile() rejects two routes with the same shape and method", () => {
  const err = assert.throws(
    () => table(["/u/{id}", ["GET"]], ["/v", ["GET"]], ["/u/{name:str}", ["POST", "GET"]]),
    (e: unknown) => {
      assert.ok(e instanceof RouteConflictError);
      assert.equal(
        e.message,
        "Cannot add route GET /u/{name:str} (t:2): it can never be told apart from " +
          "GET /u/{id} (t:0); change one path or method",
      );
      return true;
    },
  );
  assert.equal(err, undefined);
  table(["/u/{id:int}", ["GET"]], ["/u/{name}", ["GET"]], ["/u/{name}", ["POST"]]);
});

Deno.test("parseTemplate() reports what is wrong and where", () => {
  const cases: [string, string, number][] = [
    ["users", 'path must start with "/", got "users"', 0],
    ["/a//b", 'empty segment ("//") in path "/a//b"', 3],
    ["/a/{id:float}", 'unknown parameter type "float" in {id:float}; use one of str, int, uuid', 7],
    [
      "/a/x{id}",
      'a parameter must fill its whole segment, like {name} or {name:int}; got "x{id}"',
      4,
    ],
    ["/{*rest}/x", "catch-all {*rest} must be the last segment", 1],
    ["/{a}/{a:int}", 'parameter "a" appears twice', 5],
    ["/{1a}", 'invalid parameter name "1a" (use letters, digits, _)', 2],
    ["/a?b", 'path must not contain "?"', 2],
  ];
  for (const [t, message, offset] of cases) {
    assert.throws(() => parseTemplate(t), (e: unknown) => {
      assert.ok(e instanceof TemplateError, t);
      assert.equal(e.message, message);
      assert.equal(e.offset, offset, t);
      return true;
    });
  }
});

// ---- property: the trie agrees with a brute-force reference matcher ----

const RANK = { static: 0, int: 1, uuid: 1, str: 2, catchall: 3 } as const;
const INT = /^-?[0-9]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Matches one route against decoded segments; returns [ranks, params] or null. */
function fits(segs: string[], tpl: Segment[]): [number[], string[]] | null {
  const ranks: number[] = [];
  const params: string[] = [];
  for (let i = 0; i < tpl.length; i++) {
    const t = tpl[i];
    if (t.kind === "catchall") {
      const rest = segs.slice(i).join("/");
      if (i >= segs.length || rest === "") return null;
      ranks.push(RANK.catchall);
      params.push(rest);
      return [ranks, params];
    }
    if (i >= segs.length) return null;
    const s = segs[i];
    if (t.kind === "static") {
      if (s !== t.value) return null;
      ranks.push(RANK.static);
    } else if (t.type === "int") {
      if (!INT.test(s)) return null;
      ranks.push(RANK.int), params.push(s);
    } else if (t.type === "uuid") {
      if (!UUID.test(s)) return null;
      ranks.push(RANK.uuid), params.push(s.toLowerCase());
    } else {
      if (s === "") return null;
      ranks.push(RANK.str), params.push(s);
    }
  }
  return segs.length === tpl.length ? [ranks, params] : null;
}

function compareRanks(a: number[], b: number[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function referenceMatch(defs: RouteDef[], method: string, path: string): Match {
  const segs = path.slice(1).split("/").map((s) => decodeURIComponent(s));
  let best: { ranks: number[]; route: number; params: string[] } | null = null;
  const allow = new Set<string>();
  for (const d of defs) {
    const hit = fits(segs, parseTemplate(d.template));
    if (!hit) continue;
    const ok = d.methods.includes(method) || (method === "HEAD" && d.methods.includes("GET"));
    if (!ok) {
      for (const m of d.methods) allow.add(m);
      if (d.methods.includes("GET")) allow.add("HEAD");
      continue;
    }
    if (!best || compareRanks(hit[0], best.ranks) < 0) {
      best = { ranks: hit[0], route: d.id, params: hit[1] };
    }
  }
  if (best) return { status: 200, route: best.route, params: best.params };
  if (allow.size) return { status: 405, allow: [...allow].sort().join(", ") };
  return { status: 404 };
}

const literal = fc.constantFrom("a", "b", "7", "", "é");
const tplSeg = fc.constantFrom("a", "b", "7", "{p}", "{p:int}", "{p:uuid}", "{*rest}");
const pathSeg = fc.constantFrom(
  "a",
  "b",
  "7",
  "-3",
  "",
  "%C3%A9",
  "0f8fad5b-d9cb-469f-a165-70867728950e",
  "a%2Fb",
);
const methods = fc.subarray(["GET", "POST", "DELETE"], { minLength: 1 });

Deno.test("Router.match() agrees with a brute-force reference matcher (property)", () => {
  const route = fc.tuple(fc.array(tplSeg, { minLength: 0, maxLength: 4 }), methods);
  fc.assert(
    fc.property(
      fc.array(route, { maxLength: 8 }),
      fc.array(fc.oneof(pathSeg, literal), { maxLength: 5 }),
      fc.constantFrom("GET", "POST", "HEAD", "PUT"),
      (routes, path, method) => {
        const defs: RouteDef[] = [];
        const taken = new Set<string>();
        routes.forEach(([segs, ms], id) => {
          const cut = segs.findIndex((s) => s === "{*rest}");
          const clean = cut === -1 ? segs : segs.slice(0, cut + 1);
          const template = uniqueNames(clean);
          const shape = parseTemplate(template).map((s) =>
            s.kind === "static" ? s.value : s.kind === "param" ? s.type : "*"
          ).join("/");
          const free = ms.filter((m) => !taken.has(`${m} ${shape}`));
          if (free.length === 0) return;
          free.forEach((m) => taken.add(`${m} ${shape}`));
          defs.push({ template, methods: free, id, source: `r${id}` });
        });
        const router = Router.compile(defs);
        const p = "/" + path.join("/");
        assert.deepEqual(router.match(method, p), referenceMatch(defs, method, p), p);
      },
    ),
    { numRuns: 2000 },
  );
});

function uniqueNames(segs: string[]): string {
  let n = 0;
  return "/" +
    segs.map((s) =>
      s.replace(
        /^\{(\*?)p?(rest)?(:\w+)?\}$/,
        (_m, star, _r, type) => `{${star}p${n++}${type ?? ""}}`,
      )
    ).join("/");
}

Deno.test("Router.match() never throws on arbitrary paths (property)", () => {
  fc.assert(fc.property(fc.string(), fc.string(), (method, path) => {
    const m = r.match(method, path);
    assert.ok([200, 400, 404, 405].includes(m.status));
  }));
});
