import * as assert from "node:assert/strict";
import { capped, createHeldLogger, createLogger, LogBudget } from "./log.ts";

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

Deno.test("createLogger() cuts a long message and says how much went", () => {
  const { writes, write } = sink();
  const log = createLogger({ write, format: "json", maxLineBytes: 1024 });
  log.info("x".repeat(100_000));
  log.info("é".repeat(600)); // 1,200 bytes: cut inside no character
  const [a, b] = writes.map((w) => JSON.parse(w).msg as string);
  assert.equal(a, "x".repeat(1024) + "… [truncated: 98976 more bytes]");
  assert.equal(b, "é".repeat(512) + "… [truncated: 176 more bytes]");
  assert.equal(capped("short", 1024), "short");
});

Deno.test("LogBudget drops lines past its rate and the next line written says how many", () => {
  const budget = new LogBudget(1000);
  const t = 1_000_000;
  assert.equal(budget.take(600, t), true);
  assert.equal(budget.take(600, t), false);
  assert.equal(budget.take(600, t + 100), false); // 500 tokens by now
  assert.equal(budget.take(300, t + 200), true);
  assert.match(
    budget.summary(t + 200)!,
    /^log: suppressed 2 lines \(1200 bytes\) in the last 0\.2 s/,
  );
  assert.equal(budget.summary(t + 300), null);
  assert.equal(new LogBudget(0).take(1e9), true);
});

Deno.test("createLogger() with a budget: a flood is cut to the rate, then summarised; access lines pass", async () => {
  const { writes, write } = sink();
  const log = createLogger({ write, budget: new LogBudget(4096), source: "w1" });
  for (let i = 0; i < 1000; i++) log.info(`line ${i} ${"y".repeat(100)}`);
  for (let i = 0; i < 50; i++) log.access(`GET /${i} 200`, { status: 200 });
  const written = writes.filter((w) => w.includes(" line ")).length;
  assert.ok(written > 0 && written < 60, `wrote ${written} of 1000`);
  assert.equal(writes.filter((w) => w.includes("GET /")).length, 50);
  // The summary comes by itself a second after the first drop.
  await new Promise((r) => setTimeout(r, 1100));
  const summary = writes.find((w) => w.includes("suppressed"));
  assert.match(
    summary ?? "",
    /WARNING \[w1\] log: suppressed \d+ lines .*log\.max_bytes_per_sec \(4096\)/,
  );
});
