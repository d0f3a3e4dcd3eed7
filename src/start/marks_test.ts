import assert from "node:assert/strict";
import { createLogger } from "../log.ts";
import { epochNow, logMarks, mark } from "./marks.ts";

Deno.test("logMarks() logs each mark once at debug; after `last` no more are kept", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", write: (line) => lines.push(line) });
  logMarks(createLogger({ level: "error" })); // whatever other modules noted before
  const at = epochNow();
  mark("one", at);
  mark("two");
  logMarks(log);
  assert.equal(lines.length, 2);
  assert.match(lines[0], new RegExp(`DEBUG +\\[main\\] startup: one at ${at.toFixed(1)}\\n$`));
  logMarks(log);
  assert.equal(lines.length, 2, "each mark is logged once");
  mark("three");
  logMarks(log, { last: true });
  mark("after the start");
  logMarks(log);
  assert.deepEqual(lines.slice(2).map((l) => l.split("startup: ")[1].split(" at ")[0]), ["three"]);
});
