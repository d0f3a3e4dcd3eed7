/**
 * Hot reload under load: 10 edits (3 bad) to the route table and the script while the driver
 * keeps 32 connections busy. No request may fail; good edits show up, bad ones are reported
 * and the old generation keeps serving.
 */
import assert from "node:assert/strict";
import { reloadSoak } from "../harness/reload_soak.ts";
import { freePort } from "./_server.ts";

Deno.test("hot reload under load: 0 failed requests over 10 edits, bad edits ignored", async () => {
  const { edits, load, logs } = await reloadSoak({ port: freePort() });
  for (const e of edits) {
    console.log(`  ${e.good ? "good" : "bad "} ${Math.round(e.ms)} ms  ${e.name}`);
  }
  console.log(`  load: ${load.requests} requests, ${load.errors} errors`);
  assert.equal(edits.length, 10);
  assert.equal(edits.filter((e) => !e.good).length, 3);
  assert.ok(load.requests > 1000, `only ${load.requests} requests`);
  assert.equal(load.errors, 0, JSON.stringify(load));
  for (const e of edits) {
    // The bound: every edit shows (or is reported) within 1.5 s, under load.
    assert.ok(e.ms <= 1500, `${e.name}: ${Math.round(e.ms)} ms`);
    if (!e.good) assert.equal(e.oldKeptServing, true, `${e.name}: old generation stopped serving`);
  }
  assert.match(logs, /reload failed \(file change\); generation \d+ keeps serving/);
  assert.match(logs, /YAML syntax error/);
  assert.match(logs, /RuntimeError: bad edit/);
  assert.match(logs, /it can never be told apart from GET \/ping/);
  assert.match(logs, /reloaded \(file change\): generation 8 serving/);
});
