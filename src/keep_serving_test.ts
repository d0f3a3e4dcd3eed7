import assert from "node:assert/strict";
import { createLogger } from "./log.ts";
import { keepServing, type RunningServer } from "./keep_serving.ts";

/** A server whose accept loop the test can end, and whose starts can be made to fail. */
function fakes() {
  const servers: { fail: (e: Error) => void; shut: boolean }[] = [];
  let refuse = 0;
  const start = (): Promise<RunningServer> => {
    if (refuse > 0) {
      refuse--;
      return Promise.reject(new Error("Too many open files (os error 24)"));
    }
    let fail!: (e: Error) => void;
    const finished = new Promise<void>((_, reject) => fail = reject);
    const entry = { fail, shut: false };
    servers.push(entry);
    return Promise.resolve({
      finished,
      shutdown: () => {
        entry.shut = true;
        return Promise.resolve();
      },
    });
  };
  return { servers, start, refuseNext: (n: number) => refuse = n };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check());
};

Deno.test("keepServing() starts a server again when it stops by itself, with back-off", async () => {
  const { servers, start, refuseNext } = fakes();
  const lines: string[] = [];
  const changes: string[] = [];
  const kept = await keepServing({
    name: "listener x:1",
    start,
    log: () => createLogger({ write: (l) => lines.push(l) }),
    onDown: (cause) => changes.push(`down ${cause}`),
    onUp: () => changes.push("up"),
    maxDelayMs: 50,
  });
  assert.equal(changes.length, 0, "it accepts after the first start");
  refuseNext(3);
  servers[0].fail(new Error("Too many open files (os error 24)"));
  await until(() => changes.includes("up"));
  assert.deepEqual(changes, ["down Too many open files (os error 24)", "up"]);
  assert.equal(servers.length, 2);
  assert.equal(changes.at(-1), "up", "it accepts again");
  assert.match(lines.join(""), /ERROR .*listener x:1 stopped accepting \(Too many open files/);
  assert.match(lines.join(""), /WARNING .*listener x:1: cannot start it yet .*1 tries so far/);
  assert.match(lines.join(""), /INFO .*listener x:1 accepts again after \d+ ms \(4 tries\)/);
  // Going down again at once: no second line within the second, and it comes back anyway.
  servers[1].fail(new Error("again"));
  await until(() => servers.length === 3);
  assert.equal(lines.filter((l) => l.includes("stopped accepting")).length, 1);
  await kept.stop();
  assert.equal(servers[2].shut, true);
  servers[2].fail(new Error("after stop"));
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(servers.length, 3, "a stopped server is not started again");
});

Deno.test("keepServing() fails when the first start fails (the caller decides)", async () => {
  const { start, refuseNext } = fakes();
  refuseNext(1);
  await assert.rejects(
    keepServing({ name: "n", start, log: () => createLogger({ write: () => {} }) }),
    /Too many open files/,
  );
});
