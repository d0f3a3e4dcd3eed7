import assert from "node:assert/strict";
import { askWorkers, type Slot } from "./ask.ts";

/** A stand-in for a Worker: `postMessage` makes it answer with `reply(message)`. */
function fakeSlot(id: number, reply: (msg: unknown) => unknown): Slot {
  const target = new EventTarget();
  const worker = Object.assign(target, {
    postMessage: (msg: unknown) => {
      const answer = reply(msg);
      if (answer !== undefined) {
        setTimeout(() => target.dispatchEvent(new MessageEvent("message", { data: answer })), 1);
      }
    },
  }) as unknown as Worker;
  return { id, worker, control: {} as Slot["control"] };
}

Deno.test("askWorkers() waits for the wanted answer of every slot, ignoring others", async () => {
  const slots = [1, 2].map((id) =>
    fakeSlot(id, () => ({ type: "prepared", id, python: "snapshot", ms: 1 }))
  );
  const answers = await askWorkers({
    slots,
    want: "prepared",
    send: (s) => {
      s.worker.dispatchEvent(new MessageEvent("message", { data: { type: "metrics", id: s.id } }));
      s.worker.postMessage({ type: "prepare" });
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
      send: (s) => s.worker.postMessage({}),
      timeoutMs: 1000,
    }),
    { message: "app.py:4: boom" },
  );
  const silent = fakeSlot(4, () => undefined);
  await assert.rejects(
    askWorkers({
      slots: [silent],
      want: "stopped",
      send: (s) => s.worker.postMessage({}),
      timeoutMs: 20,
    }),
    { message: 'worker 4 did not report "stopped" within 20 ms' },
  );
});
