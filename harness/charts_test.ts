import assert from "node:assert/strict";
import { barChart, escapeHtml, lineChart, niceTicks, tickLabel } from "./charts.ts";

Deno.test("niceTicks: round steps of 1, 2, 2.5 or 5 × 10^k that cover the maximum", () => {
  assert.deepEqual(niceTicks(41.98), [0, 10, 20, 30, 40, 50]);
  assert.deepEqual(niceTicks(83.97), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(niceTicks(4.3), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(niceTicks(0.012), [0, 0.0025, 0.005, 0.0075, 0.01, 0.0125]);
  assert.deepEqual(niceTicks(71459), [0, 20000, 40000, 60000, 80000]);
  assert.deepEqual(niceTicks(0), [0, 1]);
  for (let max = 0.3; max < 1e6; max *= 1.7) {
    const ticks = niceTicks(max);
    assert.ok(ticks.at(-1)! >= max && ticks.length <= 8, `${max}: ${ticks}`);
  }
  assert.deepEqual([0.1 + 0.2, 20000, 2500].map(tickLabel), ["0.3", "20k", "2500"]);
});

Deno.test("charts: each series is drawn and named; text is escaped", () => {
  const svg = lineChart({
    id: "t",
    title: "<b>",
    xLabel: "x",
    yLabel: "y",
    lines: [{ name: 'a"<x>', color: "#000", points: [[0, 1], [1, null], [2, 3]] }],
  });
  assert.match(svg, /<path class="series" data-series="a&quot;&lt;x&gt;" d="M[\d.]+,[\d.]+M/);
  assert.doesNotMatch(svg, /<b>|<x>/);
  const bars = barChart({
    id: "b",
    title: "s",
    yLabel: "n",
    categories: ["2xx", "5xx"],
    groups: [{ name: "r", color: "#000", values: [3, 0] }],
  });
  assert.equal(bars.match(/<rect /g)?.length, 2);
  assert.equal(escapeHtml(`&<>"`), "&amp;&lt;&gt;&quot;");
});
