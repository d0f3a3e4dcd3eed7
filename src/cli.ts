/**
 * siphon-deno command line: `serve`, `check`, `test`, `stubs`, `health`, `--version`. Parses
 * flags, calls the rest of src/, and maps errors to exit codes (0 ok, 1 runtime failure, 2 bad
 * usage or config). `main.ts` loads it after installing the signal handlers.
 *
 * @module
 */
import {
  adminArgument,
  configArgument,
  fromUser,
  parseCommandLine,
  userFolder,
} from "./cli_args.ts";
import { DEFAULT_ADMIN_TEXT } from "./config/admin_default.ts";
import {
  type Config,
  ConfigError,
  type ConfigOverrides,
  formatProblem,
  type LogOverrides,
  withLogOverrides,
} from "./config/load.ts";
import { loadConfig } from "./config/files.ts";
import { createLogger, LogBudget, type Logger, plural } from "./log.ts";
import { Supervisor } from "./supervisor/supervisor.ts";
import { checkScript } from "./supervisor/check.ts";
import { basename } from "node:path";
import { FileWatcher, watchedFilesFor } from "./supervisor/watch.ts";
import type { Signals } from "./start/signals.ts";
import { VERSION } from "./version.ts";
import type { HeadStart } from "./start/head_start.ts";
import { mark } from "./start/marks.ts";
import { findTestFiles, runScriptTests } from "./script_tests.ts";
import { copyStubs } from "./pyodide/stubs.ts";

const USAGE = `siphon-deno ${VERSION}: serve Python (siphon-http API) handlers on every core

Usage:
  siphon-deno serve [CONFIG | --config CONFIG] [--app module:attribute]
                    [--admin HOST:PORT|off] [--no-watch]
                    [--log-format pretty|json] [--log-level debug|info|warning|error]
                    [--access-log]
                                           start the server (CONFIG: an http.yaml or a
                                           siphon.yaml; default ./http.yaml); reloads on file
                                           changes (unless --no-watch) and SIGHUP; --app,
                                           --admin and the log flags win over http.yaml's app:,
                                           admin: and log:
  siphon-deno check [CONFIG | --config CONFIG] [--app module:attribute]
                                           refuse what serve would refuse, without serving: the
                                           config, the script's import and its routes
                                           (on_startup hooks are not run), and imports that
                                           nothing provides; exit 0 or 2
  siphon-deno test [FILE|DIR|FILE::NAME…] [-k EXPR]
                                           run script tests (test_*.py, pytest style) in the
                                           serving runtime; -k keeps tests whose name matches
                                           EXPR (words, and/or/not); ends with "N passed, M failed"
  siphon-deno stubs [--out typings]        write .pyi stubs of siphon and siphon_sdk for IDEs
                                           (default: ./typings in the folder you run it in)
  siphon-deno health [--url URL] [--admin HOST:PORT]
                                           exit 0 when the admin listener answers 200 (default
                                           http://HOST:PORT/healthz of --admin, else
                                           SIPHON_ADMIN, else ${DEFAULT_ADMIN_TEXT})
  siphon-deno --version | --help

Environment: SIPHON_ADMIN=HOST:PORT|off sets the admin listener as --admin does (the flag wins).
Relative paths are taken from the folder you run the command in (also under deno task).
`;

/**
 * Runs one command.
 *
 * @param args the command line, without the program name
 * @param signals the process's signal handlers, installed before this module was loaded
 * @param head what main.ts began for `serve` before this module was loaded
 * @returns the exit code
 */
