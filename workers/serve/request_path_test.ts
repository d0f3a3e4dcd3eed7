/**
 * The request path without a socket and without Python: a stub stands in for the bridge and
 * records what it is handed, so routing, limits, the request as Python gets it, bodies,
 * deadlines and what the operator is told are checked on their own.
 */
import assert from "node:assert/strict";
import type { Config } from "../../src/config/load.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createLogger } from "../../src/log.ts";
import { Router } from "../../src/router/router.ts";
import type { Bridge, BridgeRequest, Pending } from "../bridge/bridge.ts";
import type { RequestContext } from "./context.ts";
import { DeadlineClock } from "../base/deadlines.ts";
import { listenerFor } from "./listener.ts";
import { workerLife } from "./life.ts";
import { requestHandler } from "./request_path.ts";

const dir = Deno.makeTempDirSync({ prefix: "siphon-request-path-" });
Deno.writeTextFileSync(`${dir}/app.py`, "");

function config(server = ""): Config {
  return parseConfig(
    `script: app.py\nservers:\n  - listen: 127.0.0.1:8080\n${server}`,
    { file: `${dir}/http.yaml`, dir, env: {} },
  );
}

/** A request path whose "Python" is `answer`; every call it got is in `calls`. */
function path(
  answer: (call: BridgeRequest) => Response | Pending,
  options: { server?: string; access?: string[] } = {},
) {
  const calls: BridgeRequest[] = [];
  const clock = new DeadlineClock(new Float64Array(2));
  const life = workerLife({ batch: false });
  const metrics = life.metrics;
  const ctx: RequestContext = {
    router: Router.compile([
      { template: "/users/{id:int}", methods: ["GET", "POST"], id: 0, source: "test" },
      { template: "/upload", methods: ["POST"], id: 1, source: "test" },
    ]),
    bridge: {
      call: (c: BridgeRequest) => (calls.push(c), answer(c)),
    } as unknown as Bridge,
    clock,
    interrupt: new Int32Array(new SharedArrayBuffer(8)),
    log: createLogger({
      level: "error",
      write: (line) => options.access?.push(line),
      format: "json",
    }),
    onFatal: () => {},
    onHandshakeError: () => {},
    life,
    labels: ["/users/{id:int}", "/upload"],
    app: -1,
    streaming: [false, true],
    websocket: [false, false],
    upgrade: () => {
      throw new Error("no websocket routes here");
    },
    metrics: true,
    access: options.access !== undefined,
    traceRoute: null,
  };
  const handle = requestHandler(listenerFor(config(options.server).servers[0], ctx));
  const info = {
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 5000 },
    completed: Promise.resolve(),
  } as unknown as Deno.ServeHandlerInfo;
  return {
    calls,
    clock,
    metrics,
    send: async (url: string, init?: RequestInit) =>
      await handle(new Request(`http://127.0.0.1:8080${url}`, init), info),
  };
}

const ok = () => new Response("ok");

Deno.test("requestHandler() hands Python the routed request: typed params, query, headers", async () => {
  const p = path(ok);
  const res = await p.send("/users/42?page=2&q=a%20b&q=c", {
    headers: { "x-request-id": "edge-7", "x-a": "1" },
  });
  assert.equal(res.status, 200);
  const [call] = p.calls;
  assert.deepEqual(
    [call.route, call.method, call.path, call.params, call.query],
    [0, "GET", "/users/42", ["42"], ["page", "2", "q", "a b", "q", "c"]],
  );
  assert.equal(call.requestId, "edge-7", "a well-formed X-Request-Id is kept");
  assert.equal(call.client, "", "the peer is left out of the packing");
  assert.equal(call.lazy("client"), "127.0.0.1:5000", "and worked out when Python asks");
  assert.ok(call.headers.includes("x-a"));
});

Deno.test("requestHandler() answers 404, 405 with Allow and 400 without calling Python", async () => {
  const p = path(ok);
  assert.equal((await p.send("/nope")).status, 404);
  const wrong = await p.send("/users/1", { method: "DELETE" });
  assert.deepEqual([wrong.status, wrong.headers.get("allow")], [405, "GET, HEAD, POST"]);
  assert.equal((await p.send("/users/%E9")).status, 400);
  assert.equal(p.calls.length, 0);
});

Deno.test("requestHandler() refuses an announced body over max_body_bytes before reading it", async () => {
  const p = path(ok, { server: "    max_body_bytes: 4\n" });
  const res = await p.send("/users/1", { method: "POST", body: "12345" });
  assert.equal(res.status, 413);
  assert.equal(p.calls.length, 0);
  assert.equal((await p.send("/users/1", { method: "POST", body: "1234" })).status, 200);
  assert.deepEqual(p.calls[0].body, new TextEncoder().encode("1234"));
});

Deno.test("requestHandler() passes a stream=True route's body unread, with the cap", async () => {
  const p = path(ok, { server: "    max_body_bytes: 99\n" });
  await p.send("/upload", { method: "POST", body: "data" });
  assert.equal(p.calls[0].body, null);
  assert.equal(p.calls[0].bodyStream?.cap, 99);
});

Deno.test("requestHandler() answers 503 past max_inflight, and counts every answer", async () => {
  let release!: () => void;
  const held = new Promise<Response>((r) => release = () => r(ok()));
  const p = path(() => ({ result: held, cancel: () => {} }), {
    server: "    max_inflight: 1\n",
  });
  const first = p.send("/users/1");
  const second = await p.send("/users/2");
  assert.equal(second.status, 503);
  assert.equal(second.headers.get("retry-after"), "1");
  release();
  assert.equal((await first).status, 200);
  const counted = p.metrics.snapshot().requests.map(([route, , status, n]) => [route, status, n]);
  assert.deepEqual(counted.sort(), [["/users/{id:int}", 200, 1], ["/users/{id:int}", 503, 1]]);
});

Deno.test("requestHandler() cancels a handler still waiting at its deadline: 504", async () => {
  let cancelled = false;
  const p = path(() => ({
    result: new Promise<Response>(() => {}),
    cancel: () => cancelled = true,
  }), { server: "    request_timeout_ms: 1\n" });
  const answer = p.send("/users/1");
  // The deadline passes; the clock's sweep (the worker's heartbeat) expires it.
  await new Promise((r) => setTimeout(r, 5));
  p.clock.sweep();
  const res = await answer;
  assert.equal(res.status, 504);
  assert.equal(cancelled, true);
});

Deno.test("requestHandler() writes one access line per answer, 404s included", async () => {
  const lines: string[] = [];
  const p = path(ok, { access: lines });
  await p.send("/users/1", { headers: { "x-request-id": "r-1" } });
  await p.send("/nope");
  const parsed = lines.join("").trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(
    parsed.map((l) => [l.msg, l.route, l.request_id]),
    [["GET /users/1 200", "/users/{id:int}", "r-1"], [
      "GET /nope 404",
      undefined,
      parsed[1].request_id,
    ]],
  );
});
