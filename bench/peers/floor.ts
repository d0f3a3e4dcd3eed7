// The floor: the least this design (Deno.serve + Pyodide in a worker) can do per request, for
// bench/cpu.ts and bench/stages.ts. One worker thread runs Deno.serve and one Pyodide
// interpreter; the handlers' logic of bench/app/app.py is called directly as Python functions
// with a handful of string arguments — no router, no Request or Response object, no deadline, no
// metrics. A prototype written only to be the floor: `floor.ts PORT`.
import { loadPyodide } from "pyodide";
import type { PyCallable } from "pyodide/ffi";
import { PYODIDE_DIR } from "../../src/pyodide/assets.ts";
import { portArgument } from "./_port.ts";

const port = portArgument();
const inWorker =
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined";

if (!inWorker) {
  const worker = new Worker(import.meta.url, { type: "module" });
  worker.postMessage(port);
} else {
  self.addEventListener("message", async (event) => {
    const e = event as MessageEvent<number>;
    const py = await loadPyodide({ indexURL: PYODIDE_DIR });
    py.runPython(`
import json

def trivial():
    return "ok"

def realistic(id, page, sort, request_id, body):
    data = json.loads(body)
    return json.dumps({"id": int(id), "page": int(page or "1"), "sort": sort,
                       "request_id": request_id, "items": len(data.get("items", []))})
`);
    const trivial = py.globals.get("trivial") as PyCallable;
    const realistic = py.globals.get("realistic") as PyCallable;
    const json = { "content-type": "application/json" };
    Deno.serve({ hostname: "127.0.0.1", port: e.data, onListen: () => {} }, async (req) => {
      const url = new URL(req.url);
      if (url.pathname === "/trivial") return new Response(trivial() as string);
      const m = /^\/realistic\/(-?\d+)$/.exec(url.pathname);
      if (m && req.method === "POST") {
        const q = url.searchParams;
        const out = realistic(
          m[1],
          q.get("page"),
          q.get("sort"),
          req.headers.get("x-request-id"),
          await req.text(),
        ) as string;
        return new Response(out, { headers: json });
      }
      return new Response("Not Found", { status: 404 });
    });
  });
}
