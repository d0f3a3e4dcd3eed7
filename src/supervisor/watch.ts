/**
 * Watches the files a reload depends on and calls back once per real change.
 *
 * Editors save by writing a temporary file and renaming it over the original, which leaves a
 * watch on the file itself silent (docs/internals.md), so this watches the folders, keeps the events
 * that touch a watched file, debounces them, and compares a hash of the contents so a save or
 * touch without change does nothing. One watcher per folder. A file being written (`sed … >
 * app.py` truncates first) must settle — size and modification time unchanged over
 * `settleMs` — before it is read: a half-written script never becomes a generation.
 *
 * @module
 */
import { sha256Hex } from "../digest.ts";
import { dirname, join, resolve } from "node:path";

/** Options for {@link FileWatcher}. */
export interface WatchOptions {
  /** The files to watch, re-read on {@link FileWatcher.refresh} (a reload may change them). */
  files: () => string[];
  /** Called after the contents changed and stayed still for `debounceMs`. */
  onChange: () => void | Promise<void>;
  /** Quiet time before a change counts. @default 100 */
  debounceMs?: number;
  /** How long every watched file's size and mtime must stay the same before it is read.
   * @default 200 */
  settleMs?: number;
}

/** Watches folders for changes to a set of files. */
export class FileWatcher {
  readonly #options: WatchOptions;
  readonly #watchers = new Map<string, Deno.FsWatcher>();
  #files = new Set<string>();
  #hash = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** @param options files, callback, debounce */
  constructor(options: WatchOptions) {
    this.#options = options;
  }

  /**
   * Takes the baseline: the contents the server is about to load. Call it before loading, so
   * an edit made while the server starts is not mistaken for the baseline.
   */
  async baseline(): Promise<void> {
    this.#hash = await this.#contentHash();
  }

  /** Starts watching, and checks once at once for edits made since {@link baseline}. */
  async start(): Promise<void> {
    if (!this.#hash) await this.baseline();
    this.refresh();
    this.#schedule();
  }

  /** Re-reads the file list and watches any new folder (after a reload moved things). */
  refresh(): void {
    this.#files = new Set(this.#options.files());
    const folders = new Set([...this.#files].map((f) => dirname(f)));
    for (const folder of folders) {
      if (this.#watchers.has(folder)) continue;
      const watcher = Deno.watchFs(folder, { recursive: false });
      this.#watchers.set(folder, watcher);
      this.#pump(folder, watcher);
    }
    for (const [folder, watcher] of this.#watchers) {
      if (folders.has(folder)) continue;
      watcher.close();
      this.#watchers.delete(folder);
    }
  }

  /** Stops watching. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }

  async #pump(folder: string, watcher: Deno.FsWatcher): Promise<void> {
    try {
      for await (const event of watcher) {
        if (event.paths.some((p) => this.#relevant(folder, p))) this.#schedule();
      }
    } catch { /* closed */ }
  }

  #relevant(folder: string, path: string): boolean {
    // New .py files beside the script count too: the script may import them next; so do new
    // wheels in the wheelhouse.
    return this.#files.has(path) ||
      (/\.(py|whl)$/.test(path) && dirname(path) === folder);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(async () => {
      if (this.#closed) return;
      const before = await this.#stats();
      await new Promise((r) => setTimeout(r, this.#options.settleMs ?? 200));
      if (this.#closed) return;
      if (await this.#stats() !== before) {
        this.#schedule(); // still being written
        return;
      }
      const hash = await this.#contentHash();
      if (hash === this.#hash) return;
      this.#hash = hash;
      await this.#options.onChange();
    }, this.#options.debounceMs ?? 100);
  }

  /** Size and mtime of every watched file, as one string to compare. */
  async #stats(): Promise<string> {
    const parts: string[] = [];
    for (const file of this.#options.files()) {
      const info = await Deno.stat(file).catch(() => null);
      parts.push(info ? `${file}:${info.size}:${info.mtime?.getTime()}` : `${file}:missing`);
    }
    return parts.join("\n");
  }

  async #contentHash(): Promise<string> {
    const parts: (string | Uint8Array)[] = [];
    for (const file of this.#options.files()) {
      parts.push(`\0${file}\0`);
      try {
        parts.push(await Deno.readFile(file)); // bytes: wheels are zip files
      } catch {
        parts.push("\0missing");
      }
    }
    return await sha256Hex(parts);
  }
}

/**
 * The files whose change means a reload: the config files (an http.yaml, or a siphon.yaml and
 * its addon config), the script, the `.py` files beside the script (modules it may import) and,
 * when the config installs `python.packages`, the wheelhouse's wheels and lock file.
 *
 * @param config the config's files and script
 * @param configFile the config file as named on the command line, when the config knows none
 * @returns absolute paths, sorted
 */
export function watchedFilesFor(
  config: {
    sources: string[];
    script: string;
    python?: { packages: readonly string[]; wheelhouse: string };
  },
  configFile?: string,
): string[] {
  const { script } = config;
  const scriptDir = dirname(script);
  const sources = config.sources.length || !configFile ? config.sources : [resolve(configFile)];
  const files = new Set([...sources, script]);
  try {
    for (const e of Deno.readDirSync(scriptDir)) {
      if (e.isFile && e.name.endsWith(".py")) files.add(join(scriptDir, e.name));
    }
  } catch { /* the folder went away; the reload will say so */ }
  const python = config.python;
  if (python?.packages.length) {
    files.add(join(python.wheelhouse, "pyodide-lock.json"));
    try {
      for (const e of Deno.readDirSync(python.wheelhouse)) {
        if (e.isFile && e.name.endsWith(".whl")) files.add(join(python.wheelhouse, e.name));
      }
    } catch { /* no wheelhouse: the reload will say so */ }
  }
  return [...files].sort();
}