export async function main(args: string[], signals: Signals, head?: HeadStart): Promise<number> {
  let parsed;
  try {
    parsed = parseCommandLine(args);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  // Only `serve` drains on a signal; every other command keeps the default actions.
  if (command !== "serve" || values.version || values.help) signals.release();
  if (values.version) {
    console.log(`siphon-deno ${VERSION}`);
    return 0;
  }
  if (values.help || !command) {
    (values.help ? console.log : console.error)(USAGE);
    return values.help ? 0 : 2;
  }
  if (command === "health") return await health(values.url ?? healthUrl(values));
  if (command === "test") return await scriptTests(positionals.slice(1), values.keyword ?? null);
  if (command === "stubs") return await writeStubs(fromUser(values.out!));
  if (command !== "serve" && command !== "check") {
    console.error(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  let configPath: string;
  try {
    configPath = configArgument(values, positionals);
  } catch (e) {
    console.error(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (configPath.endsWith(".py")) {
    console.error(
      `${configPath} is a Python script; ${command} takes its config, an http.yaml (with ` +
        "script: or app:) or a siphon.yaml — see docs/configuration.md",
    );
    return 2;
  }
  return await withConfig(command, { ...values, config: configPath }, signals, head);
}

/** `health`'s default URL: the admin address of --admin or SIPHON_ADMIN, else the default. */
function healthUrl(values: { admin?: string }): string {
  const given = adminArgument(values, Deno.env)?.value;
  return `http://${given && given !== "off" ? given : DEFAULT_ADMIN_TEXT}/healthz`;
}

/** `serve` and `check`: both start from the config, with the log flags applied. */
async function withConfig(
  command: "serve" | "check",
  values: {
    config: string;
    app?: string;
    admin?: string;
    "no-watch"?: boolean;
    "log-format"?: string;
    "log-level"?: string;
    "access-log"?: boolean;
  },
  signals: Signals,
  head: HeadStart | undefined,
): Promise<number> {
  const overrides = logOverrides(values);
  if (typeof overrides === "string") {
    console.error(`${overrides}\n\n${USAGE}`);
    return 2;
  }
  const configFile = fromUser(values.config);
  const configOverrides: ConfigOverrides = {
    app: values.app,
    admin: adminArgument(values, Deno.env),
  };
  let config;
  try {
    config = withLogOverrides(
      await loadConfig(configFile, { overrides: configOverrides }),
      overrides,
    );
    mark("config loaded");
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
  if (command === "check") return await check(config, values.config);
  const watch = !values["no-watch"] && config.watch;
  return await serve(
    { config, configFile, overrides, configOverrides, watch, head },
    signals,
  );
}

/**
 * `serve`: boots the supervisor, watches the files, reloads on a change or SIGHUP, and drains on
 * SIGINT/SIGTERM. A stop signal that came while the workers booted drains once they are up.
 */
async function serve(
  options: {
    config: Config;
    configFile: string;
    overrides: LogOverrides;
    configOverrides: ConfigOverrides;
    watch: boolean;
    head: HeadStart | undefined;
  },
  signals: Signals,
): Promise<number> {
  const { config, configFile } = options;
  const log = supervisorLog(config);
  log.info(
    `starting siphon-deno ${VERSION} (pid ${Deno.pid}): ${plural(config.workers, "worker")}, ` +
      `config ${configFile}`,
  );
  for (const w of config.warnings) log.warning(formatProblem(w));
  if (!config.watch) log.info("file watching is off (script.reload: sighup); SIGHUP reloads");
  let supervisor: Supervisor | null = null;
  const watcher = options.watch
    ? new FileWatcher({
      files: () => supervisor?.watchedFiles() ?? watchedFilesFor(config, configFile),
      onChange: async () => {
        await supervisor?.reload("file change");
        watcher?.refresh();
      },
    })
    : null;
  signals.onStop(() =>
    log.info("stop signal received while starting; draining once the workers are up")
  );
  // The baseline is what is about to load, so an edit made during the start is not missed.
  await watcher?.baseline();
  try {
    supervisor = await Supervisor.start({
      config,
      log,
      configFile,
      logOverrides: options.overrides,
      configOverrides: options.configOverrides,
      headStart: options.head,
    });
  } catch (e) {
    log.error(`Cannot start: ${(e as Error).message}`);
    return 1;
  }
  const running = supervisor;
  if (!signals.stopping) await watcher?.start();
  signals.onReload(() => void running.reload("SIGHUP").then(() => watcher?.refresh()));
  await new Promise<void>((resolve) =>
    signals.onStop(() => {
      watcher?.close();
      running.stop().then(resolve);
    })
  );
  return 0;
}

/**
 * `check`: the config is valid (done by now); import the script and compile its routes as a
 * serving worker would. 0 when `serve` would start, 2 with serve's message when it would not.
 */
async function check(config: Config, file: string): Promise<number> {
  for (const w of config.warnings) console.error(`warning: ${formatProblem(w)}`);
  let routes;
  try {
    ({ routes } = await checkScript(config, createLogger({ level: "warning" })));
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  console.log(
    `${file}: ok (${plural(config.servers.length, "listener")}, ${plural(routes, "route")} ` +
      `from http.yaml and ${basename(config.script)}, ${plural(config.workers, "worker")}; ` +
      "on_startup hooks not run)",
  );
  return 0;
}

/** The log flags, checked; a string is what is wrong with them. */
function logOverrides(
  values: { "log-format"?: string; "log-level"?: string; "access-log"?: boolean },
): LogOverrides | string {
  const format = values["log-format"];
  const level = values["log-level"];
  if (format !== undefined && format !== "pretty" && format !== "json") {
    return `--log-format: expected pretty or json, got "${format}"`;
  }
  if (level !== undefined && !["debug", "info", "warning", "error"].includes(level)) {
    return `--log-level: expected debug, info, warning or error, got "${level}"`;
  }
  return {
    format,
    level: level as LogOverrides["level"],
    access: values["access-log"],
  };
}

/** `test`: 0 when every test passed, 1 when one failed, 2 when none could run. */
async function scriptTests(paths: string[], keyword: string | null): Promise<number> {
  const log = createLogger({ level: "warning" });
  let selection;
  try {
    selection = await findTestFiles(paths.length ? paths : ["."], userFolder());
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  let counts;
  try {
    counts = await runScriptTests({ ...selection, keyword }, log, userFolder());
  } catch (e) {
    console.error(`Cannot run the tests: ${(e as Error).message}`);
    return 2;
  }
  const extra = (["skipped", "xfailed", "xpassed", "deselected"] as const)
    .filter((k) => counts[k] > 0).map((k) => `, ${counts[k]} ${k}`).join("");
  console.log(`${counts.passed} passed, ${counts.failed} failed${extra}`);
  const ran = counts.passed + counts.failed + counts.skipped + counts.xfailed + counts.xpassed;
  if (ran === 0 && keyword !== null) {
    console.error(`no test matched -k ${JSON.stringify(keyword)}`);
    return 2;
  }
  return counts.failed > 0 ? 1 : 0;
}

/** `stubs`: the .pyi files an IDE needs to complete and type-check scripts. */
async function writeStubs(out: string): Promise<number> {
  const written = await copyStubs(out);
  console.log(
    `wrote ${written.length} stub files under ${out}/ (point your IDE's stub path ` +
      `there, e.g. pyright's stubPath or mypy's mypy_path)`,
  );
  return 0;
}

/** For container health checks: 0 when `url` answers 200 within 2 s, else 1. */
async function health(url: string): Promise<number> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    if (res.status === 200) return 0;
    console.error(`${url}: HTTP ${res.status}`);
  } catch (e) {
    console.error(`${url}: ${(e as Error).message}`);
  }
  return 1;
}

/** The supervisor's own log, with the config's level, format and bounds. */
function supervisorLog(config: Config): Logger {
  const { level, format, max_line_bytes, max_bytes_per_sec } = config.log;
  return createLogger({
    level,
    format,
    maxLineBytes: max_line_bytes,
    budget: new LogBudget(max_bytes_per_sec),
  });
}
