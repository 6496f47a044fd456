// Nothing a finished wait or a restarted trace leaves behind: the timer heap holds only live
// timed waits, and every buffer the core hands out (trace rings, frame buffers) is reused.
import { afterEach, describe, expect, it } from "vitest";
import { TIMER_POS } from "../src/kernel/timers.js";
import {
  createHost,
  HResultError,
  E_INVALIDARG,
  S_OK,
  HOST_E_INTERRUPTED,
  HOST_E_CLRNOTAVAILABLE,
  WAIT_ALERTABLE,
  MIN_MEMORY_BYTES,
  type FiberContext,
  type Host,
} from "../src/index.js";
import { expectFailure } from "./support/failures.js";

/** A host on a clock that moves only when the test says (runUntilIdle never jumps it). */
async function manualHost(): Promise<{ host: Host; clock: { t: number; now(): number } }> {
  const clock = { t: 0, now: () => clock.t };
  return { host: await createHost({ clock }), clock };
}

describe("timers", () => {
  it("100,000 satisfied timed waits with one heartbeat timer pending leave one timer-heap entry", async () => {
    const { host } = await manualHost();
    const sem = host.createSemaphore(0, 1);
    host.spawn(function* (f) {
      yield* f.sleep(1000); // the heartbeat: due before any of the waits' timeouts
    });
    let satisfied = 0;
    host.spawn(function* () {
      for (let i = 0; i < 100_000; i++) if ((yield* sem.wait(3_600_000)) === S_OK) satisfied++;
    });
    host.spawn(function* (f) {
      for (let i = 0; i < 100_000; i++) {
        sem.release(1);
        yield* f.yield();
      }
    });
    host.runUntilIdle();
    expect(satisfied).toBe(100_000);
    expect(host.sched.timerCount).toBe(1);
  });

  it("a timed wait ended by an abort or an alert leaves no timer-heap entry", async () => {
    const { host } = await manualHost();
    const event = host.createAutoEvent();
    host.spawn(function* (f) {
      yield* f.sleep(1000); // a live timer due first
    });
    const fibers = Array.from({ length: 1000 }, () =>
      host.spawn(function* () {
        return yield* event.wait(3_600_000, WAIT_ALERTABLE);
      }),
    );
    host.runUntilIdle();
    expect(host.sched.timerCount).toBe(1001);
    for (const [i, t] of fibers.entries()) {
      if (i % 2) t.alert();
      else t.abort();
    }
    host.runUntilIdle();
    expect(fibers.every((t) => t.getState() === "done")).toBe(true);
    expect(host.sched.timerCount).toBe(1);
  });

  it("timers fire in deadline order, FIFO among equal deadlines, after cancellations anywhere in the heap", async () => {
    const { host, clock } = await manualHost();
    const order: number[] = [];
    const deadlines = [30, 10, 20, 10, 40, 20, 50, 10, 35, 25];
    const fibers = deadlines.map((ms, i) =>
      host.spawn(function* (f) {
        const hr = yield* f.sleep(ms, WAIT_ALERTABLE);
        if (hr !== HOST_E_INTERRUPTED) order.push(i);
      }),
    );
    host.runUntilIdle();
    for (const i of [2, 4, 7]) fibers[i].alert();
    host.runUntilIdle();
    expect(host.sched.timerCount).toBe(7);
    for (clock.t = 0; clock.t <= 50; clock.t += 5) host.runUntilIdle();
    expect(order).toEqual([1, 3, 5, 9, 0, 8, 6]);
    expect(host.sched.timerCount).toBe(0);
  });
});

