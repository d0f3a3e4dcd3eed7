import assert from "node:assert/strict";
import { createLogger } from "../log.ts";
import { Watchdog } from "./watchdog.ts";

function control() {
  return {
    interrupt: new SharedArrayBuffer(8),
    clock: new SharedArrayBuffer(32),
    cache: new SharedArrayBuffer(16),
  };
}

Deno.test("Watchdog.check() interrupts only a blocked worker past its deadline", () => {
  const lines: string[] = [];
  const dog = new Watchdog({ log: createLogger({ write: (l) => lines.push(l) }) });
  const [blocked, turning, idle, early] = [control(), control(), control(), control()];
  const now = 1_000_000;
  const set = (c: ReturnType<typeof control>, deadline: number, beat: number) => {
    const clock = new Float64Array(c.clock);
    clock[0] = deadline;
    clock[1] = beat;
  };
  set(blocked, now - 10, now - 500); // deadline passed, loop still for 500 ms
  set(turning, now - 10, now - 5); // deadline passed, but the loop turns: the worker copes
  set(idle, 0, now - 5); // nothing in flight
  set(early, now + 1000, now - 5000); // blocked, but before its deadline
  [blocked, turning, idle, early].forEach((c, i) => dog.add(i + 1, c));
  assert.deepEqual(dog.check(now), [1]);
  assert.equal(new Int32Array(blocked.interrupt)[0], 2);
  assert.equal(new Int32Array(turning.interrupt)[0], 0);
  assert.match(lines[0], /worker 1: Python blocked its event loop/);
  assert.deepEqual(dog.check(now), [], "an interrupt still pending is not repeated");
});

Deno.test("Watchdog.check() escalates: interrupt, then kill, then report it hung", () => {
  const hung: number[] = [];
  const dog = new Watchdog({
    log: createLogger({ write: () => {} }),
    onHung: (id) => hung.push(id),
    graceMs: 1000,
  });
  const c = control();
  const clock = new Float64Array(c.clock);
  clock[0] = 100; // a deadline long past
  clock[1] = 0; // the loop has not turned since
  dog.add(7, c);
  const kill = new Int32Array(c.interrupt, 4, 1);
  const flag = new Int32Array(c.interrupt, 0, 1);
  assert.deepEqual(dog.check(500), [7]);
  assert.equal(flag[0], 2);
  flag[0] = 0; // Python consumed the interrupt, then swallowed it
  assert.deepEqual(dog.check(600), []);
  assert.equal(flag[0], 0, "not sent again at once");
  assert.deepEqual(dog.check(800), []);
  assert.equal(flag[0], 2, "sent again while the loop stays blocked");
  assert.equal(dog.interrupts, 2);
  flag[0] = 0;
  assert.deepEqual(dog.check(1400), []);
  assert.equal(kill[0], 0);
  dog.check(1500);
  assert.equal(kill[0], 1, "told to exit once the grace has passed");
  assert.equal(flag[0], 2, "and interrupted again so the exit happens");
  assert.deepEqual(hung, []);
  dog.check(2400);
  assert.deepEqual(hung, []);
  dog.check(2500);
  assert.deepEqual(hung, [7], "reported hung a grace after the kill");
  dog.check(9000);
  assert.deepEqual(hung, [7], "and only once: it is no longer watched");
});

Deno.test("Watchdog.check() forgets an interrupt once the loop turns again", () => {
  const hung: number[] = [];
  const dog = new Watchdog({
    log: createLogger({ write: () => {} }),
    onHung: (id) => hung.push(id),
  });
  const c = control();
  const clock = new Float64Array(c.clock);
  clock[0] = 100;
  dog.add(1, c);
  dog.check(500);
  clock[1] = 5000; // the handler was interrupted and the loop turned
  clock[0] = 0;
  dog.check(5010);
  clock[0] = 6000; // a new request overruns later: a fresh interrupt, no hang yet
  clock[1] = 6000;
  assert.deepEqual(dog.check(9000), [1]);
  assert.deepEqual(hung, []);
});

Deno.test("Watchdog.check() makes a worker interrupted again and again exit instead", () => {
  const lines: string[] = [];
  const dog = new Watchdog({
    log: createLogger({ write: (l) => lines.push(l) }),
    runaway: { count: 3, windowMs: 60_000 },
  });
  const c = control();
  const clock = new Float64Array(c.clock);
  const flag = new Int32Array(c.interrupt, 0, 1);
  const kill = new Int32Array(c.interrupt, 4, 1);
  dog.add(2, c);
  const block = (now: number) => {
    clock[0] = now - 100;
    clock[1] = now - 1000;
  };
  const turn = (now: number) => { // the interrupt landed: the loop turned again
    clock[1] = now;
    flag[0] = 0;
    dog.check(now);
  };
  let now = 10_000_000;
  for (let i = 0; i < 3; i++, now += 5000) {
    block(now);
    assert.deepEqual(dog.check(now), [2]);
    assert.equal(kill[0], 0, `interrupt ${i + 1} only interrupts`);
    turn(now + 100);
  }
  block(now);
  assert.deepEqual(dog.check(now), [2]);
  assert.equal(kill[0], 1, "the fourth within a minute kills");
  assert.match(lines.at(-1)!, /worker 2: interrupted 4 times in 60 s \(a runaway handler\)/);
  assert.equal(dog.interrupts, 4);
  // Spread out over more than the window, interrupts never kill.
  const calm = new Watchdog({ log: createLogger({ write: () => {} }) });
  const d = control();
  calm.add(1, d);
  const dk = new Int32Array(d.interrupt, 4, 1);
  for (let i = 0; i < 10; i++) {
    const t = 20_000_000 + i * 61_000;
    new Float64Array(d.clock).set([t - 100, t - 1000]);
    calm.check(t);
    new Float64Array(d.clock).set([0, t + 1]);
    calm.check(t + 1);
  }
  assert.equal(dk[0], 0);
});

Deno.test("Watchdog.check() reports a worker gone when its idle loop stood still a second", () => {
  const gone: number[] = [];
  const lines: string[] = [];
  const dog = new Watchdog({
    log: createLogger({ write: (l) => lines.push(l) }),
    onGone: (id) => gone.push(id),
  });
  const [ended, building, fine] = [control(), control(), control()];
  const now = 5_000_000;
  new Float64Array(ended.clock).set([0, now - 1200, 0]);
  new Float64Array(building.clock).set([0, now - 5000, now - 5000]); // restoring an interpreter
  new Float64Array(fine.clock).set([0, now - 30, 0]);
  [ended, building, fine].forEach((c, i) => dog.add(i + 1, c));
  dog.check(now);
  assert.deepEqual(gone, [1]);
  assert.match(
    lines.join(""),
    /worker 1: its event loop stood still 1200 ms with nothing in flight/,
  );
  dog.check(now + 10);
  assert.deepEqual(gone, [1], "reported once");
});
