// Node only: what a parked fiber holds, checked with the garbage collector on demand (v8 flags).
// The benchmark measures the million-fiber case (bench/cases/scale.js measureParked); these
// checks keep what it found from coming back: a wait operation held while the fiber waits, or a
// task that grows a field for every phase of its life.
import { describe, expect, it } from "vitest";
import { createHost, type FiberContext, S_OK } from "../src/index.js";
import { gc, heapUsed } from "./support/gc.node.js";

/** Lets the current job end: a WeakRef keeps its target alive until then. */
const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe("a fiber parked in a wait (JS heap)", () => {
  it("holds no wait operation: ev.wait(), f.wait, f.sleep, sem.wait and crst.enter are let go once they park", async () => {
    const host = await createHost({ clock: "virtual" });
    const ev = host.createManualEvent(false);
    const sem = host.createSemaphore(0, 10);
    const crst = host.createCrst();
    const refs: WeakRef<object>[] = [];
    const track = <T extends object>(op: T): T => {
      refs.push(new WeakRef(op));
      return op;
    };
    host.spawn(function* () {
      yield* crst.enter(); // owns it: the Crst fibers below wait
      yield* ev.wait();
    });
    const N = 200;
    let woke = 0;
    for (let i = 0; i < N; i++) {
      const kind = i % 5;
      // (No local holds the operation: a generator keeps its locals while it waits.)
      const make = (f: FiberContext): object =>
        kind === 0
          ? ev.wait()
          : kind === 1
            ? f.wait(ev)
            : kind === 2
              ? f.sleep() // (until alerted: a virtual clock would jump to a timed one when all wait)
              : kind === 3
                ? sem.wait()
                : crst.enter();
      host.spawn(function* (f) {
        if ((yield* track(make(f) as Iterable<unknown, number>)) === S_OK) woke++;
      });
    }
    host.runUntilIdle();
    expect(host.liveTaskCount).toBe(N + 2);
    await nextTask();
    gc();
    gc();
    const held = refs.filter((r) => r.deref() !== undefined).length;
    expect(held).toBe(0);
    ev.set();
    sem.release(10);
    host.runUntilIdle();
    expect(woke).toBeGreaterThanOrEqual(N / 5 + N / 5);
  });

  it("100,000 fibers parked on one event take less than 400 bytes of JS heap each (the task, its generator)", async () => {
    const host = await createHost({ clock: "virtual" });
    const ev = host.createManualEvent(false);
    const box = { woke: 0 };
    function* body() {
      if ((yield* ev.wait()) === S_OK) box.woke++;
    }
    const N = 100_000;
    // Warm up: the task table and the ready ring reach their working size, the paths are compiled.
    for (let i = 0; i < N; i++) host.spawn(body);
    host.runUntilIdle();
    ev.set();
    host.runUntilIdle();
    ev.reset();
    const before = heapUsed();
    for (let i = 0; i < N; i++) host.spawn(body);
    host.runUntilIdle();
    const perFiber = (heapUsed() - before) / N;
    expect(host.liveTaskCount).toBe(N + 1);
    // (Node 20: 458 bytes with a wait operation held and a field per phase; 355 without.)
    expect(perFiber, `JS heap per parked fiber: ${perFiber.toFixed(0)} bytes`).toBeLessThan(400);
    ev.set();
    host.runUntilIdle();
    expect(box.woke).toBe(2 * N);
  });
});
