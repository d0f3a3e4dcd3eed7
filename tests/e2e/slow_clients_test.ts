/**
 * Slow clients. Deno.serve (hyper) has no timeout for reading a request head
 * (denoland/deno#3515), so a connection that sends half a head, or nothing, stays open. This
 * measures what that costs one listener — 5,000 such connections held at once on 127.0.0.1 —
 * and checks that normal requests are still answered meanwhile. docs/deployment.md says what a
 * deployment on an untrusted network must put in front (a proxy with a header timeout).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, fresh, ROOT, startServer, waitFor } from "../../harness/launch.ts";
import { rssMiB } from "../../harness/proc_stats.ts";

const HELD = 5000;

/**
 * How many of `clients` (their local ports) the server process holds an accepted socket for.
 * Counting the process's whole fd table instead is off by the odd transient fd (the first
 * request's socket still closing, a file a worker has open), so this matches the server's socket
 * inodes against /proc/net/tcp's connections from those ports. /proc is read through sh (see
 * harness/proc_stats.ts).
 */
async function accepted(pid: number, port: number, clients: Set<number>): Promise<number> {
  const out = await new Deno.Command("sh", {
    args: ["-c", `ls -l /proc/${pid}/fd; echo ---; cat /proc/net/tcp`],
    stdout: "piped",
  }).output();
  const [fdList, tcp] = new TextDecoder().decode(out.stdout).split("\n---\n");
  const inodes = new Set([...fdList.matchAll(/socket:\[(\d+)\]/g)].map((m) => m[1]));
  let count = 0;
  for (const line of tcp.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = parseInt(f[1].split(":")[1], 16), remote = parseInt(f[2].split(":")[1], 16);
    if (local === port && clients.has(remote) && inodes.has(f[9])) count++;
  }
  return count;
}

Deno.test(`${HELD} idle and half-sent connections are held; normal requests are still answered`, async () => {
  const port = freePort();
  const server = await startServer({
    config: join(ROOT, "examples", "hello", "http.yaml"),
    env: { PORT: String(port), WORKERS: "2" },
    args: ["--no-watch"],
  });
  const held: Deno.TcpConn[] = [];
  try {
    assert.equal((await fresh(`http://127.0.0.1:${port}/`)).status, 200);
    const rssBefore = await rssMiB(server.pid);
    const partial = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    for (let i = 0; i < HELD; i += 250) {
      const batch = await Promise.all(
        Array.from({ length: 250 }, () => Deno.connect({ hostname: "127.0.0.1", port })),
      );
      held.push(...batch);
      // Half send an unfinished head (a slowloris), half send nothing at all.
      await Promise.all(batch.map((c, j) => j % 2 ? c.write(partial) : Promise.resolve(0)));
    }
    // The server holds a socket for each once it accepted them all.
    const ports = new Set(held.map((c) => (c.localAddr as Deno.NetAddr).port));
    let open = 0;
    await waitFor(
      async () => (open = await accepted(server.pid, port, ports)) === HELD,
      `the server accepting ${HELD} connections`,
      () => `${open} accepted\n${server.logs()}`,
    );
    const rssHeld = await rssMiB(server.pid);
    for (let i = 0; i < 40; i++) {
      const r = await fresh(`http://127.0.0.1:${port}/users/${i}`);
      assert.equal(r.status, 200, `request ${i} while ${HELD} connections are held`);
    }
    const stillOpen = await accepted(server.pid, port, ports);
    console.log(
      `  ${HELD} held connections: ${open} accepted, RSS ${rssBefore.toFixed(0)} → ` +
        `${rssHeld.toFixed(0)} MiB (${((rssHeld - rssBefore) * 1024 / HELD).toFixed(1)} KiB ` +
        `each); ${stillOpen} still open after 40 normal requests`,
    );
  } finally {
    for (const c of held) c.close();
    assert.equal((await server.stop()).code, 0);
  }
});
