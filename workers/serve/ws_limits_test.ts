import assert from "node:assert/strict";
import { inboxCap, Unread } from "./ws_limits.ts";

const server = { ws_max_message_bytes: 1000, ws_max_unread_bytes: 20 << 20 };

Deno.test("inboxCap() is 16 MiB or four messages, never over the listener's sum", () => {
  assert.equal(inboxCap(server), 16 << 20);
  assert.equal(inboxCap({ ws_max_message_bytes: 8 << 20, ws_max_unread_bytes: 1 << 30 }), 32 << 20);
  assert.equal(inboxCap({ ws_max_message_bytes: 8 << 20, ws_max_unread_bytes: 1000 }), 1000);
});

Deno.test("Unread bounds one socket, and all of a listener's together", () => {
  const unread = new Unread();
  const a = { listen: "x:1", queued: 0 };
  const b = { listen: "x:1", queued: 0 };
  const other = { listen: "x:2", queued: 0 };
  assert.equal(unread.add(a, 15 << 20, server), null);
  assert.match(unread.add(a, 2 << 20, server)!, /left over 16777216 bytes unread/);
  assert.match(unread.add(b, 6 << 20, server)!, /sockets on x:1 hold over ws_max_unread_bytes/);
  assert.equal(unread.add(other, 6 << 20, server), null, "another listener has its own sum");
  unread.take(a, 10 << 20);
  assert.equal(unread.add(b, 6 << 20, server), null);
  unread.drop(a);
  assert.equal(a.queued, 0);
  assert.equal(unread.sum("x:1"), 6 << 20);
});
