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

/** Open file descriptors of a process (its sockets among them), read through sh (see _proc.ts). */
async function fds(pid: number): Promise<number> {
  const out = await new Deno.Command("sh", {
    args: ["-c", `ls /proc/${pid}/fd | wc -l`],
    stdout: "piped",
  }).output();
  return Number(new TextDecoder().decode(out.stdout));
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
    const [fdsBefore, rssBefore] = [await fds(server.pid), await rssMiB(server.pid)];
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
    let open = 0;
    await waitFor(
      async () => (open = await fds(server.pid) - fdsBefore) >= HELD,
      `the server accepting ${HELD} connections`,
      () => `${open} accepted\n${server.logs()}`,
    );
    const rssHeld = await rssMiB(server.pid);
    for (let i = 0; i < 40; i++) {
      const r = await fresh(`http://127.0.0.1:${port}/users/${i}`);
      assert.equal(r.status, 200, `request ${i} while ${HELD} connections are held`);
    }
    const stillOpen = await fds(server.pid) - fdsBefore;
    console.log(
      `  ${HELD} held connections: +${open} sockets, RSS ${rssBefore.toFixed(0)} → ` +
        `${rssHeld.toFixed(0)} MiB (${((rssHeld - rssBefore) * 1024 / HELD).toFixed(1)} KiB ` +
        `each); ${stillOpen} still open after 40 normal requests`,
    );
  } finally {
    for (const c of held) c.close();
    assert.equal((await server.stop()).code, 0);
  }
});
