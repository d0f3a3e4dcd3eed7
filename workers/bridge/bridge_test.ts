/**
 * The bridge without a socket, with a real interpreter: what JS packs reaches Python's
 * `http.Request` intact, and what Python answers comes back as the Response it meant — small and
 * large bodies, repeated headers, values that hold the packing's separators, async handlers,
 * failures.
 */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/log.ts";
import { readSiphonPackage } from "../../src/pyodide/assets.ts";
import { buildGeneration } from "../generation/generation.ts";
import { offlineHost } from "../doubles/offline_host.ts";
import { loadPython } from "../../src/snapshot/restore.ts";
import type { BridgeRequest, Pending } from "./bridge.ts";

const SCRIPT = `
import asyncio, json
from siphon import http

@http.route("/echo/{id:int}", methods=["POST"])
def echo(req):
    return http.Response(201, {"x-kind": ["a", "b"], "content-type": "application/json"},
                         json.dumps({"method": req.method, "path": req.path, "client": req.client,
                                     "query": req.query_params, "id": req.path_params["id"],
                                     "agent": req.header("User-Agent"), "rid": req.request_id,
                                     "body": req.body().decode()}))

@http.route("/big")
def big(req):
    return http.Response(200, None, b"x" * 300_000)

@http.route("/odd/{name}")
def odd(req):
    return http.Response(200, None, repr(req.path_params["name"]) + repr(req.query_params))

@http.route("/later")
async def later(req):
    await asyncio.sleep(0)
    return http.Response(200, None, "later")

@http.route("/boom")
def boom(req):
    raise ValueError("boom")

@http.route("/body/{kind}")
async def body(req):
    kind = req.path_params["kind"]
    if kind == "later":
        await asyncio.sleep(0)
    if kind == "typed":
        return http.Response(200, {"Content-Type": "application/json"}, "{}")
    return http.Response(200, None, {
        "text": "ok", "control": b"a\\0b\\x01c\\x7f", "utf8": "h\\u00e9llo \\U0001f600",
        "later": "later", "long": "x" * 20000, "empty": b"",
    }[kind])

_kept = []

@http.route("/keep")
def keep(req):
    _kept.append(req)
    return http.Response(200, None, req.client if req.query_params.get("read") else "kept")

@http.route("/ask")
def ask(req):
    from siphon._contract import host
    try:
        return http.Response(200, None, host.requestPart(req._p[8], req.query_params["part"]))
    except Exception as exc:
        return http.Response(409, None, str(exc))

@http.route("/kept")
def kept(req):
    try:
        return http.Response(200, None, _kept[-1].client)
    except RuntimeError as exc:
        return http.Response(409, None, str(exc))

@http.route("/too-large")
def too_large(req):
    raise http.PayloadTooLarge("over the cap")
`;

const dir = Deno.makeTempDirSync({ prefix: "siphon-bridge-test-" });
Deno.writeTextFileSync(`${dir}/app.py`, SCRIPT);
const errors: string[] = [];
const log = createLogger({ level: "error", write: (line) => errors.push(line) });
const { py } = await loadPython({ files: await readSiphonPackage(), env: {}, log });
const { context } = buildGeneration({
  config: parseConfig("script: app.py\nservers:\n  - listen: 127.0.0.1:8080\n", {
    file: `${dir}/http.yaml`,
    dir,
    env: {},
  }),
  python: py,
  host: offlineHost({
    log,
    pythonLog: (level, text) => errors.push(`${level} ${text}`),
    onFatal: () => {},
  }),
});
const routeOf = (template: string) => context.labels.indexOf(template);

function request(template: string, fields: Partial<BridgeRequest> = {}): BridgeRequest {
  return {
    route: routeOf(template),
    method: "GET",
    path: "/",
    client: "127.0.0.1:5000",
    query: [],
    headers: [],
    params: [],
    mayHaveControl: false,
    clientCert: "",
    requestId: "rid-1",
    seq: 0,
    lazy: () => "10.9.8.7:6",
    timeoutMs: 30000,
    bodyStream: null,
    body: null,
    ...fields,
  };
}

