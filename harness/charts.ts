/**
 * Inline SVG charts for the driver's HTML report: line charts over time or over percentiles
 * (HdrHistogram's log axis, 1/(1-p)), and grouped bars. Plain strings, no script and nothing
 * fetched when the page is viewed. Every series is a `<path class="series">` (or a bar group)
 * with `data-series` naming it, so a test can find what is drawn.
 *
 * @module
 */

/** One line: its name, colour and points; a null y is a gap. */
export interface Line {
  name: string;
  color: string;
  dashed?: boolean;
  points: [number, number | null][];
}

/** What a line chart draws. */
export interface LineChart {
  /** `data-chart` of the figure. */
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  lines: Line[];
  /** `percentile`: x in percent, drawn on the 1/(1-p) log axis. @default "linear" */
  xAxis?: "linear" | "percentile";
}

const [W, H] = [760, 300];
const PAD = { left: 64, right: 32, top: 36, bottom: 44 };

/**
 * Round tick values from 0 to at least `max`: steps of 1, 2, 2.5 or 5 times a power of ten.
 *
 * @param max the largest value to show
 * @param about roughly how many ticks @default 5
 * @returns the ticks, ascending, the last ≥ max
 */
export function niceTicks(max: number, about = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / about;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v < max + step / 2 && ticks.length < 50; v += step) {
    ticks.push(Number(v.toPrecision(12)));
  }
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

/** The percentile axis' ticks: 0 %, 90 %, 99 % … 99.999 %. */
const PERCENTILE_TICKS = [0, 90, 99, 99.9, 99.99, 99.999];

/** Where a percentile sits on the 1/(1-p) axis: 0 at 0 %, 5 at 99.999 %. */
function percentileX(p: number): number {
  return Math.log10(1 / Math.max(1e-5, 1 - p / 100));
}

/** A number as a tick label: no float noise, thousands as k. */
export function tickLabel(v: number): string {
  if (v >= 10_000) return `${Number((v / 1000).toPrecision(6))}k`;
  return String(Number(v.toPrecision(6)));
}

/**
 * A line chart as an SVG figure.
 *
 * @param chart what to draw
 * @returns the `<figure>` markup
 */
export function lineChart(chart: LineChart): string {
  const percentile = chart.xAxis === "percentile";
  const xs = chart.lines.flatMap((l) => l.points.map(([x]) => percentile ? percentileX(x) : x));
  const ys = chart.lines.flatMap((l) => l.points.map(([, y]) => y ?? 0));
  const xMax = percentile ? 5 : Math.max(1, ...xs);
  const yTicks = niceTicks(Math.max(0, ...ys));
  const yMax = yTicks[yTicks.length - 1];
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const sx = (x: number) => PAD.left + (x / xMax) * plotW;
  const sy = (y: number) => PAD.top + plotH - (y / yMax) * plotH;
  const xTicks = percentile
    ? PERCENTILE_TICKS.map((p) => ({ at: percentileX(p), label: `${p}%` }))
    : niceTicks(xMax, 8).filter((t) => t <= xMax).map((t) => ({ at: t, label: tickLabel(t) }));
  const grid = [
    ...yTicks.map((t) =>
      `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${f(sy(t))}" y2="${
        f(sy(t))
      }"/><text class="tick" x="${PAD.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${
        tickLabel(t)
      }</text>`
    ),
    ...xTicks.map(({ at, label }) =>
      `<line class="grid" x1="${f(sx(at))}" x2="${f(sx(at))}" y1="${PAD.top}" y2="${
        PAD.top + plotH
      }"/><text class="tick" x="${f(sx(at))}" y="${PAD.top + plotH + 16}" text-anchor="middle">${
        escapeHtml(label)
      }</text>`
    ),
  ].join("");
  const paths = chart.lines.map((line) => {
    let d = "";
    let pen = false;
    for (const [x, y] of line.points) {
      if (y === null) {
        pen = false;
        continue;
      }
      d += `${pen ? "L" : "M"}${f(sx(percentile ? percentileX(x) : x))},${f(sy(y))}`;
      pen = true;
    }
    return `<path class="series" data-series="${escapeHtml(line.name)}" d="${d}" fill="none" ` +
      `stroke="${line.color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ""}>` +
      `<title>${escapeHtml(line.name)}</title></path>`;
  }).join("");
  return figure(
    chart.id,
    chart.title,
    chart.lines,
    `${grid}${paths}${axes(plotH, chart.xLabel, chart.yLabel)}`,
  );
}

