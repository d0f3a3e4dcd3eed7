/**
 * Builds a Pyodide memory snapshot with the siphon package and common stdlib modules imported —
 * and, when the config installs `python.packages`, their top-level modules too, so a worker's
 * start does not import them again — then exits. Run by the supervisor when its cache has no
 * snapshot for this Pyodide + siphon package + set of wheels.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { createLogger } from "../log.ts";
import type { FromSnapshotBuilder, ToSnapshotBuilder } from "../protocol.ts";
import { readSiphonPackage } from "../pyodide/assets.ts";
import { loadPython } from "./restore.ts";
import { mountFolder } from "../pyodide/mounts.ts";

/** Imports every top-level module of the site folder; returns what failed, and why. */
const IMPORT_SITE = `
import importlib, json, os, sys
def _import_site(site):
    if site not in sys.path:
        sys.path.insert(1, site)
    skipped = []
    for entry in sorted(os.listdir(site)):
        name = entry[:-3] if entry.endswith(".py") else entry
        package = os.path.isfile(os.path.join(site, entry, "__init__.py"))
        if entry.startswith((".", "_")) or not name.isidentifier():
            continue
        if not (entry.endswith(".py") or package):
            continue
        try:
            importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001 - any failure leaves it to the workers
            for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
                del sys.modules[loaded]
            skipped.append(f"{name} not imported into the snapshot ({type(exc).__name__}: {exc})")
    return json.dumps(skipped)
_import_site
`;

self.onmessage = async (event: MessageEvent<ToSnapshotBuilder>) => {
  if (event.data.type !== "build") return;
  const post = (msg: FromSnapshotBuilder, transfer: Transferable[] = []) =>
    self.postMessage(msg, transfer);
  try {
    const t0 = performance.now();
    const { py } = await loadPython({
      files: await readSiphonPackage(),
      env: {},
      log: createLogger({ source: "snapshot" }),
      makeSnapshot: true,
      wasm: event.data.wasm,
    });
    let skipped: string[] = [];
    const { site } = event.data;
    if (site) {
      mountFolder(py, site, "ro");
      const importSite = py.runPython(IMPORT_SITE);
      skipped = JSON.parse(importSite(site));
      importSite.destroy();
    }
    const bytes = py.makeMemorySnapshot();
    const ms = performance.now() - t0;
    post({ type: "snapshot", bytes, ms, skipped }, [bytes.buffer as ArrayBuffer]);
  } catch (e) {
    post({ type: "fatal", message: (e as Error).message });
  }
};
