/**
 * `deno task drive` as a user runs it: paths from the folder it was run in, clear usage errors,
 * a non-zero exit past --max-errors, no percentile without responses; and its HTML report —
 * one run and two compared — opened in a real headless Chromium (Debian's, driven by
 * playwright-core): no console error, and every chart holds the series it should.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { launchChromium } from "../../harness/browser.ts";
import { freePort, runTask } from "../../harness/launch.ts";
import { serveMock } from "../../harness/mock.ts";

/** What the test reads of one chart in the page. */
interface Chart {
  series: (string | null)[];
  drawn: boolean;
  ticks: string[];
}

/** What the test reads of the page: its charts by `data-chart`, and its text. */
interface Page {
  charts: Record<string, Chart>;
  text: string;
}

/** Evaluated in the page: {@link Page}. */
const READ_CHARTS = `({
  charts: Object.fromEntries([...document.querySelectorAll("figure[data-chart]")].map((f) => [
    f.getAttribute("data-chart"),
    {
      series: [...f.querySelectorAll(".series")].map((s) => s.getAttribute("data-series")),
      drawn: [...f.querySelectorAll("path.series")].every((p) => (p.getAttribute("d") ?? "").length > 10),
      ticks: [...f.querySelectorAll("text.tick")].map((t) => t.textContent ?? ""),
    },
  ])),
  text: document.body.innerText,
})`;

/** `deno task drive …` run from `cwd`, as a user would. */
const drive = (cwd: string, ...args: string[]) => runTask(cwd, "drive", ...args);