/** Bars: for each category, one bar per group (run). */
export interface BarChart {
  id: string;
  title: string;
  yLabel: string;
  categories: string[];
  groups: { name: string; color: string; values: number[] }[];
}

/**
 * A grouped bar chart as an SVG figure.
 *
 * @param chart what to draw
 * @returns the `<figure>` markup
 */
export function barChart(chart: BarChart): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const yTicks = niceTicks(Math.max(0, ...chart.groups.flatMap((g) => g.values)));
  const yMax = yTicks[yTicks.length - 1];
  const sy = (y: number) => PAD.top + plotH - (y / yMax) * plotH;
  const slot = plotW / Math.max(1, chart.categories.length);
  const barW = (slot * 0.7) / Math.max(1, chart.groups.length);
  const grid = yTicks.map((t) =>
    `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${f(sy(t))}" y2="${
      f(sy(t))
    }"/><text class="tick" x="${PAD.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${
      tickLabel(t)
    }</text>`
  ).join("");
  const labels = chart.categories.map((c, i) =>
    `<text class="tick" x="${f(PAD.left + slot * (i + 0.5))}" y="${
      PAD.top + plotH + 16
    }" text-anchor="middle">${escapeHtml(c)}</text>`
  ).join("");
  const bars = chart.groups.map((g, gi) =>
    `<g class="series" data-series="${escapeHtml(g.name)}">${
      g.values.map((v, i) => {
        const x = PAD.left + slot * i + slot * 0.15 + barW * gi;
        return `<rect x="${f(x)}" y="${f(sy(v))}" width="${f(barW)}" height="${
          f(PAD.top + plotH - sy(v))
        }" fill="${g.color}"><title>${escapeHtml(`${g.name}: ${chart.categories[i]} ${v}`)}` +
          `</title></rect>`;
      }).join("")
    }</g>`
  ).join("");
  return figure(
    chart.id,
    chart.title,
    chart.groups,
    `${grid}${labels}${bars}${axes(plotH, "", chart.yLabel)}`,
  );
}

function axes(plotH: number, xLabel: string, yLabel: string): string {
  return `<line class="axis" x1="${PAD.left}" x2="${W - PAD.right}" y1="${PAD.top + plotH}" y2="${
    PAD.top + plotH
  }"/><line class="axis" x1="${PAD.left}" x2="${PAD.left}" y1="${PAD.top}" y2="${
    PAD.top + plotH
  }"/><text class="label" x="${PAD.left + (W - PAD.left - PAD.right) / 2}" y="${
    H - 6
  }" text-anchor="middle">${escapeHtml(xLabel)}</text><text class="label" x="14" y="${
    PAD.top + plotH / 2
  }" transform="rotate(-90 14 ${PAD.top + plotH / 2})" text-anchor="middle">${
    escapeHtml(yLabel)
  }</text>`;
}

function figure(
  id: string,
  title: string,
  legend: { name: string; color: string; dashed?: boolean }[],
  body: string,
): string {
  const keys = legend.map((l, i) =>
    `<g transform="translate(${PAD.left + (i % 4) * 170},${
      10 + Math.floor(i / 4) * 14
    })"><line x1="0" x2="22" y1="0" y2="0" ` +
    `stroke="${l.color}" stroke-width="3"${l.dashed ? ' stroke-dasharray="6 4"' : ""}/>` +
    `<text class="tick" x="28" y="4">${escapeHtml(l.name)}</text></g>`
  ).join("");
  return `<figure data-chart="${id}"><figcaption>${escapeHtml(title)}</figcaption>` +
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" ` +
    `height="${H}" role="img" aria-label="${escapeHtml(title)}">${keys}${body}</svg></figure>`;
}

function f(n: number): string {
  return n.toFixed(1);
}

/**
 * Text for HTML.
 *
 * @param text any text
 * @returns it with `&`, `<`, `>` and `"` escaped
 */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}
