/**
 * `deno task drive …` — the load driver's command line:
 *
 *   drive --port P [--host 127.0.0.1] [--path /] (--count N | --duration 10s)
 *         [--concurrency 64] [--rate R] [--threads cores] [--method GET] [--body-file F]
 *         [--header 'k: v']… [--timeout 10s] [--max-errors 0] [--json out.json]
 *         [--html report.html]
 *   drive --compare a.json b.json… --html report.html [--label A --label B…]
 *   drive serve --port P [--threads 1]      mock server, 200 "ok" for everything
 *   drive selftest [--duration 2s]          mock + drive; exit 1 on any error
 *
 * Paths are taken from the folder the command was run in (INIT_CWD under `deno task`).
 * Exit codes: 0 done, 1 more errors than --max-errors (or a self-test found errors), 2 bad
 * usage.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fromUser } from "../src/cli_args.ts";
import { drive, type DriveOutcome, type DriveSummary } from "./driver.ts";
import { MAX_SECONDS } from "./series.ts";
import { serveMock } from "./mock.ts";
import { formatSummary, htmlReport } from "./report.ts";

const USAGE = `usage:
  drive --port P [--host 127.0.0.1] [--path /] (--count N | --duration 10s) [--concurrency 64]
        [--rate R] [--threads N] [--method GET] [--body-file F] [--header 'k: v']...
        [--timeout 10s] [--max-errors 0] [--json FILE] [--html FILE] [--allow-remote]
        --rate R: open loop, R requests/s on a schedule; latency counts from when each was due
        exits 1 when more requests than --max-errors failed (4xx, 5xx, transport errors)
  drive --compare A.json B.json... --html FILE [--label A --label B...]
        one report of earlier --json runs, side by side on the same axes
  drive serve --port P [--threads 1] [--host 127.0.0.1]
  drive selftest [--duration 2s | --count N] [--concurrency 64] [--threads N]`;

class UsageError extends Error {}

/**
 * Parses `10s`, `500ms`, `2m` or a number of seconds.
 *
 * @param text the flag value
 * @returns milliseconds
 * @throws {UsageError} for anything else
 */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`Cannot read duration "${text}": write 10s, 500ms or 2m`);
  const n = Number(m[1]);
  return m[2] === "ms" ? n : m[2] === "m" ? n * 60000 : n * 1000;
}

function int(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`--${name} takes a whole number >= ${min}, got "${text}"`);
  }
  return n;
}

function isLoopback(host: string): boolean {
  return host === "localhost" || host.startsWith("127.") || host === "::1" || host === "[::1]";
}

const OPTIONS = {
  host: { type: "string", default: "127.0.0.1" },
  port: { type: "string" },
  path: { type: "string", default: "/" },
  count: { type: "string" },
  duration: { type: "string" },
  concurrency: { type: "string", default: "64" },
  rate: { type: "string" },
  threads: { type: "string" },
  method: { type: "string", default: "GET" },
  "body-file": { type: "string" },
  header: { type: "string", multiple: true, default: [] as string[] },
  timeout: { type: "string", default: "10s" },
  "max-errors": { type: "string", default: "0" },
  json: { type: "string" },
  html: { type: "string" },
  compare: { type: "boolean", default: false },
  label: { type: "string", multiple: true, default: [] as string[] },
  "allow-remote": { type: "boolean", default: false },
  help: { type: "boolean", short: "h" },
} as const;

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.compare) return await compare(positionals, values);
  const command = positionals[0] ?? "drive";
  const threads = int("threads", values.threads, 1);
  if (command === "serve") {
    const port = int("port", values.port, 1);
    if (port === undefined) throw new UsageError("serve needs --port");
    startMock(port, values.host, threads ?? 1);
    console.error(
      `mock serving http://${values.host}:${port}/ (200 "ok") on ${threads ?? 1} thread(s)`,
    );
    return await new Promise<number>(() => {});
  }
  if (command === "selftest") return await selftest(values, threads);
  if (command !== "drive") throw new UsageError(`unknown command "${command}"`);
  const port = int("port", values.port, 1);
  if (port === undefined) throw new UsageError("--port is required");
  if ((values.count === undefined) === (values.duration === undefined)) {
    throw new UsageError(
      values.count === undefined
        ? "say how much load: --count N (requests) or --duration 10s"
        : "give one of --count and --duration, not both",
    );
  }
  const maxErrors = int("max-errors", values["max-errors"], 0)!;
  if (!isLoopback(values.host) && !values["allow-remote"]) {
    throw new UsageError(
      `refusing to load ${values.host}: pass --allow-remote to target a non-loopback host`,
    );
  }
  const headers = values.header.map((h): [string, string] => {
    const colon = h.indexOf(":");
    if (colon <= 0) throw new UsageError(`--header takes "name: value", got "${h}"`);
    return [h.slice(0, colon).trim(), h.slice(colon + 1).trim()];
  });
  const outcome = await drive({
    host: values.host,
    port,
    path: values.path,
    method: values.method,
    headers,
    body: values["body-file"] ? await readInput(values["body-file"]) : undefined,
    count: int("count", values.count, 1),
    durationMs: values.duration === undefined ? undefined : parseDuration(values.duration),
    concurrency: int("concurrency", values.concurrency, 1),
    rate: int("rate", values.rate, 1),
    threads,
    timeoutMs: parseDuration(values.timeout),
    onProgress: progressLine(),
  });
  await report(outcome, values);
  if (outcome.summary.errors > maxErrors) {
    console.error(
      `${outcome.summary.errors} of ${outcome.summary.requests} requests failed, more than ` +
        `--max-errors ${maxErrors}`,
    );
    return 1;
  }
  return 0;
}

