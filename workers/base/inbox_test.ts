import assert from "node:assert/strict";
import { Inbox } from "./inbox.ts";

Deno.test("Inbox: queued items come at once, in order; a waiting reader gets the next by hand", () => {
  const inbox = new Inbox<string>();
  inbox.push("a");
  inbox.push("b");
  const refuse = () => false;
  assert.equal(inbox.take(refuse), "a");
  assert.equal(inbox.take(refuse), "b");
  const handed: (string | undefined)[] = [];
  assert.equal(inbox.take((item) => (handed.push(item), true)), false);
  inbox.push("c");
  assert.deepEqual(handed, ["c"]);
  assert.equal(inbox.length, 0);
});

Deno.test("Inbox: a reader that gave up refuses the hand-over and loses nothing", () => {
  const inbox = new Inbox<string>();
  assert.equal(inbox.take(() => false), false);
  inbox.push("kept");
  assert.equal(inbox.length, 1);
  assert.equal(inbox.take(() => true), "kept");
});

Deno.test("Inbox: closing hands the end to a waiting reader; queued items still come first", () => {
  const inbox = new Inbox<number>();
  const ends: (number | undefined)[] = [];
  assert.equal(inbox.take((item) => (ends.push(item), true)), false);
  inbox.close();
  assert.deepEqual(ends, [undefined]);
  const other = new Inbox<number>();
  other.push(1);
  other.close();
  assert.equal(other.push(2), false);
  assert.equal(other.take(() => true), 1);
  assert.equal(other.take(() => true), null);
});
