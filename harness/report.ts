/**
 * The driver's output: a wrk/oha-style text summary, and a self-contained HTML report of one run
 * or of several side by side (`--compare`): what was run and when, throughput, p50/p99 latency
 * and errors second by second, status codes, and the latency-by-percentile curve on
 * HdrHistogram's log axis — inline SVG (./charts.ts), nothing fetched when it is viewed.
 *
 * @module
 */
import { barChart, escapeHtml, type Line, lineChart } from "./charts.ts";
import type { DriveSummary } from "./driver.ts";

/**
 * The text summary. With no responses there are no latencies, and none are printed.
 *
 * @param s the run's summary
 * @param target what was driven, e.g. `GET http://127.0.0.1:8080/`
 * @returns lines for a terminal
 */
export function formatSummary(s: DriveSummary, target: string): string {
  const kinds = Object.entries(s.error_kinds).filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`).join(", ");
  const responses = s.requests - Object.values(s.error_kinds).reduce((a, b) => a + b, 0);
  return [
    `${target}`,
    `  requests   ${s.requests} in ${s.elapsed_s.toFixed(2)} s, ${s.rps.toFixed(0)} req/s`,
    `  ok         ${s.ok} (2xx ${s.status["2xx"]}, 3xx ${s.status["3xx"]})`,
    `  errors     ${s.errors} (4xx ${s.status["4xx"]}, 5xx ${s.status["5xx"]}` +
    (kinds ? `, ${kinds})` : ")"),
    responses > 0
      ? `  latency    p50 ${fmt(s.latency_ms.p50)}  p90 ${fmt(s.latency_ms.p90)}  ` +
        `p99 ${fmt(s.latency_ms.p99)}  p99.9 ${fmt(s.latency_ms.p999)}  max ${
          fmt(s.latency_ms.max)
        }`
      : "  latency    none: no response came back",
  ].join("\n");
}

function fmt(ms: number): string {
  return ms >= 1000
    ? `${(ms / 1000).toFixed(2)}s`
    : ms >= 1
    ? `${ms.toFixed(2)}ms`
    : `${(ms * 1000).toFixed(0)}µs`;
}

/**
 * The seconds a chart shows: all but a last one that lasted under half a second, which holds only
 * the requests still in flight when the run stopped — a rate from it would mislead (the JSON keeps
 * it, and the totals count it).
 */
function charted(r: DriveSummary): DriveSummary["series"] {
  const last = r.series.at(-1);
  return last && r.series.length > 1 && last.span_s < 0.5 ? r.series.slice(0, -1) : r.series;
}

/** Colours of runs 1, 2, 3 … (then again). */
const PALETTE = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2"];

/** A run's name in legends: its label, else "run N". */
function nameOf(labels: string[], i: number): string {
  return labels[i] ?? `run ${i + 1}`;
}

/**
 * The HTML report of one run, or of several on the same axes.
 *
 * @param runs the runs' summaries (`--json` files), in order
 * @param labels their names in legends (default "run 1", "run 2" …)
 * @returns the HTML document
 */
export function htmlReport(runs: DriveSummary[], labels: string[] = []): string {
  const color = (i: number) => PALETTE[i % PALETTE.length];
  const names = runs.map((_, i) => nameOf(labels, i));
  const perSecond = (pick: (p: DriveSummary["series"][number]) => number | null) =>
    runs.map((r, i): Line => ({
      name: names[i],
      color: color(i),
      points: charted(r).map((p) => [p.t + p.span_s / 2, pick(p)]),
    }));
  const latency: Line[] = runs.flatMap((r, i) => [
    {
      name: `${names[i]} p50`,
      color: color(i),
      points: charted(r).map((p): [number, number | null] => [p.t + p.span_s / 2, p.p50_ms]),
    },
    {
      name: `${names[i]} p99`,
      color: color(i),
      dashed: true,
      points: charted(r).map((p): [number, number | null] => [p.t + p.span_s / 2, p.p99_ms]),
    },
  ]);
  const categories = [
    "2xx",
    "3xx",
    "4xx",
    "5xx",
    "refused",
    "reset",
    "timeout",
    "malformed",
    "other",
  ];
  const charts = [
    lineChart({
      id: "throughput",
      title: "Throughput: responses and errors finished each second",
      xLabel: "seconds since the start",
      yLabel: "requests / s",
      lines: perSecond((p) => p.requests / p.span_s),
    }),
    lineChart({
      id: "latency",
      title: "Latency each second: p50 (solid) and p99 (dashed)",
      xLabel: "seconds since the start",
      yLabel: "latency (ms)",
      lines: latency,
    }),
    lineChart({
      id: "errors",
      title: "Errors each second: 4xx, 5xx and transport errors",
      xLabel: "seconds since the start",
      yLabel: "errors / s",
      lines: perSecond((p) => p.errors / p.span_s),
    }),
    barChart({
      id: "status",
      title: "Status codes and transport errors, whole run",
      yLabel: "requests",
      categories,
      groups: runs.map((r, i) => ({
        name: names[i],
        color: color(i),
        values: categories.map((c) =>
          c in r.status
            ? r.status[c as keyof DriveSummary["status"]]
            : r.error_kinds[c as keyof DriveSummary["error_kinds"]]
        ),
      })),
    }),
    lineChart({
      id: "percentiles",
      title: "Latency by percentile, whole run (HdrHistogram's axis: each step is 10× rarer)",
      xLabel: "percentile",
      yLabel: "latency (ms)",
      xAxis: "percentile",
      lines: runs.map((r, i) => ({ name: names[i], color: color(i), points: r.percentiles })),
    }),
  ];
  const title = runs.length === 1
    ? `Load report: ${runs[0].run.target}`
    : `Load report: ${runs.length} runs compared`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:800px;color:#111}
table{border-collapse:collapse;margin:1em 0}th,td{padding:.25em .8em;text-align:left;
border-bottom:1px solid #ddd}td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1.5em 0}figcaption{font-weight:600;margin-bottom:.3em}
svg .grid{stroke:#eee}svg .axis{stroke:#999}svg text{font:11px system-ui,sans-serif;fill:#333}
svg .label{font-size:12px}
</style></head><body>
<h1>${escapeHtml(title)}</h1>
${parameterTable(runs, names, color)}
${summaryTable(runs, names)}
${charts.join("\n")}
<script type="application/json" id="runs">${
    escapeHtml(JSON.stringify(runs.map((r, i) => ({ name: names[i], run: r.run }))))
  }</script>
</body></html>
`;
}