async function answer(call: BridgeRequest): Promise<Response> {
  const out = context.bridge.call(call);
  return out instanceof Response ? out : await (out as Pending).result;
}

Deno.test("Bridge.call() hands Python every field and brings back status, headers and body", async () => {
  const res = await answer(request("/echo/{id:int}", {
    method: "POST",
    path: "/echo/7",
    query: ["q", "ü", "empty", ""],
    headers: ["user-agent", "bench/1.0"],
    params: ["7"],
    body: new TextEncoder().encode("héllo"),
  }));
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("x-kind"), "a, b", "a list value is a repeated header");
  assert.deepEqual(await res.json(), {
    method: "POST",
    path: "/echo/7",
    client: "127.0.0.1:5000",
    query: { q: "ü", empty: "" },
    id: 7,
    agent: "bench/1.0",
    rid: "rid-1",
    body: "héllo",
  });
});

Deno.test("Bridge.call() brings a body larger than the shared buffer back whole", async () => {
  const res = await answer(request("/big"));
  assert.equal((await res.bytes()).byteLength, 300_000);
  assert.equal(res.headers.get("content-type"), null, "bytes get no default content type");
});

Deno.test("Bridge.call() sends bodies byte for byte, text or not, and adds no content type", async () => {
  const expected: Record<string, Uint8Array> = {
    text: new TextEncoder().encode("ok"),
    control: new Uint8Array([97, 0, 98, 1, 99, 127]),
    utf8: new TextEncoder().encode("h\u00e9llo \u{1f600}"),
    later: new TextEncoder().encode("later"),
    long: new TextEncoder().encode("x".repeat(20000)),
    empty: new Uint8Array(),
  };
  for (const [kind, bytes] of Object.entries(expected)) {
    const res = await answer(request("/body/{kind}", { params: [kind] }));
    assert.deepEqual(await res.bytes(), bytes, kind);
    assert.equal(res.headers.get("content-type"), null, `${kind}: no content type`);
  }
  const typed = await answer(request("/body/{kind}", { params: ["typed"] }));
  assert.equal(typed.headers.get("content-type"), "application/json", "the handler's own, once");
});

Deno.test("req.client is asked for on first use, and refused once the request was answered", async () => {
  const read = await answer(request("/keep", { client: "", query: ["read", "1"] }));
  assert.equal(await read.text(), "10.9.8.7:6", "worked out while the request runs");
  await answer(request("/keep", { client: "" }));
  const late = await answer(request("/kept"));
  assert.equal(late.status, 409);
  assert.match(await late.text(), /req\.client: the request was already answered/);
  const odd = await answer(request("/ask", { query: ["part", "headers"] }));
  assert.equal(odd.status, 409, "a script asking for another part is refused");
  assert.match(await odd.text(), /req\.headers: not a part the bridge leaves out/);
  const ok = await answer(request("/ask", { client: "", query: ["part", "client"] }));
  assert.equal(await ok.text(), "10.9.8.7:6");
});

Deno.test("Bridge.call() keeps values that hold the packing's separators", async () => {
  const res = await answer(request("/odd/{name}", {
    params: ["a\0b\x01c"],
    query: ["k\x01", "v\0"],
    mayHaveControl: true,
  }));
  assert.equal(await res.text(), "'a\\x00b\\x01c'{'k\\x01': 'v\\x00'}");
});

Deno.test("Bridge.call() answers later for a handler that really awaits", async () => {
  const out = context.bridge.call(request("/later"));
  assert.ok(!(out instanceof Response), "an awaiting handler is pending");
  assert.equal(await (await (out as Pending).result).text(), "later");
});

Deno.test("Bridge.call() turns Python's failures into the request path's answers", async () => {
  const boom = await answer(request("/boom", { method: "GET", path: "/boom" }));
  assert.deepEqual([boom.status, await boom.text()], [500, "Internal Server Error\n"]);
  assert.ok(errors.some((e) => /GET \/boom: boom \(GET \/boom\) raised ValueError/.test(e)));
  const large = await answer(request("/too-large"));
  assert.equal(large.status, 413);
});
