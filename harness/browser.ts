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

/** An open tab. */
export interface Page {
  /** Console errors, uncaught exceptions and error log entries so far. */
  readonly errors: string[];
  /** Every URL the page asked for besides its own so far (WebSockets included). */
  readonly fetched: string[];
  /** `expression`'s value in the page (JSON-able; a promise is awaited). */
  evaluate(expression: string): Promise<unknown>;
  close(): Promise<void>;
}

/** A running headless Chromium. */
export interface Browser {
  /** Opens `url` in a new tab and waits for its load event. */
  open(url: string): Promise<Page>;
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
    open: (url) => open(cdp, url),
    async visit(url, expression) {
      const page = await open(cdp, url);
      try {
        const value = await page.evaluate(expression);
        return { errors: page.errors, fetched: page.fetched, value };
      } finally {
        await page.close();
      }
    },
    async close() {
      cdp.close();
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      await child.status;
      // Chromium's helper processes may still be writing into the profile for a moment
      for (let i = 0; i < 20; i++) {
        try {
          Deno.removeSync(profile, { recursive: true });
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
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

async function open(cdp: Cdp, url: string): Promise<Page> {
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
    } else if (m.method === "Network.webSocketCreated") {
      fetched.push(p.url);
    } else if (m.method === "Page.loadEventFired") loaded();
  });
  for (const domain of ["Runtime", "Log", "Network", "Page"]) {
    await cdp.send(`${domain}.enable`, {}, sessionId);
  }
  await cdp.send("Page.navigate", { url }, sessionId);
  await load;
  return {
    errors,
    fetched,
    async evaluate(expression) {
      const { result, exceptionDetails } = await cdp.send(
        "Runtime.evaluate",
        { expression, returnByValue: true, awaitPromise: true },
        sessionId,
      );
      if (exceptionDetails) {
        throw new Error(
          `in the page: ${exceptionDetails.exception?.description ?? exceptionDetails.text}`,
        );
      }
      return result.value;
    },
    async close() {
      stop();
      await cdp.send("Target.closeTarget", { targetId });
    },
  };
}