function parameterTable(
  runs: DriveSummary[],
  names: string[],
  color: (i: number) => string,
): string {
  const rows: [string, (r: DriveSummary) => string][] = [
    ["target", (r) => r.run.target],
    ["started", (r) => r.run.started.replace("T", " ").replace(/\.\d+Z$/, " UTC")],
    [
      "load",
      (r) =>
        r.run.rate === null
          ? `closed loop, ${r.run.connections} connections`
          : `open loop, ${r.run.rate} req/s over ${r.run.connections} connections`,
    ],
    ["for", (r) => r.run.duration_s !== null ? `${r.run.duration_s} s` : `${r.run.count} requests`],
    ["threads", (r) => String(r.run.threads)],
    ["driver", (r) => `siphon-deno ${r.run.version}`],
  ];
  return table("What was run", names, color, rows.map(([k, get]) => [k, runs.map(get)]));
}

function summaryTable(runs: DriveSummary[], names: string[]): string {
  const ms = (v: number, r: DriveSummary) => r.percentiles.length ? fmt(v) : "–";
  const rows: [string, string[]][] = [
    ["requests", runs.map((r) => `${r.requests} in ${r.elapsed_s.toFixed(2)} s`)],
    ["throughput", runs.map((r) => `${r.rps.toFixed(0)} req/s`)],
    ["ok (2xx, 3xx)", runs.map((r) => String(r.ok))],
    ["errors", runs.map((r) => String(r.errors))],
    ["p50", runs.map((r) => ms(r.latency_ms.p50, r))],
    ["p90", runs.map((r) => ms(r.latency_ms.p90, r))],
    ["p99", runs.map((r) => ms(r.latency_ms.p99, r))],
    ["p99.9", runs.map((r) => ms(r.latency_ms.p999, r))],
    ["max", runs.map((r) => ms(r.latency_ms.max, r))],
  ];
  return table("Results", names, () => "inherit", rows, true);
}

function table(
  caption: string,
  names: string[],
  color: (i: number) => string,
  rows: [string, string[]][],
  numeric = false,
): string {
  const head = names.length > 1
    ? `<tr><th></th>${
      names.map((n, i) => `<th style="color:${color(i)}">${escapeHtml(n)}</th>`).join("")
    }</tr>`
    : "";
  const body = rows.map(([k, vs]) =>
    `<tr><th>${escapeHtml(k)}</th>${
      vs.map((v) => `<td${numeric ? ' class="n"' : ""}>${escapeHtml(v)}</td>`).join("")
    }</tr>`
  ).join("");
  return `<table><caption>${escapeHtml(caption)}</caption>${head}${body}</table>`;
}
