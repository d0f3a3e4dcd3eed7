/**
 * The thread program behind `siphon-deno test`: loads the interpreter from the run's snapshot,
 * hands it to one {@link TestThread} (./thread/testing.ts, which holds all of this thread's
 * state and answers the harness), runs the test files and reports the counts.
 *
 * Boundary: the main thread (src/script_tests.ts) sends one src/protocol.ts `TestStart` and
 * reads `TestReport`s.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { createLogger } from "../src/log.ts";
import type { TestReport, TestStart } from "../src/protocol.ts";
import { readSiphonPackage } from "../src/pyodide/assets.ts";
import { loadPython } from "../src/snapshot/restore.ts";
import { errorText } from "./base/error_text.ts";
import { TestThread } from "./thread/testing.ts";

const post = (msg: TestReport) => self.postMessage(msg);

self.onmessage = async (event: MessageEvent<TestStart>) => {
  const start = event.data;
  try {
    const log = createLogger({ source: "test", level: "warning" });
    const files = await readSiphonPackage();
    const { py } = await loadPython({ files, env: start.env, log, snapshot: start.snapshot });
    const thread = await TestThread.open(start, py, post);
    const counts = JSON.parse(await thread.run());
    post({
      type: "done",
      passed: counts.pass,
      failed: counts.fail,
      skipped: counts.skip,
      xfailed: counts.xfail,
      xpassed: counts.xpass,
      deselected: counts.deselected,
    });
  } catch (e) {
    post({ type: "error", message: errorText(e) });
  }
};