describe("core allocations", () => {
  for (const core of ["release", "debug"] as const) {
    it(`${core} core: alternating trace.start(2^20) and trace.start(16) keeps the core's memory flat (the ring is reused)`, async () => {
      const host = await createHost({ clock: "virtual", core });
      expect(host.trace.start(2 ** 20)).toBe(S_OK);
      expect(host.trace.start(16)).toBe(S_OK);
      const flat = host.coreMemoryBytes;
      for (let i = 0; i < 20; i++) {
        expect(host.trace.start(2 ** 20)).toBe(S_OK);
        expect(host.trace.start(16)).toBe(S_OK);
        expect(host.trace.start(2 ** 19 + 3)).toBe(S_OK);
      }
      expect(host.coreMemoryBytes).toBe(flat);
      expect(host.checkInvariants()).toBe(true);
    });

    it(`${core} core: a ring outgrown by a larger one is given back and serves later rings`, async () => {
      const host = await createHost({ clock: "virtual", core });
      const sizes = [16, 1 << 10, 1 << 14, 1 << 18];
      for (const n of sizes) expect(host.trace.start(n)).toBe(S_OK);
      const grown = host.coreMemoryBytes;
      // Growing again through the same sizes takes the rings given back, not new memory.
      const other = await createHost({ clock: "virtual", core });
      expect(other.trace.start(1 << 18)).toBe(S_OK);
      const largestOnly = other.coreMemoryBytes;
      for (let i = 0; i < 10; i++) for (const n of sizes) expect(host.trace.start(n)).toBe(S_OK);
      expect(host.coreMemoryBytes).toBe(grown);
      // What the smaller rings took is at most what the largest one takes again.
      expect(grown - largestOnly).toBeLessThanOrEqual(largestOnly);
    });

    it(`${core} core: fibers alternating deep and shallow transition stacks keep the core's memory flat`, async () => {
      const host = await createHost({ clock: "virtual", core, maxStackSize: 1 << 20 });
      const nest = function* (f: FiberContext, depth: number): Generator<unknown, number, number> {
        if (depth === 0) return 0;
        return yield* f.managed(function* () {
          return 1 + (yield* nest(f, depth - 1));
        });
      };
      const round = () => {
        host.spawn(
          function* (f) {
            return yield* nest(f, 20_000);
          },
          { stackSize: 1 << 20 },
        );
        for (let i = 0; i < 100; i++)
          host.spawn(function* (f) {
            return yield* nest(f, 3);
          });
        host.spawn(
          function* (f) {
            return yield* nest(f, 5_000);
          },
          { stackSize: 1 << 20 },
        );
        host.runUntilIdle();
      };
      round();
      round();
      const flat = host.coreMemoryBytes;
      for (let i = 0; i < 10; i++) round();
      expect(host.coreMemoryBytes).toBe(flat);
      expect(host.liveTaskCount).toBe(1);
      expect(host.checkInvariants()).toBe(true);
    });
  }
});

describe("the smallest memory", () => {
  for (const core of ["release", "debug"] as const) {
    it(`${core} core: createHost({ maxMemoryBytes: MIN_MEMORY_BYTES }) works: fibers, transitions and a trace`, async () => {
      expect(MIN_MEMORY_BYTES).toBe(192 * 1024);
      const host = await createHost({ clock: "virtual", core, maxMemoryBytes: MIN_MEMORY_BYTES });
      expect(host.trace.start(256)).toBe(S_OK);
      const fibers = Array.from({ length: 100 }, (_, i) =>
        host.spawn(function* (f) {
          return yield* f.managed(function* () {
            return yield* f.unmanaged(i, function* () {
              yield* f.yield();
              return i;
            });
          });
        }),
      );
      host.runUntilIdle();
      expect(await Promise.all(fibers.map((t) => t.result))).toEqual(fibers.map((_, i) => i));
      expect(host.coreMemoryBytes).toBeLessThanOrEqual(MIN_MEMORY_BYTES);
      expect(host.checkInvariants()).toBe(true);
    });
  }

  it.each([64 * 1024, 128 * 1024, MIN_MEMORY_BYTES - 1])(
    "createHost({ maxMemoryBytes: %i }) rejects with E_INVALIDARG naming the minimum",
    async (bytes) => {
      await expect(createHost({ maxMemoryBytes: bytes })).rejects.toSatisfy(
        (e: unknown) =>
          e instanceof HResultError && e.hr === E_INVALIDARG && e.message.includes(String(MIN_MEMORY_BYTES)),
      );
    },
  );
});

