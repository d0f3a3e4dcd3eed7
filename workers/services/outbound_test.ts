import assert from "node:assert/strict";
import { redirectOf } from "./outbound.ts";

const hop = (method: string, body: string | null = "data") => ({
  method,
  url: "http://a.example/start",
  headers: new Headers({ authorization: "Bearer x", "content-type": "text/plain", "x-k": "1" }),
  body: body === null ? null : new TextEncoder().encode(body),
});
const moved = (status: number, location: string) =>
  new Response(null, { status, headers: { location } });

Deno.test("redirectOf: which responses lead on, and to what request", () => {
  assert.equal(redirectOf(new Response("ok"), hop("GET")), null);
  assert.equal(redirectOf(new Response(null, { status: 302 }), hop("GET")), null, "no location");
  assert.equal(redirectOf(moved(300, "/x"), hop("GET")), null, "300 is not followed");
  assert.equal(redirectOf(moved(302, "ftp://a.example/x"), hop("GET")), null);

  const post302 = redirectOf(moved(302, "/next?q=1"), hop("POST"))!;
  assert.deepEqual([post302.method, post302.url, post302.body], [
    "GET",
    "http://a.example/next?q=1",
    null,
  ]);
  assert.equal(post302.headers.get("content-type"), null);
  assert.equal(post302.headers.get("authorization"), "Bearer x", "same origin keeps credentials");

  assert.equal(redirectOf(moved(301, "/h"), hop("HEAD", null))!.method, "HEAD");
  const put307 = redirectOf(moved(307, "http://b.example/y"), hop("PUT"))!;
  assert.deepEqual([put307.method, new TextDecoder().decode(put307.body!)], ["PUT", "data"]);
  assert.equal(put307.headers.get("authorization"), null, "another origin drops credentials");
  assert.equal(put307.headers.get("x-k"), "1");
});
