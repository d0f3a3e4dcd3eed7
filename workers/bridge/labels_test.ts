import assert from "node:assert/strict";
import { MAX_LABEL, MAX_LABELS, RouteLabels } from "./labels.ts";

Deno.test("RouteLabels.admit() keeps known labels, cuts long ones, refuses control characters and the surplus", () => {
  const labels = new RouteLabels();
  assert.equal(labels.admit("/users/{id}"), "/users/{id}");
  assert.equal(labels.admit("x".repeat(MAX_LABEL + 50)), "x".repeat(MAX_LABEL));
  assert.equal(labels.admit(42), "42");
  assert.equal(labels.admit("/a\nINFO forged"), null);
  assert.equal(labels.admit("/tab\there"), null);
  for (let i = 0; labels.admit(`/n/${i}`) !== null; i++) assert.ok(i < MAX_LABELS);
  assert.equal(labels.admit("/late"), null, "past MAX_LABELS a new label is refused");
  assert.equal(labels.admit("/users/{id}"), "/users/{id}", "a known one still passes");
});
