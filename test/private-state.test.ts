// Nothing a user can write by name changes a fiber's outcome: the scheduler's state on a task and
// the wait protocol's methods on a sync object are keyed by module-private symbols (src/task/state.ts,
// src/kernel/waitable.ts, …), so each name below that once held them is simply absent, and a write
// of it makes an own property nothing reads. (On the scheduler before those keys, each write here
// broke a fiber: a state of 0 made a running fiber "created", a null iter ended it, a lost waitOn
// left a waiter parked for ever, a fake tryAcquire let two fibers into one Crst.)
import { describe, expect, it } from "vitest";
import { E_INVALIDARG, S_OK, type Task } from "../src/index.js";
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

/**
 * Every field a sync object once kept under a plain name (its owner, queue, signal, count, …) and
 * the helpers the scheduler or its own waits call on it: each is a #field, a module-private symbol,
 * or (kind, maximum) a getter on the prototype, so a write of it by name is refused or unread.
 */
const SYNC_FIELDS = [
  "owner",
  "recursion",
  "waiters",
  "signalled",
  "count",
  "maximum",
  "closed",
  "watchers",
  "env",
  "kind",
  "abandon",
  "madeWith",
  "take",
  "notify",
  "wakeAll",
  "waitOp",
  "caller",
  "usable",
  "label",
  "callName",
  "checkWait",
  "scoped",
  "acquireOrThrow",
  "locked",
  "acquired",
];

describe("a sync object's state written by name", () => {
  it("is not reachable: calling, then writing, every such name changes no fiber's outcome", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const ev = host.createAutoEvent();
    const anyEv = host.createAutoEvent(); // watched by an f.waitAny
    const mev = host.createManualEvent(false);
    const sem = host.createSemaphore(0, 1);
    const objects = [crst, ev, anyEv, mev, sem];
    const results: Task<string>[] = [];
    const ownKeys: string[][] = [];
    const spawn = (name: string, body: Parameters<typeof host.spawn<string>>[0]) =>
      results.push(host.spawn(body, { name }));

    spawn("owner", function* (f) {
      expect(yield* crst.enter()).toBe(S_OK);
      expect(yield* crst.enter()).toBe(S_OK); // recursion 2
      yield* f.sleep(10); // parked on a timer, holding the Crst
      expect(crst.leave()).toBe(S_OK);
      expect(crst.leave()).toBe(S_OK);
      return "owner";
    });
    spawn("contender", function* () {
      const hr = yield* crst.enter(); // parked in the Crst's queue
      const owned = crst.getOwner()?.name;
      expect(crst.leave()).toBe(S_OK);
      return `crst ${hr} ${owned}`;
    });
    spawn("ev", function* () {
      return `ev ${yield* ev.wait()}`;
    });
    spawn("mev", function* () {
      return `mev ${yield* mev.wait()}`;
    });
    spawn("sem", function* () {
      return `sem ${yield* sem.acquire(function* () {
        return sem.currentCount;
      })}`;
    });
    spawn("any", function* (f) {
      const r = yield* f.waitAny([anyEv]);
      return `any ${r.hr} ${r.index}`;
    });
    spawn("vandal", function* (f) {
      yield* f.yield(); // the others are parked now
      for (const o of objects) ownKeys.push(Object.keys(o)); // no state under a plain name, in use
      for (const o of objects) {
        const any = o as unknown as Record<string, unknown>;
        for (const name of SYNC_FIELDS) {
          const v = any[name];
          if (typeof v === "function") {
            try {
              (v as (...a: unknown[]) => unknown).call(o, f.task, 1);
            } catch {
              // (a protected helper reached by name must not exist; one that throws changed nothing)
            }
          }
        }
        for (const [i, name] of SYNC_FIELDS.entries()) {
          try {
            any[name] = [0, null, { push() {}, shift: () => f.task, size: 9 }, () => 0, 4, true][i % 6];
          } catch {
            // a getter on the prototype (kind, maximum) refuses the write
          }
        }
      }
      yield* f.sleep(20); // the owner leaves at 10: the contender owns it, then leaves
      expect(ev.set()).toBe(S_OK);
      expect(mev.set()).toBe(S_OK);
      expect(sem.release(1)).toBe(S_OK);
      expect(anyEv.set()).toBe(S_OK);
      yield* f.yield(); // the woken fibers end; the scoped acquire gives its unit back
      expect(sem.release(1)).toBe(E_INVALIDARG); // the maximum still holds
      return "vandal";
    });
    await host.run();
    expect(await Promise.all(results.map((t) => t.result))).toEqual([
      "owner",
      "crst 0 contender",
      "ev 0",
      "mev 0",
      "sem 0",
      "any 0 0",
      "vandal",
    ]);
    expect(ownKeys).toEqual(objects.map(() => []));
    expect(results.map((t) => t.getState())).toEqual(Array(results.length).fill("done"));
    expect(crst.getOwner()).toBe(null);
    expect([crst.kind, ev.kind, mev.kind, sem.kind, sem.maximum, sem.currentCount]).toEqual([
      "crst",
      "autoEvent",
      "manualEvent",
      "semaphore",
      1,
      1,
    ]);
    expect(host.checkInvariants()).toBe(true);
  });
});

describe("a scoped form's release", () => {
  it("does not go through the public leave or release by name: overwriting them leaves lock() and acquire() whole", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const sem = host.createSemaphore(1, 1);
    const seen: unknown[] = [];
    host.spawn(function* (f) {
      const r = yield* crst.lock(function* () {
        return yield* sem.acquire(function* () {
          // Overwritten while held: the scoped forms must still give both back.
          Object.assign(crst, { leave: () => S_OK });
          Object.assign(sem, { release: () => S_OK });
          yield* f.sleep(1);
          return "body";
        });
      });
      seen.push(r, crst.getOwner(), sem.currentCount);
    });
    await host.run();
    expect(seen).toEqual(["body", null, 1]);
    expect(host.checkInvariants()).toBe(true);
  });
});
