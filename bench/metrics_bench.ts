/**
 * What counting one request costs on the request path: `Metrics.record` against a loop that
 * only touches the same inputs. `deno bench bench/metrics_bench.ts`.
 */
import { Metrics } from "../workers/base/metrics.ts";

const routes = ["/users/{id:int}", "/orders/{id}", "/", ""];
const methods = ["GET", "POST", "GET", "DELETE"];
const statuses = [200, 201, 200, 404];
const metrics = new Metrics();
let i = 0;
let sink = 0;

Deno.bench("inputs only", { group: "record", baseline: true }, () => {
  const k = i++ & 3;
  sink += routes[k].length + methods[k].length + statuses[k];
});
Deno.bench("Metrics.record", { group: "record" }, () => {
  const k = i++ & 3;
  metrics.record(routes[k], methods[k], statuses[k], 0.0004 * k);
});
Deno.bench("performance.now()", { group: "record" }, () => {
  sink += performance.now();
});
globalThis.addEventListener("unload", () => sink && metrics.snapshot());
Deno.bench("Date.now()", { group: "record" }, () => {
  sink += Date.now();
});
