import assert from "node:assert/strict";
import type { FromWorker } from "../protocol.ts";
import { askWorkers, type Slot } from "./ask.ts";

/** A stand-in for a worker: a message sent to it makes it answer with `reply(message)`. */
function fakeSlot(id: number, reply: (msg: unknown) => unknown): Slot & { say(m: unknown): void } {
  const listeners = new Set<(m: FromWorker) => void>();
  const say = (m: unknown) => {
    for (const l of [...listeners]) l(m as FromWorker);
  };
  return {
    id,
    worker: new EventTarget() as unknown as Worker,
    control: {} as Slot["control"],
    send: (msg) => {
      const answer = reply(msg);
      if (answer !== undefined) setTimeout(() => say(answer), 1);
    },
    listen: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    say,
  };
}

Deno.test("askWorkers() waits for the wanted answer of every slot, ignoring others", async () => {
  const slots = [1, 2].map((id) =>
    fakeSlot(id, () => ({ type: "prepared", id, python: "snapshot", ms: 1 }))
  );
  const answers = await askWorkers({
    slots,
    want: "prepared",
    send: (s) => {
      slots[s.id - 1].say({ type: "metrics", id: s.id });
      s.send({ type: "abort" });
    },
    timeoutMs: 1000,
  });
  assert.deepEqual(answers.map((a) => (a as { id: number }).id), [1, 2]);
});

Deno.test("askWorkers() rejects with the message of a *_failed answer, or on silence", async () => {
  const failing = fakeSlot(3, () => ({ type: "prepare_failed", id: 3, message: "app.py:4: boom" }));
  await assert.rejects(
    askWorkers({
      slots: [failing],
      want: "prepared",
      send: (s) => s.send({ type: "abort" }),
      timeoutMs: 1000,
    }),
    { message: "app.py:4: boom" },
  );
  const silent = fakeSlot(4, () => undefined);
  await assert.rejects(
    askWorkers({
      slots: [silent],
      want: "stopped",
      send: (s) => s.send({ type: "abort" }),
      timeoutMs: 20,
    }),
    { message: 'worker 4 did not report "stopped" within 20 ms' },
  );
});
