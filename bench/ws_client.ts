/**
 * The WebSocket load client of bench/ws.ts, a process of its own (so the server's CPU is the
 * server's). Targets 127.0.0.1 only; every mode ends by itself.
 *
 * `echo URL CONNECTIONS SECONDS`: each connection sends a 32-byte text message and waits for its
 * echo, again and again; prints `{"messages": N, "seconds": S, "errors": E}`.
 *
 * `hold URL CONNECTIONS`: opens that many sockets (in batches), prints `{"open": N}` once all
 * are open, then keeps them idle until stdin closes; prints `{"closed": N}` at the end.
 *
 * @module
 */

const [mode, url, count, seconds] = Deno.args;
if (!url || !new URL(url).hostname.startsWith("127.")) {
  throw new Error("usage: ws_client.ts echo|hold ws://127.0.0.1:PORT/path N [SECONDS]");
}
const connections = Number(count);

function open(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`cannot open ${url}`));
  });
}

async function openAll(n: number, batch = 250): Promise<WebSocket[]> {
  const sockets: WebSocket[] = [];
  while (sockets.length < n) {
    const k = Math.min(batch, n - sockets.length);
    sockets.push(...await Promise.all(Array.from({ length: k }, open)));
  }
  return sockets;
}

if (mode === "echo") {
  const sockets = await openAll(connections);
  const message = "x".repeat(32);
  let messages = 0;
  let errors = 0;
  let running = true;
  const t0 = performance.now();
  const loops = sockets.map((ws) =>
    new Promise<void>((resolve) => {
      ws.onmessage = (e) => {
        if (e.data === message) messages++;
        else errors++;
        if (running) ws.send(message);
        else resolve();
      };
      ws.onclose = () => {
        if (running) errors++;
        resolve();
      };
      ws.send(message);
    })
  );
  await new Promise((r) => setTimeout(r, Number(seconds) * 1000));
  running = false;
  const elapsed = (performance.now() - t0) / 1000;
  const counted = messages;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 2000))]);
  for (const ws of sockets) ws.close();
  console.log(JSON.stringify({ messages: counted, seconds: elapsed, errors }));
} else if (mode === "hold") {
  const sockets = await openAll(connections);
  let closed = 0;
  for (const ws of sockets) ws.onclose = () => closed++;
  console.log(JSON.stringify({ open: sockets.length }));
  for await (const _ of Deno.stdin.readable) { /* until stdin closes */ }
  console.log(JSON.stringify({ closed }));
  for (const ws of sockets) ws.close();
  Deno.exit(0);
} else {
  throw new Error(`unknown mode ${mode}: echo or hold`);
}
