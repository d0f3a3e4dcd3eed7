import assert from "node:assert/strict";
import { acceptedOf } from "./response.ts";

Deno.test("acceptedOf() reads the subprotocol and the accept's headers, and refuses what cannot be sent", () => {
  const limits: string[] = [];
  const onLimit = (l: string) => void limits.push(l);
  assert.equal(acceptedOf("", onLimit).protocol, "");
  assert.equal(acceptedOf("chat.v2", onLimit).protocol, "chat.v2");
  const ok = acceptedOf("v1\0set-cookie\0a=1\0set-cookie\0b=2\0x-room\0lobby", onLimit);
  assert.equal(ok.protocol, "v1");
  assert.deepEqual(ok.headers.getSetCookie(), ["a=1", "b=2"]);
  assert.equal(ok.headers.get("x-room"), "lobby");
  // what a script that bypasses ws.accept() could hand over
  assert.throws(() => acceptedOf("\0x-evil\0a\r\nset-cookie: admin=1", onLimit), /0x0d/);
  assert.throws(() => acceptedOf("\0x-lonely", onLimit), /has no value/);
  assert.throws(() => acceptedOf("\0bad name\0v", onLimit), /Cannot accept the WebSocket/);
  assert.deepEqual(limits, ["response_headers", "response_headers", "response_headers"]);
});
