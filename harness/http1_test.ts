import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeRequest, MalformedResponse, ResponseParser } from "./http1.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function parseAll(text: string, splits: number[] = []): number[] {
  const bytes = enc.encode(text);
  const parser = new ResponseParser();
  const statuses: number[] = [];
  let at = 0;
  for (
    const cut of [
      ...splits.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b),
      bytes.length,
    ]
  ) {
    parser.push(bytes.subarray(at, cut), (s) => statuses.push(s));
    at = cut;
  }
  return statuses;
}

const OK = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
const CHUNKED = "HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n" +
  "3\r\nabc\r\n10;ext=1\r\n0123456789abcdef\r\n0\r\nx-trailer: 1\r\n\r\n";
const EMPTY = "HTTP/1.1 204 No Content\r\n\r\n";
const INTERIM =
  "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n";

Deno.test("encodeRequest() adds host and content-length once", () => {
  const bytes = encodeRequest({
    method: "POST",
    host: "127.0.0.1",
    port: 8080,
    path: "/x?y=1",
    headers: [["x-a", "1"]],
    body: enc.encode("hello"),
  });
  assert.equal(
    dec.decode(bytes),
    "POST /x?y=1 HTTP/1.1\r\nhost: 127.0.0.1:8080\r\nx-a: 1\r\ncontent-length: 5\r\n\r\nhello",
  );
});

Deno.test("ResponseParser counts pipelined responses of every body kind", () => {
  assert.deepEqual(parseAll(OK + CHUNKED + EMPTY + INTERIM + OK), [200, 201, 204, 500, 200]);
});

Deno.test("ResponseParser gives the same answer however the bytes are split (property)", () => {
  const stream = OK + CHUNKED + EMPTY + INTERIM + OK;
  fc.assert(fc.property(fc.array(fc.nat(stream.length), { maxLength: 12 }), (splits) => {
    assert.deepEqual(parseAll(stream, splits), [200, 201, 204, 500, 200]);
  }));
});

Deno.test("ResponseParser waits for a partial body", () => {
  const parser = new ResponseParser();
  const seen: number[] = [];
  parser.push(enc.encode("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nab"), (s) => seen.push(s));
  assert.equal(seen.length, 0);
  assert.equal(parser.idle, false);
  parser.push(enc.encode("cde"), (s) => seen.push(s));
  assert.deepEqual(seen, [200]);
  assert.equal(parser.idle, true);
});

Deno.test("ResponseParser reports connection: close", () => {
  const parser = new ResponseParser();
  parser.push(
    enc.encode("HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"),
    () => {},
  );
  assert.equal(parser.closeRequested, true);
});

Deno.test("ResponseParser rejects what is not HTTP/1.1", () => {
  for (
    const bad of [
      "garbage\r\n\r\n",
      "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
      "HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\n\r\n",
    ]
  ) {
    assert.throws(() => parseAll(bad), MalformedResponse, JSON.stringify(bad));
  }
});
