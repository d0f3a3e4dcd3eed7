/**
 * The two halves of the JS↔Python contract agree: Python's `siphon._contract`, read from a real
 * interpreter, names the same separators, request sections (in the same order), markers,
 * services and entry points as ./contract.ts — and the modules JS calls define every entry.
 * Then a request packed by JS is read back by Python section by section.
 */
import assert from "node:assert/strict";
import { createLogger } from "../../src/log.ts";
import { readSiphonPackage } from "../../src/pyodide/assets.ts";
import { loadPython } from "../../src/snapshot/restore.ts";
import {
  APP_PARTS,
  ENTRY_NAMES,
  ITEM,
  JSON_SECTION,
  MARKERS,
  packRequest,
  REQUEST_SECTIONS,
  SECTION,
  SERVICE_NAMES,
  TOO_LARGE_PREFIX,
} from "./contract.ts";

const log = createLogger({ level: "error" });
const { py } = await loadPython({ files: await readSiphonPackage(), env: {}, log });
const python = (code: string): unknown => JSON.parse(py.runPython(code));

Deno.test("Python's siphon._contract names what contract.ts names, in the same order", () => {
  const side = python(`
import json
from siphon import _contract as c
json.dumps({"section": c.SECTION, "item": c.ITEM, "json": c.JSON_SECTION,
            "sections": c.REQUEST_SECTIONS, "markers": c.MARKERS, "services": c.SERVICES,
            "entries": c.ENTRIES, "too_large": c.TOO_LARGE_PREFIX, "app_parts": c.APP_PARTS})
`);
  assert.deepEqual(side, {
    section: SECTION,
    item: ITEM,
    json: JSON_SECTION,
    sections: [...REQUEST_SECTIONS],
    markers: Object.keys(MARKERS),
    services: [...SERVICE_NAMES],
    entries: ENTRY_NAMES,
    too_large: TOO_LARGE_PREFIX,
    app_parts: [...APP_PARTS],
  });
});

Deno.test("every entry point JS calls is defined by its Python module", () => {
  const missing = python(`
import importlib, json
from siphon import _contract as c
json.dumps([f"{m}.{n}" for m, names in c.ENTRIES.items() for n in names
            if not hasattr(importlib.import_module(m), n)])
`);
  assert.deepEqual(missing, []);
});

Deno.test("a request packed by JS is read back by Python, section by section", () => {
  const parts = {
    method: "POST",
    path: "/a/b",
    client: "10.0.0.1:5",
    query: ["k", "v", "odd", "x\0y"],
    headers: ["host", "h", "x-y", "z"],
    params: ["7"],
    clientCert: "",
    requestId: "rid-1",
    seq: 12,
  };
  py.globals.set("packed", packRequest({ ...parts, mayHaveControl: true }) + "9");
  const read = python(`
import json
from siphon import _contract as c, _wire
parts = dict(zip(c.REQUEST_SECTIONS, packed.split(c.SECTION)))
for name in ("query", "headers", "params"):
    parts[name] = _wire.values(parts[name])
json.dumps(parts)
`);
  const { clientCert: cert, requestId: request_id, seq, ...rest } = parts;
  assert.deepEqual(read, { ...rest, cert, request_id, seq: String(seq), stream: "9" });
});

Deno.test("the services are attached once: a second attach is refused", () => {
  const refused = python(`
import json
from siphon import _contract as c
c.host.attached = None
c.attach(object())
try:
    c.attach(object())
    out = "attached twice"
except RuntimeError as exc:
    out = str(exc)
json.dumps(out)
`);
  assert.match(String(refused), /attached already/);
});
