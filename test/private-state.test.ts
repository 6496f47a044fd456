// Nothing a user can write by name changes a fiber's outcome: the scheduler's state on a task and
// the wait protocol's methods on a sync object are keyed by module-private symbols (src/task/state.ts,
// src/kernel/waitable.ts, …), so each name below that once held them is simply absent, and a write
// of it makes an own property nothing reads. (On the scheduler before those keys, each write here
// broke a fiber: a state of 0 made a running fiber "created", a null iter ended it, a lost waitOn
// left a waiter parked for ever, a fake tryAcquire let two fibers into one Crst.)
import { describe, expect, it } from "vitest";
import { S_OK, type Task } from "../src/index.js";
import { virtualHost } from "./support/fibers.js";

/** Every field the scheduler once kept on a task under a plain name, and the methods only it calls. */
const TASK_NAMES = [
  "state",
  "iter",
  "stack",
  "resumeValue",
  "resumeThrow",
  "attention",
  "level",
  "waitOn",
  "timerPos",
  "qNext",
  "qPrev",
  "yieldToken",
  "finalCounts",
  "extra",
  "env",
  "idx",
  "gen",
  "base",
  "bits",
  "pending",
  "begin",
  "dropBody",
  "extras",
];

/** The wait protocol's methods (src/kernel/waitable.ts) a sync object once had by name. */
const SYNC_NAMES = ["tryAcquire", "enqueue", "remove", "waitsFor", "waitsForMany", "describe", "watch"];

/** A value of each kind the scheduler could trip on, by name: a number, null, an object, a function. */
function vandalise(o: object): void {
  const any = o as Record<string, unknown>;
  for (const [i, name] of TASK_NAMES.entries()) {
    const junk = [0, null, { next: () => ({ done: true, value: "forged" }) }, () => "forged", 4][i % 5];
    any[name] = junk;
  }
}

function namesAbsent(o: object, names: readonly string[]): string[] {
  return names.filter((n) => n in o);
}

describe("scheduler state written by name", () => {
  it("is not on a task, running or parked: writing every such name changes no fiber's outcome", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const ev = host.createAutoEvent();
    const sem = host.createSemaphore(0, 1);
    const tasks: Task<string>[] = [];
    // Absent before any write, on every kind of task the scheduler keeps.
    const checkedAbsent: string[][] = [];

    const owner = host.spawn(
      function* (f) {
        expect(yield* crst.enter()).toBe(S_OK);
        yield* f.sleep(10); // parked on a timer, holding the Crst
        crst.leave();
        return "owner";
      },
      { name: "owner" },
    );
    const contender = host.spawn(
      function* () {
        const hr = yield* crst.enter(); // parked in the Crst's queue
        crst.leave();
        const ev1 = yield* ev.wait(); // parked on the event
        const s = yield* sem.wait(); // parked on the semaphore
        return `contender ${hr} ${ev1} ${s}`;
      },
      { name: "contender" },
    );
    const vandal = host.spawn(
      function* (f) {
        yield* f.yield(); // the others are parked now
        checkedAbsent.push(namesAbsent(f.task, TASK_NAMES), namesAbsent(owner, TASK_NAMES));
        checkedAbsent.push(namesAbsent(contender, TASK_NAMES));
        for (const o of [crst, ev, sem]) checkedAbsent.push(namesAbsent(o, SYNC_NAMES));
        vandalise(f.task); // itself, running
        vandalise(owner); // parked on a timer
        vandalise(contender); // parked in a queue
        for (const o of [crst, ev, sem]) {
          const any = o as unknown as Record<string, ((...a: unknown[]) => unknown) | undefined>;
          // Called by name, they do not exist; then forged, nothing calls them.
          for (const m of SYNC_NAMES) any[m]?.(f.task);
          for (const m of SYNC_NAMES) any[m] = () => 0;
        }
        yield* f.sleep(20); // (the owner leaves at 10; the contender then waits on the event)
        expect(ev.set()).toBe(S_OK);
        yield* f.yield();
        expect(sem.release(1)).toBe(S_OK);
        yield* f.yield();
        return "vandal";
      },
      { name: "vandal" },
    );
    tasks.push(owner, contender, vandal);
    await host.run();
    expect(checkedAbsent.flat()).toEqual([]);
    expect(await Promise.all(tasks.map((t) => t.result))).toEqual(["owner", "contender 0 0 0", "vandal"]);
    expect(tasks.map((t) => t.getState())).toEqual(["done", "done", "done"]);
    expect(host.checkInvariants()).toBe(true);
    // A finished task written by name keeps its result and its state.
    for (const t of tasks) vandalise(t);
    expect(await owner.result).toBe("owner");
    expect(owner.done).toBe(true);
    expect(owner.getState()).toBe("done");
    expect(host.checkInvariants()).toBe(true);
  });

  it("has no own property by a plain name: a task's only own key is its id", async () => {
    const host = await virtualHost();
    const keys: string[][] = [];
    const parked = host.spawn(function* (f) {
      yield* f.sleep(5);
    });
    host.spawn(function* (f) {
      yield* f.yield();
      keys.push(Object.keys(f.task), Object.keys(parked));
    });
    await host.run();
    keys.push(Object.keys(parked));
    expect(keys).toEqual([["id"], ["id"], ["id"]]);
  });
});