/** A file the user named, read from their folder; a missing one is a usage error. */
async function readInput(path: string): Promise<Uint8Array> {
  try {
    return await Deno.readFile(fromUser(path));
  } catch (e) {
    throw new UsageError(`cannot read ${fromUser(path)}: ${(e as Error).message}`);
  }
}

/** `--compare A.json B.json…`: one HTML report of earlier runs. */
async function compare(
  files: string[],
  values: { html?: string; label: string[] },
): Promise<number> {
  if (files.length === 0) throw new UsageError("--compare takes the --json files of the runs");
  if (!values.html) throw new UsageError("--compare writes a report: give --html FILE");
  const runs = await Promise.all(files.map(async (file) => {
    const text = new TextDecoder().decode(await readInput(file));
    const why = summaryProblem(text);
    if (why) throw new UsageError(`${fromUser(file)}: ${why}`);
    return JSON.parse(text) as DriveSummary;
  }));
  const labels = files.map((f, i) =>
    values.label[i] ?? f.replace(/^.*\//, "").replace(/\.json$/, "")
  );
  await Deno.writeTextFile(fromUser(values.html), htmlReport(runs, labels));
  console.log(`${fromUser(values.html)}: ${runs.length} runs compared`);
  return 0;
}

/** Why `text` is not a summary `--json` wrote (a file is untrusted input), or null. */
export function summaryProblem(text: string): string | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return `not JSON (${(e as Error).message})`;
  }
  const d = data as Partial<DriveSummary> | null;
  if (!d || typeof d !== "object" || Array.isArray(d)) return "not a drive --json summary";
  const missing = [
    "run",
    "requests",
    "latency_ms",
    "status",
    "error_kinds",
    "percentiles",
    "series",
  ]
    .filter((k) => !(k in d));
  if (missing.length) {
    return `not a drive --json summary of this version (no ${missing.join(", ")}): run it again`;
  }
  const seriesOk = Array.isArray(d.series) && d.series.length <= MAX_SECONDS &&
    d.series.every((p) =>
      p && typeof p.t === "number" && typeof p.requests === "number" &&
      typeof p.span_s === "number" && p.span_s > 0 &&
      typeof p.errors === "number" && (p.p50_ms === null || typeof p.p50_ms === "number") &&
      (p.p99_ms === null || typeof p.p99_ms === "number")
    );
  const curveOk = Array.isArray(d.percentiles) && d.percentiles.length <= 1000 &&
    d.percentiles.every((q) =>
      Array.isArray(q) && q.length === 2 && q.every((v) => typeof v === "number")
    );
  if (!seriesOk || !curveOk) return "its series or percentiles are not what drive writes";
  const counts = [d.status, d.error_kinds, d.latency_ms];
  if (!counts.every((c) => c && Object.values(c).every((v) => typeof v === "number"))) {
    return "its counts are not what drive writes";
  }
  if (typeof d.run?.target !== "string" || typeof d.run?.started !== "string") {
    return "its run parameters are not what drive writes";
  }
  return null;
}

function startMock(port: number, hostname: string, threads: number): void {
  if (threads <= 1) {
    serveMock(port, hostname);
    return;
  }
  for (let i = 0; i < threads; i++) {
    const w = new Worker(new URL("./mock_worker.ts", import.meta.url), { type: "module" });
    w.postMessage({ port, hostname });
  }
}

async function selftest(
  values: { duration?: string; count?: string; concurrency: string; json?: string; html?: string },
  threads: number | undefined,
): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const server = serveMock(port);
  const count = int("count", values.count, 1);
  try {
    const outcome = await drive({
      host: "127.0.0.1",
      port,
      path: "/",
      count,
      durationMs: count === undefined ? parseDuration(values.duration ?? "2s") : undefined,
      concurrency: int("concurrency", values.concurrency, 1),
      threads,
      onProgress: progressLine(),
    });
    await report(outcome, values, `selftest: GET http://127.0.0.1:${port}/ (mock)`);
    const s = outcome.summary;
    const bad = s.errors > 0 || s.ok !== s.requests || s.requests === 0 ||
      (count !== undefined && s.requests !== count);
    console.log(bad ? "selftest FAILED" : "selftest passed");
    return bad ? 1 : 0;
  } finally {
    await server.shutdown();
  }
}

async function report(
  outcome: DriveOutcome,
  values: { json?: string; html?: string },
  target = outcome.summary.run.target,
): Promise<void> {
  if (Deno.stderr.isTerminal()) Deno.stderr.writeSync(new TextEncoder().encode("\r\x1b[K"));
  console.log(formatSummary(outcome.summary, target));
  if (values.json) {
    await Deno.writeTextFile(fromUser(values.json), JSON.stringify(outcome.summary) + "\n");
  }
  if (values.html) await Deno.writeTextFile(fromUser(values.html), htmlReport([outcome.summary]));
}

/** A live progress line on a terminal; nothing when stderr is not one. */
function progressLine(): ((done: number) => void) | undefined {
  if (!Deno.stderr.isTerminal()) return undefined;
  const start = performance.now();
  const enc = new TextEncoder();
  return (done) => {
    const s = (performance.now() - start) / 1000;
    Deno.stderr.writeSync(
      enc.encode(`\r\x1b[K  ${done} requests, ${(done / s).toFixed(0)} req/s, ${s.toFixed(1)} s`),
    );
  };
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      console.error(`${(e as Error).message}\n\n${USAGE}`);
      Deno.exit(2);
    }
    throw e;
  }
}
