/**
 * A headless Chromium for the tests that check a page a person sees (the driver's HTML report):
 * Debian's `/usr/bin/chromium`, driven over the DevTools protocol on a WebSocket, with nothing
 * but Deno. (playwright-core probes `/proc/sys/fs/binfmt_misc/WSLInterop` when it loads, which
 * Deno lets only a fully privileged process read; the tests run with their permission set.)
 *
 * The browser gets a fresh profile and no background networking (this machine's network is
 * closed, and Chromium would otherwise try Google's hosts at every start).
 *
 * @module
 */

/** Where Debian installs Chromium (`apt-get install chromium`). */
export const CHROMIUM = "/usr/bin/chromium";

/** What a page did while it loaded. */
export interface PageVisit {
  /** Console errors, uncaught exceptions and error log entries. */
  errors: string[];
  /** Every URL the page asked for besides its own file. */
  fetched: string[];
  /** `expression`'s value, evaluated in the page once it loaded (JSON-able). */
  value: unknown;
}

/** A running headless Chromium. */
export interface Browser {
  /**
   * Opens `url` in a new tab, waits for its load event, evaluates `expression` there, closes
   * the tab.
   */
  visit(url: string, expression: string): Promise<PageVisit>;
  close(): Promise<void>;
}

/**
 * Starts Chromium.
 *
 * @returns the browser
 * @throws {Error} when Chromium is missing or does not start
 */
export async function launchChromium(): Promise<Browser> {
  try {
    Deno.statSync(CHROMIUM);
  } catch {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)`);
  }
  const profile = Deno.makeTempDirSync({ prefix: "siphon-chromium-" });
  const child = new Deno.Command(CHROMIUM, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      `--user-data-dir=${profile}`,
      "--remote-debugging-address=127.0.0.1",
      "--remote-debugging-port=0",
      "about:blank",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const endpoint = await devtoolsUrl(child.stderr);
  const cdp = await Cdp.connect(endpoint);
  return {
    visit: (url, expression) => visit(cdp, url, expression),
    async close() {
      cdp.close();
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      Deno.removeSync(profile, { recursive: true });
    },
  };
}

/** Reads Chromium's stderr until it names its DevTools endpoint; drains the rest. */
async function devtoolsUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    const m = /DevTools listening on (ws:\/\/\S+)/.exec(text);
    if (m) {
      (async () => {
        while (!(await reader.read()).done) { /* keep the pipe from filling */ }
      })().catch(() => {});
      return m[1];
    }
  }
  throw new Error(`Chromium did not start:\n${text}`);
}

/** DevTools messages are JSON whose shape depends on the method. */
// deno-lint-ignore no-explicit-any
type Json = any;

interface Message {
  id?: number;
  method?: string;
  params?: Json;
  result?: Json;
  error?: Json;
  sessionId?: string;
}

/** One DevTools connection: numbered calls, and events handed to listeners. */
class Cdp {
  #ws: WebSocket;
  #next = 0;
  #calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #listeners = new Set<(m: Message) => void>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.onmessage = (e) => {
      const m = JSON.parse(e.data as string) as Message;
      if (m.id !== undefined) {
        const call = this.#calls.get(m.id);
        this.#calls.delete(m.id);
        if (m.error) call?.reject(new Error(`DevTools: ${JSON.stringify(m.error)}`));
        else call?.resolve(m.result);
      } else for (const l of this.#listeners) l(m);
    };
  }

  static connect(url: string): Promise<Cdp> {
    const ws = new WebSocket(url);
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve(new Cdp(ws));
      ws.onerror = () => reject(new Error(`cannot reach Chromium's DevTools at ${url}`));
    });
  }

  send(method: string, params: object = {}, sessionId?: string): Promise<Json> {
    const id = ++this.#next;
    this.#ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise((resolve, reject) => this.#calls.set(id, { resolve, reject }));
  }

  listen(fn: (m: Message) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  close(): void {
    this.#ws.close();
  }
}

async function visit(cdp: Cdp, url: string, expression: string): Promise<PageVisit> {
  const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
  const errors: string[] = [];
  const fetched: string[] = [];
  let loaded!: () => void;
  const load = new Promise<void>((resolve) => loaded = resolve);
  const stop = cdp.listen((m) => {
    if (m.sessionId !== sessionId) return;
    const p = m.params;
    if (m.method === "Runtime.consoleAPICalled" && p.type === "error") {
      errors.push(p.args.map((a: { value?: unknown }) => String(a.value)).join(" "));
    } else if (m.method === "Runtime.exceptionThrown") {
      errors.push(p.exceptionDetails.exception?.description ?? p.exceptionDetails.text);
    } else if (m.method === "Log.entryAdded" && p.entry.level === "error") {
      errors.push(p.entry.text);
    } else if (m.method === "Network.requestWillBeSent" && p.request.url !== url) {
      fetched.push(p.request.url);
    } else if (m.method === "Page.loadEventFired") loaded();
  });
  try {
    for (const domain of ["Runtime", "Log", "Network", "Page"]) {
      await cdp.send(`${domain}.enable`, {}, sessionId);
    }
    await cdp.send("Page.navigate", { url }, sessionId);
    await load;
    const { result, exceptionDetails } = await cdp.send(
      "Runtime.evaluate",
      { expression, returnByValue: true },
      sessionId,
    );
    if (exceptionDetails) throw new Error(`in the page: ${exceptionDetails.text}`);
    return { errors, fetched, value: result.value };
  } finally {
    stop();
    await cdp.send("Target.closeTarget", { targetId });
  }
}