describe("the live task count", () => {
  it("after disable(), counts only the fibers that are not done", async () => {
    const host = await createHost({ clock: "virtual" });
    const gate = host.createManualEvent(false);
    const quick = Array.from({ length: 5 }, () =>
      host.spawn(function* (f) {
        yield* f.yield();
      }),
    );
    const stuck = Array.from({ length: 3 }, () =>
      host.spawn(function* () {
        yield* gate.wait();
      }),
    );
    host.runUntilIdle();
    expect(host.liveTaskCount).toBe(1 + stuck.length);
    const later = Array.from({ length: 4 }, () =>
      host.spawn(function* (f) {
        yield* f.managed(() => 1);
      }),
    );
    // Their ReverseEnterRuntime on the disabled runtime fails: they end with the refusal.
    const failures = later.map(expectFailure);
    host.disable("test");
    host.runUntilIdle();
    expect(quick.concat(later).every((t) => t.getState() === "done")).toBe(true);
    for (const err of await Promise.all(failures)) expect((err as HResultError).hr).toBe(HOST_E_CLRNOTAVAILABLE);
    const notDone = [...quick, ...stuck, ...later].filter((t) => t.getState() !== "done").length;
    expect(host.liveTaskCount).toBe(1 + notDone);
  });
});

describe("the real clock's timers", () => {
  const realSetTimeout = globalThis.setTimeout;
  afterEach(() => {
    globalThis.setTimeout = realSetTimeout;
  });

  it("a timeout above 2^31−1 ms is chained under setTimeout's limit: no 1 ms polling", async () => {
    // setTimeout clamps a delay above 2^31−1 to 1 ms (Node warns each time): record what run() asks for.
    const asked: { ms: number; fn: () => void }[] = [];
    globalThis.setTimeout = ((fn: () => void, ms: number) => {
      asked.push({ fn, ms });
      return realSetTimeout(() => {}, 0);
    }) as typeof setTimeout;
    const clock = { t: 0, now: () => clock.t };
    const host = await createHost({ clock });
    const sleeper = host.spawn(function* (f) {
      return yield* f.sleep(2 ** 32 - 2);
    });
    let settled = false;
    const run = host.run().then(() => (settled = true));
    const tick = () => new Promise((r) => realSetTimeout(r, 5));
    await tick();
    await tick();
    expect(asked.map((a) => a.ms)).toEqual([2 ** 31 - 1]);
    // The first timer fires 2^31−1 ms later: the scheduler waits again for the rest.
    clock.t += 2 ** 31 - 1;
    asked[0].fn();
    await tick();
    expect(asked.map((a) => a.ms)).toEqual([2 ** 31 - 1, 2 ** 32 - 2 - (2 ** 31 - 1)]);
    expect(settled).toBe(false);
    clock.t = 2 ** 32 - 2;
    asked[1].fn();
    await run;
    expect(sleeper.getState()).toBe("done");
    expect(await sleeper.result).toBe(S_OK);
    expect(asked).toHaveLength(2);
  });
});

describe("the timer heap", () => {
  it("agrees with a sorted list under random adds, cancels and pops", async () => {
    const { TimerHeap } = await import("../src/kernel/timers.js");
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const heap = new TimerHeap<{ id: number; [TIMER_POS]: number }>();
    const tasks = Array.from({ length: 64 }, (_, id) => ({ id, [TIMER_POS]: 0 }));
    let model: { id: number; at: number; seq: number }[] = [];
    let seq = 0;
    let now = 0;
    for (let step = 0; step < 20_000; step++) {
      const t = tasks[rand(tasks.length)];
      const what = rand(3);
      if (what === 0) {
        const at = now + rand(50);
        heap.add(t, at);
        model = model.filter((e) => e.id !== t.id);
        model.push({ id: t.id, at, seq: ++seq });
      } else if (what === 1) {
        heap.cancel(t);
        model = model.filter((e) => e.id !== t.id);
      } else {
        now += rand(10);
        model.sort((a, b) => a.at - b.at || a.seq - b.seq);
        const due = model.filter((e) => e.at <= now).map((e) => e.id);
        model = model.filter((e) => e.at > now);
        const popped: number[] = [];
        for (let x = heap.popDue(now); x; x = heap.popDue(now)) popped.push(x.id);
        expect(popped).toEqual(due);
      }
      expect(heap.size).toBe(model.length);
      expect(heap.next()).toBe(model.length ? Math.min(...model.map((e) => e.at)) : Infinity);
    }
    expect(tasks.filter((t) => t[TIMER_POS] !== 0).length).toBe(heap.size);
  });
});
