/**
 * What clients sending WebSocket messages far over the limit make a server hold before it
 * refuses them: `deno task bench:oversize`. K clients (BENCH_CLIENTS, default "1,10,40") each
 * send one text frame of BENCH_FRAME_MB (60) MiB to a socket whose limit is 64 KiB; the peak
 * RSS growth of the server over its idle RSS is reported, and per client. Each measurement runs
 * on a fresh server (freed memory is not always given back, so a second one would read low).
 *
 * Servers: siphon-deno (2 workers, `ws_max_message_bytes: 65536`), uvicorn+starlette
 * (2 processes, `--ws-max-size 65536`; needs Debian's python3-websockets — with wsproto alone
 * uvicorn 0.17 takes the whole message), plain Deno.serve echoing in JS with the same check
 * (2 workers). Everything on 127.0.0.1.
 *
 * @module
 */
import { peakGrowth, rssMiB, siphonCommand, startProc, toolArgs, uvicornCommand } from "./_proc.ts";
import { handshakeRequest } from "../harness/ws_raw.ts";
import { freePort } from "../harness/launch.ts";

const counts = (Deno.env.get("BENCH_CLIENTS") ?? "1,10,40").split(",").map(Number);
const frameMiB = Number(Deno.env.get("BENCH_FRAME_MB") ?? 60);
const LIMIT = 65536;

interface Peer {
  name: string;
  children: boolean;
  start: (port: number) => { cmd: string[]; env?: Record<string, string> };
}

const siphon = siphonCommand("bench/app/http.yaml");
const peers: Peer[] = [
  {
    name: "siphon-deno, 2 workers",
    children: false,
    start: (port) => ({
      cmd: siphon.cmd,
      env: { ...siphon.env, PORT: String(port), WORKERS: "2", WS_MAX_BYTES: String(LIMIT) },
    }),
  },
  {
    name: "uvicorn+starlette, 2 processes",
    children: true,
    start: (port) => ({ cmd: [...uvicornCommand(port, 2), "--ws-max-size", String(LIMIT)] }),
  },
  {
    name: "plain Deno.serve, 2 workers",
    children: false,
    start: (port) => ({
      cmd: toolArgs("serve", "bench/peers/plain_ws.ts", [String(port), "2", String(LIMIT)]),
    }),
  },
];

/** One frame header for a masked text frame of `size` bytes (masking key 0: payload as is). */
function header(size: number): Uint8Array {
  const h = new Uint8Array(14);
  h[0] = 0x81; // text: every peer's echo takes text
  h[1] = 0x80 | 127;
  new DataView(h.buffer).setBigUint64(2, BigInt(size));
  return h; // bytes 10..13: the zero masking key
}

/**
 * Upgrades, sends the frame, and returns what the server did about it: the close code it sent,
 * "echoed" (it took the message), or "closed" (the connection ended without a close frame).
 */
async function oversize(port: number, payload: Uint8Array): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buf = new Uint8Array(65536);
  try {
    await conn.write(handshakeRequest(port, "/ws/echo"));
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) return "no handshake";
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    if (!head.startsWith("HTTP/1.1 101")) return head.split("\r\n")[0];
    // The server may answer (a close frame) before the frame is all sent: read meanwhile.
    const answer = (async () => {
      const n = await conn.read(buf).catch(() => null);
      if (n === null) return "closed";
      const opcode = buf[0] & 0x0f;
      if (opcode === 8) return n >= 4 ? String((buf[2] << 8) | buf[3]) : "close frame";
      return "echoed";
    })();
    const sending = (async () => {
      await conn.write(header(payload.byteLength));
      for (let sent = 0; sent < payload.byteLength;) {
        sent += await conn.write(payload.subarray(sent));
      }
    })().catch(() => {}); // the server closed the connection mid-frame
    const result = await answer;
    conn.close();
    await sending;
    return result;
  } catch (e) {
    conn.close();
    return (e as Error).name;
  }
}

const payload = new Uint8Array(frameMiB << 20).fill(97);
const rows: string[] = [];
for (const peer of peers) {
  for (const k of counts) {
    const port = freePort();
    const spec = peer.start(port);
    const proc = await startProc({ ...spec, url: `http://127.0.0.1:${port}/trivial` });
    try {
      await new Promise((r) => setTimeout(r, 1000));
      const pid = proc.child.pid;
      const idle = await rssMiB(pid, { children: peer.children });
      const [codes, peak] = await peakGrowth(
        pid,
        () => Promise.all(Array.from({ length: k }, () => oversize(port, payload))),
        { children: peer.children }, // uvicorn's workers are children of its main process
      );
      const tally = Object.entries(
        codes.reduce<Record<string, number>>((a, c) => ({ ...a, [c]: (a[c] ?? 0) + 1 }), {}),
      ).map(([c, n]) => `${n}× ${c}`).join(", ");
      rows.push(
        `| ${peer.name} | ${k} | ${idle.toFixed(0)} MiB | +${peak.toFixed(0)} MiB | ` +
          `${(peak / k).toFixed(1)} MiB | ${tally} |`,
      );
      console.error(rows.at(-1));
    } finally {
      await proc.stop();
    }
  }
}
console.log(
  `\nK clients each send one ${frameMiB} MiB text frame to a 64 KiB limit; peak RSS growth ` +
    "of the server (uvicorn: its processes together) over idle\n",
);
console.log("| server | clients | idle RSS | peak growth | per client | close codes |");
console.log("| --- | ---: | ---: | ---: | ---: | --- |");
for (const row of rows) console.log(row);
