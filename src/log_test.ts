import * as assert from "node:assert/strict";
import { createHeldLogger, createLogger } from "./log.ts";

function sink() {
  const writes: string[] = [];
  return { writes, write: (text: string) => writes.push(text) };
}

Deno.test("createLogger() writes one JSON object per line with the fields merged in", () => {
  const { writes, write } = sink();
  const log = createLogger({ format: "json", source: "w2", write });
  log.info("GET / 200", { request_id: "r-1", status: 200, route: undefined });
  log.error("two\nlines");
  const [a, b] = writes.map((w) => JSON.parse(w));
  assert.deepEqual({ ...a, ts: "" }, {
    ts: "",
    level: "info",
    source: "w2",
    msg: "GET / 200",
    request_id: "r-1",
    status: 200,
  });
  assert.equal(b.msg, "two\nlines");
  assert.ok(writes.every((w) => w.endsWith("\n") && w.indexOf("\n") === w.length - 1));
});

Deno.test("createLogger() appends fields as key=value in pretty lines", () => {
  const { writes, write } = sink();
  createLogger({ write, source: "w1" }).warning("slow", { request_id: "r-2", ms: 3 });
  assert.match(writes[0], /^\S+ WARNING \[w1\] slow request_id=r-2 ms=3\n$/);
});

Deno.test("createLogger() drops lines below its level", () => {
  const { writes, write } = sink();
  const log = createLogger({ level: "warning", write });
  log.debug("d");
  log.info("i");
  log.at("warning", "w");
  assert.equal(writes.length, 1);
  log.access("GET / 200", { status: 200 });
  assert.equal(writes.length, 2, "access lines do not depend on the level");
  assert.equal(log.enabled("info"), false);
  assert.equal(log.enabled("error"), true);
});

Deno.test("createLogger({ buffered }) batches info lines and keeps the order around a warning", async () => {
  const { writes, write } = sink();
  const log = createLogger({ buffered: true, format: "json", write });
  log.info("a");
  log.info("b");
  assert.equal(writes.length, 0, "info lines wait");
  log.warning("c");
  assert.deepEqual(writes.map((w) => w.split("\n").filter(Boolean).map((l) => JSON.parse(l).msg)), [
    ["a", "b"],
    ["c"],
  ]);
  log.info("d");
  assert.equal(writes.length, 2, "d waits for the flush timer");
  // The timer writes it, with no other call: wait for that event.
  while (writes.length < 3) await new Promise((r) => setTimeout(r, 5));
  assert.equal(JSON.parse(writes[2]).msg, "d");
  log.info("e");
  log.flush();
  assert.equal(JSON.parse(writes[3]).msg, "e");
});

Deno.test("createLogger({ buffered }) writes once 64 KiB wait", () => {
  const { writes, write } = sink();
  const log = createLogger({ buffered: true, write });
  for (let i = 0; i < 1000 && writes.length === 0; i++) log.info("x".repeat(200));
  assert.equal(writes.length, 1);
  assert.ok(writes[0].length >= 64 * 1024);
  log.flush();
});

Deno.test("createHeldLogger() holds lines until released, then writes them and later ones in order", () => {
  const { writes, write } = sink();
  const held = createHeldLogger();
  held.info("first");
  held.debug("dropped by the target's level");
  held.warning("second", { ms: 1 });
  assert.equal(writes.length, 0);
  held.release(createLogger({ format: "json", source: "w1", write }));
  held.error("third");
  assert.deepEqual(writes.map((w) => JSON.parse(w).msg), ["first", "second", "third"]);
  assert.equal(JSON.parse(writes[1]).ms, 1);
  assert.equal(held.enabled("debug"), false);
});
