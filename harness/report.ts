/**
 * The driver's output: a wrk/oha-style text summary and a self-contained HTML report with the
 * latency distribution plotted as SVG (latency by percentile, HdrHistogram style).
 *
 * @module
 */
import type { Histogram } from "hdr-histogram-js";
import type { DriveSummary } from "./driver.ts";

/**
 * The text summary.
 *
 * @param s the run's summary
 * @param target what was driven, e.g. `GET http://127.0.0.1:8080/`
 * @returns lines for a terminal
 */
export function formatSummary(s: DriveSummary, target: string): string {
  const kinds = Object.entries(s.error_kinds).filter(([, n]) => n > 0)
    .map(([k, n]) => `${k} ${n}`).join(", ");
  return [
    `${target}`,
    `  requests   ${s.requests} in ${s.elapsed_s.toFixed(2)} s, ${s.rps.toFixed(0)} req/s`,
    `  ok         ${s.ok} (2xx ${s.status["2xx"]}, 3xx ${s.status["3xx"]})`,
    `  errors     ${s.errors} (4xx ${s.status["4xx"]}, 5xx ${s.status["5xx"]}` +
    (kinds ? `, ${kinds})` : ")"),
    `  latency    p50 ${fmt(s.latency_ms.p50)}  p90 ${fmt(s.latency_ms.p90)}  ` +
    `p99 ${fmt(s.latency_ms.p99)}  p99.9 ${fmt(s.latency_ms.p999)}  max ${fmt(s.latency_ms.max)}`,
  ].join("\n");
}

function fmt(ms: number): string {
  return ms >= 1000
    ? `${(ms / 1000).toFixed(2)}s`
    : ms >= 1
    ? `${ms.toFixed(2)}ms`
    : `${(ms * 1000).toFixed(0)}µs`;
}

/** Percentiles plotted, spaced like HdrHistogram's "1/(1-p)" axis. */
const PLOT = [0, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100];

/**
 * A self-contained HTML page: the summary and an SVG plot of latency by percentile.
 *
 * @param s the run's summary
 * @param histogram merged latencies in microseconds
 * @param target what was driven
 * @returns the HTML document
 */
export function htmlReport(s: DriveSummary, histogram: Histogram, target: string): string {
  const points = PLOT.map((p) => ({
    p,
    ms: histogram.totalCount ? histogram.getValueAtPercentile(p) / 1000 : 0,
  }));
  const [w, h, pad] = [720, 360, 56];
  const xOf = (p: number) => {
    const v = Math.log10(1 / Math.max(1e-5, 1 - p / 100));
    return pad + (v / 5) * (w - 2 * pad);
  };
  const maxMs = Math.max(...points.map((q) => q.ms), 0.001);
  const yOf = (ms: number) => h - pad - (ms / maxMs) * (h - 2 * pad);
  const path = points.map((q, i) =>
    `${i ? "L" : "M"}${xOf(q.p).toFixed(1)},${yOf(q.ms).toFixed(1)}`
  )
    .join(" ");
  const ticks = [0, 50, 90, 99, 99.9, 99.99, 99.999].map((p) =>
    `<text x="${xOf(p).toFixed(1)}" y="${h - pad + 18}" text-anchor="middle">${p}%</text>`
  ).join("");
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) =>
    `<text x="${pad - 6}" y="${yOf(maxMs * f).toFixed(1)}" text-anchor="end">${
      (maxMs * f).toFixed(2)
    }</text>`
  ).join("");
  const esc = (t: string) =>
    t.replace(/[&<>]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;" })[c]!);
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>siphon-deno drive: ${esc(target)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}pre{background:#f4f4f4;padding:1em}
svg text{font:11px system-ui,sans-serif}</style></head><body>
<h1>Load report</h1>
<pre>${esc(formatSummary(s, target))}</pre>
<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" role="img"
 aria-label="latency by percentile">
<rect x="${pad}" y="${pad}" width="${w - 2 * pad}" height="${
    h - 2 * pad
  }" fill="none" stroke="#ccc"/>
<path d="${path}" fill="none" stroke="#2563eb" stroke-width="2"/>
${
    points.map((q) =>
      `<circle cx="${xOf(q.p).toFixed(1)}" cy="${yOf(q.ms).toFixed(1)}" r="3" fill="#2563eb"/>`
    ).join("")
  }
${ticks}${yTicks}
<text x="${w / 2}" y="${h - 12}" text-anchor="middle">percentile</text>
<text x="14" y="${h / 2}" transform="rotate(-90 14 ${
    h / 2
  })" text-anchor="middle">latency (ms)</text>
</svg>
<script type="application/json" id="summary">${esc(JSON.stringify(s))}</script>
</body></html>
`;
}