Deno.test("drive from a user's folder: paths there, usage errors in one line, exit codes", async () => {
  const folder = Deno.makeTempDirSync({ prefix: "siphon-drive-" });
  const port = freePort();
  const mock = serveMock(port);
  try {
    const ok = await drive(
      folder,
      ...["--port", String(port), "--count", "300", "--concurrency", "4"],
      ...["--json", "run.json", "--html", "run.html"],
    );
    assert.equal(ok.code, 0, ok.out + ok.err);
    const summary = JSON.parse(Deno.readTextFileSync(join(folder, "run.json")));
    assert.equal(summary.requests, 300);
    assert.equal(summary.run.connections, 4);
    assert.equal(summary.run.count, 300);
    assert.ok(Deno.statSync(join(folder, "run.html")).isFile, "the report is in the user's folder");

    const neither = await drive(folder, "--port", String(port));
    assert.equal(neither.code, 2);
    assert.equal(
      neither.err.split("\n")[0],
      "say how much load: --count N (requests) or --duration 10s",
    );
    assert.doesNotMatch(neither.err, /RangeError|at .*\.ts:\d+/, "no stack trace");
    const both = await drive(folder, "--port", String(port), "--count", "5", "--duration", "1s");
    assert.equal(both.code, 2);
    assert.equal(both.err.split("\n")[0], "give one of --count and --duration, not both");
  } finally {
    await mock.shutdown();
  }
  // nothing listens there: every request refused
  const refused = await drive(folder, "--port", String(freePort()), "--count", "5");
  assert.equal(refused.code, 1, "more errors than --max-errors (0)");
  assert.match(refused.out, /errors +5 \(4xx 0, 5xx 0, refused 5\)/);
  assert.match(refused.out, /latency +none: no response came back/);
  assert.doesNotMatch(refused.out, /p50/);
  assert.match(refused.err, /5 of 5 requests failed, more than --max-errors 0/);
  const allowed = await drive(
    folder,
    ...["--port", String(freePort()), "--count", "5", "--max-errors", "5"],
  );
  assert.equal(allowed.code, 0, allowed.out + allowed.err);

  Deno.writeTextFileSync(join(folder, "bad.json"), '{"requests": 1}');
  const bad = await drive(folder, "--compare", "bad.json", "--html", "x.html");
  assert.equal(bad.code, 2);
  assert.match(bad.err, /bad\.json: not a drive --json summary of this version \(no run, /);
});

Deno.test("drive's HTML report in headless Chromium: one run, and two compared", async () => {
  const folder = Deno.makeTempDirSync({ prefix: "siphon-drive-report-" });
  const port = freePort();
  const mock = serveMock(port);
  let failing: Deno.HttpServer | null = null;
  try {
    const fast = await drive(
      folder,
      ...["--port", String(port), "--duration", "2s", "--concurrency", "8"],
      ...["--json", "fast.json", "--html", "fast.html"],
    );
    assert.equal(fast.code, 0, fast.out + fast.err);
    // a second run whose server answers every other request 503
    let n = 0;
    const failPort = freePort();
    failing = Deno.serve(
      { hostname: "127.0.0.1", port: failPort, onListen: () => {} },
      () => new Response("x", { status: n++ % 2 ? 503 : 200 }),
    );
    const half = await drive(
      folder,
      ...["--port", String(failPort), "--duration", "2s", "--concurrency", "2"],
      ...["--json", "half.json", "--max-errors", "1000000000"],
    );
    assert.equal(half.code, 0, half.out + half.err);
  } finally {
    await mock.shutdown();
    await failing?.shutdown();
  }
  const compared = await drive(
    folder,
    ...["--compare", "fast.json", "half.json", "--html", "both.html"],
    ...["--label", "fast", "--label", "half 503"],
  );
  assert.equal(compared.code, 0, compared.out + compared.err);

  const browser = await launchChromium();
  try {
    // the checks see what they look for: a page that logs an error and fetches something
    Deno.writeTextFileSync(
      join(folder, "noisy.html"),
      '<p>x</p><img src="http://127.0.0.1:9/pixel.png"><script>console.error("boom")</script>',
    );
    const noisy = await browser.visit(`file://${join(folder, "noisy.html")}`, "1 + 1");
    assert.ok(noisy.errors.includes("boom"), JSON.stringify(noisy.errors));
    assert.deepEqual(noisy.fetched, ["http://127.0.0.1:9/pixel.png"]);
    assert.equal(noisy.value, 2);

    const open = async (file: string) => {
      const url = `file://${join(folder, file)}`;
      const { errors, fetched, value } = await browser.visit(url, READ_CHARTS);
      return { problems: [...errors, ...fetched.map((u) => `fetched ${u}`)], ...value as Page };
    };

    const one = await open("fast.html");
    assert.deepEqual(one.problems, [], "no console error, nothing fetched");
    assert.deepEqual(Object.keys(one.charts).sort(), [
      "errors",
      "latency",
      "percentiles",
      "status",
      "throughput",
    ]);
    assert.deepEqual(one.charts.latency.series, ["run 1 p50", "run 1 p99"]);
    assert.deepEqual(one.charts.throughput.series, ["run 1"]);
    assert.ok(Object.values(one.charts).every((c) => c.drawn), "every line has points");
    assert.match(one.text, /closed loop, 8 connections/);
    assert.match(one.text, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/, "the run's date");
    assert.match(one.text, /siphon-deno \d+\.\d+\.\d+/, "the driver's version");
    assert.ok(one.charts.throughput.ticks.length > 3, "ticks on both axes");
    for (const tick of one.charts.throughput.ticks) {
      assert.match(tick, /^(\d+(\.\d{1,2})?k?|[\w ]+)$/, `a round tick: ${tick}`);
    }
    assert.deepEqual(
      one.charts.percentiles.ticks.filter((t) => t.endsWith("%")),
      ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"],
    );

    const two = await open("both.html");
    assert.deepEqual(two.problems, []);
    assert.deepEqual(two.charts.throughput.series, ["fast", "half 503"]);
    assert.deepEqual(two.charts.errors.series, ["fast", "half 503"]);
    assert.deepEqual(two.charts.latency.series, [
      "fast p50",
      "fast p99",
      "half 503 p50",
      "half 503 p99",
    ]);
    assert.deepEqual(two.charts.status.series, ["fast", "half 503"]);
    assert.deepEqual(two.charts.percentiles.series, ["fast", "half 503"]);
    assert.match(two.text, /2 runs compared/);
    assert.match(two.text, /closed loop, 2 connections/);
  } finally {
    await browser.close();
  }
  // the compared run's 503s are in its JSON, and so in the status chart
  const half = JSON.parse(Deno.readTextFileSync(join(folder, "half.json")));
  assert.ok(half.status["5xx"] > 0 && half.series.some((p: { errors: number }) => p.errors > 0));
});
