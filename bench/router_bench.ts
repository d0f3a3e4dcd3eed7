/**
 * Per-request TypeScript work, each group with a baseline so the output shows the ratio:
 * `deno bench -P bench/router_bench.ts`.
 */
import FindMyWay from "find-my-way";
import { join } from "node:path";
import { parseConfig } from "../src/config/load.ts";
import { percentDecode } from "../src/http/percent.ts";
import { parseQueryPairs } from "../src/http/query.ts";
import { Router } from "../src/router/router.ts";

const router = Router.compile([
  { template: "/", methods: ["GET"], id: 0, source: "b" },
  { template: "/users", methods: ["GET", "POST"], id: 1, source: "b" },
  { template: "/users/{id}", methods: ["GET"], id: 2, source: "b" },
  { template: "/users/{id}/orders", methods: ["GET"], id: 3, source: "b" },
  { template: "/users/{id}/orders/{order}", methods: ["GET"], id: 4, source: "b" },
  { template: "/items/{id:int}/parts/{part:uuid}", methods: ["GET"], id: 5, source: "b" },
  { template: "/static/{*path}", methods: ["GET"], id: 6, source: "b" },
]);
const pattern = new URLPattern({ pathname: "/users/:id/orders/:order" });
const fmw = FindMyWay();
for (
  const path of [
    "/",
    "/users",
    "/users/:id",
    "/users/:id/orders",
    "/users/:id/orders/:order",
    "/static/*",
  ]
) {
  fmw.on("GET", path, () => {});
}

Deno.bench(
  "URLPattern.exec /users/:id/orders/:order",
  { group: "path params", baseline: true },
  () => {
    pattern.exec({ pathname: "/users/42/orders/abc" });
  },
);
Deno.bench("find-my-way find /users/:id/orders/:order", { group: "path params" }, () => {
  fmw.find("GET", "/users/42/orders/abc");
});
Deno.bench("Router.match /users/{id}/orders/{order}", { group: "path params" }, () => {
  router.match("GET", "/users/42/orders/abc");
});
Deno.bench("Router.match typed {id:int}/{part:uuid}", { group: "path params" }, () => {
  router.match("GET", "/items/42/parts/0f8fad5b-d9cb-469f-a165-70867728950e");
});
Deno.bench("Router.match 404", { group: "path params" }, () => {
  router.match("GET", "/nothing/here");
});

Deno.bench("decodeURIComponent (encoded)", { group: "percent-decode", baseline: true }, () => {
  decodeURIComponent("caf%C3%A9%20au%20lait");
});
Deno.bench("percentDecode (encoded)", { group: "percent-decode" }, () => {
  percentDecode("caf%C3%A9%20au%20lait");
});
Deno.bench("percentDecode (plain)", { group: "percent-decode" }, () => {
  percentDecode("plain-segment");
});

const QUERY = "page=2&limit=50&sort=name&q=caf%C3%A9+au+lait";
Deno.bench("URLSearchParams (4 params)", { group: "query", baseline: true }, () => {
  for (const _ of new URLSearchParams(QUERY)) { /* consume */ }
});
Deno.bench("parseQueryPairs (4 params)", { group: "query" }, () => {
  parseQueryPairs(QUERY);
});

const dir = join(import.meta.dirname!, "..", "examples", "hello");
const yaml = Deno.readTextFileSync(join(dir, "http.yaml"));
Deno.bench("http.yaml parse + validate + compile routes", { group: "config" }, () => {
  parseConfig(yaml, { file: "http.yaml", dir, env: {} });
});
