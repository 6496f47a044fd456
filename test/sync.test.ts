// The host's synchronisation objects (IHostSyncManager): IHostCrst, IHostAutoEvent,
// IHostManualEvent, IHostSemaphore, and f.wait on them.
import { describe, it, expect } from "vitest";
import {
  type Crst,
  type Task,
  S_OK,
  type HResultError,
  S_FALSE,
  E_INVALIDARG,
  E_POINTER,
  HOST_E_TIMEOUT,
  HOST_E_DEADLOCK,
  HOST_E_NOT_OWNER,
  HOST_E_ABANDONED,
  HOST_E_INVALIDOPERATION,
  INFINITE,
  WAIT_NOTINDEADLOCK,
  WAIT_ALERTABLE,
  WAIT_MSGPUMP,
} from "../src/index.js";
import { virtualHost } from "./support/fibers.js";

function locksHeld(t: Task): number {
  const out: { value?: number } = {};
  expect(t.locksHeld(out)).toBe(S_OK);
  return out.value!;
}

describe("IHostCrst::Enter / Leave", () => {
  it("is recursive: the owner enters again at once and leaves as often as it entered", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const log: string[] = [];
    const owner = host.spawn(
      function* (f) {
        log.push(`enter ${yield* crst.enter()}`);
        log.push(`enter ${yield* crst.enter()}`);
        log.push(`enter ${yield* crst.enter()}`);
        log.push(`leave ${crst.leave()}`);
        log.push(`leave ${crst.leave()}`);
        yield* f.yield(); // still owned: the contender must not get it
        expect(crst.getOwner()).toBe(f.task);
        log.push(`leave ${crst.leave()}`);
        log.push(`leave ${crst.leave()}`);
      },
      { name: "owner" },
    );
    host.spawn(function* () {
      log.push("contender waits");
      log.push(`contender ${yield* crst.enter()}`);
      crst.leave();
    });
    host.runUntilIdle();
    expect(owner.done).toBe(true);
    expect(log).toEqual([
      "enter 0",
      "enter 0",
      "enter 0",
      "leave 0",
      "leave 0",
      "contender waits",
      "leave 0",
      `leave ${HOST_E_NOT_OWNER}`,
      "contender 0",
    ]);
  });

  it("leave by a task that does not own it answers HOST_E_NOT_OWNER and changes nothing", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    expect(crst.leave()).toBe(HOST_E_NOT_OWNER); // nobody owns it, the root task calls
    const answers: number[] = [];
    const owner = host.spawn(function* (f) {
      yield* crst.enter();
      yield* f.yield();
      answers.push(crst.leave());
    });
    host.spawn(function* () {
      answers.push(crst.leave()); // owned by the other fiber
      expect(crst.getOwner()).toBe(owner);
    });
    host.runUntilIdle();
    expect(answers).toEqual([HOST_E_NOT_OWNER, S_OK]);
    expect(crst.getOwner()).toBeNull();
  });

  it("hands the Crst to its waiters in FIFO order, each becoming owner before it runs", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const order: string[] = [];
    host.spawn(function* (f) {
      yield* crst.enter();
      yield* f.sleep(10);
      crst.leave();
    });
    for (const name of ["w1", "w2", "w3"]) {
      host.spawn(function* (f) {
        expect(yield* crst.enter()).toBe(S_OK);
        expect(crst.getOwner()).toBe(f.task);
        order.push(`${name}@${host.now()}`);
        yield* f.sleep(1);
        crst.leave();
      });
    }
    // A latecomer that arrives while w1 holds it queues behind w2 and w3.
    host.spawn(function* (f) {
      yield* f.sleep(10);
      yield* crst.enter();
      order.push(`late@${host.now()}`);
      crst.leave();
    });
    host.runUntilIdle();
    expect(order).toEqual(["w1@10", "w2@11", "w3@12", "late@13"]);
  });

  it("leave hands ownership over: a tryEnter by another fiber right after the leave fails", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const seen: boolean[] = [];
    let waiter: Task;
    host.spawn(function* (f) {
      yield* crst.enter();
      yield* f.yield();
      crst.leave();
      expect(crst.getOwner()).toBe(waiter);
      const out: { value?: boolean } = {};
      crst.tryEnter(0, out);
      seen.push(out.value!);
    });
    waiter = host.spawn(function* () {
      yield* crst.enter();
      crst.leave();
    });
    host.runUntilIdle();
    expect(seen).toEqual([false]);
  });

  it("the enter that closes a two-fiber cycle answers HOST_E_DEADLOCK; the other then gets the lock", async () => {
    const host = await virtualHost();
    const c1 = host.createCrst();
    const c2 = host.createCrst();
    const log: string[] = [];
    host.spawn(
      function* (f) {
        yield* c1.enter();
        yield* f.yield();
        log.push(`A enters c2: ${yield* c2.enter()}`);
        c2.leave();
        c1.leave();
      },
      { name: "A" },
    );
    host.spawn(
      function* (f) {
        yield* c2.enter();
        yield* f.yield();
        const hr = yield* c1.enter();
        log.push(`B enters c1: ${hr}`);
        expect(c1.getOwner()?.name).toBe("A");
        c2.leave(); // back off
      },
      { name: "B" },
    );
    host.runUntilIdle();
    expect(log).toEqual([`B enters c1: ${HOST_E_DEADLOCK}`, `A enters c2: ${S_OK}`]);
  });

  it("with WAIT_NOTINDEADLOCK the cycle is not reported: both stay blocked, dump() shows them waiting, run() settles", async () => {
    const blocked: string[] = [];
    const host = await virtualHost({ onDeadlock: (d) => blocked.push(...d.map((x) => x.name)) });
    const c1 = host.createCrst();
    const c2 = host.createCrst();
    const a = host.spawn(
      function* (f) {
        yield* c1.enter();
        yield* f.yield();
        yield* c2.enter(WAIT_NOTINDEADLOCK);
      },
      { name: "A" },
    );
    const b = host.spawn(
      function* (f) {
        yield* c2.enter();
        yield* f.yield();
        yield* c1.enter(WAIT_NOTINDEADLOCK);
      },
      { name: "B" },
    );
    await host.run();
    expect(blocked.sort()).toEqual(["A", "B"]); // run() settled and said so
    const dump = new Map(host.dump().map((d) => [d.name, d]));
    expect(dump.get("A")).toMatchObject({ state: "waiting", waitingOn: `crst owned by task ${b.id} (B)` });
    expect(dump.get("B")).toMatchObject({ state: "waiting", waitingOn: `crst owned by task ${a.id} (A)` });
    // (Element by element: a task is iterable (`yield* task`), and toEqual would walk its internals.)
    expect(c1.waiting()).toHaveLength(1);
    expect(c1.waiting()[0]).toBe(b);
    expect(c2.waiting()[0]).toBe(a);
  });

  it("a deadlock through a join is detected too: A owns the Crst B waits for, then A joins B", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    let hr = -1;
    const tasks: Record<string, Task> = {};
    tasks.a = host.spawn(function* (f) {
      yield* crst.enter();
      yield* f.yield();
      hr = yield* f.join(tasks.b);
      crst.leave();
    });
    tasks.b = host.spawn(function* () {
      yield* crst.enter();
      crst.leave();
    });
    host.runUntilIdle();
    expect(hr).toBe(HOST_E_DEADLOCK);
    expect(tasks.b.done).toBe(true);
  });

  it("a Crst whose owner ends is abandoned: its waiters get HOST_E_ABANDONED and it is free again", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const answers: number[] = [];
    const owner = host.spawn(function* (f) {
      yield* crst.enter();
      yield* crst.enter();
      yield* f.sleep(5);
      // ends owning it (twice)
    });
    for (let i = 0; i < 2; i++) {
      host.spawn(function* () {
        answers.push(yield* crst.enter());
      });
    }
    host.runUntilIdle();
    expect(owner.done).toBe(true);
    expect(answers).toEqual([HOST_E_ABANDONED, HOST_E_ABANDONED]);
    expect(crst.getOwner()).toBeNull();
    let later = -1;
    host.spawn(function* () {
      later = yield* crst.enter();
      crst.leave();
    });
    host.runUntilIdle();
    expect(later).toBe(S_OK);
  });

  it("enter with a bad option answers E_INVALIDARG", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const answers: number[] = [];
    host.spawn(function* () {
      answers.push(yield* crst.enter(8));
      answers.push(yield* crst.enter(-1));
      answers.push(yield* crst.enter(WAIT_ALERTABLE | WAIT_MSGPUMP));
      crst.leave();
    });
    host.runUntilIdle();
    expect(answers).toEqual([E_INVALIDARG, E_INVALIDARG, S_OK]);
  });

  it("enter outside a fiber answers HOST_E_INVALIDOPERATION (the root task cannot block)", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    expect(crst.enter().next()).toEqual({ value: HOST_E_INVALIDOPERATION, done: true });
  });
});

describe("IHostCrst::TryEnter", () => {
  it("takes a free Crst (out.value true), takes it again when owned by the caller, fails without waiting otherwise", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const seen: [string, number, boolean | undefined][] = [];
    host.spawn(function* (f) {
      const out: { value?: boolean } = {};
      seen.push(["free", crst.tryEnter(0, out), out.value]);
      seen.push(["again", crst.tryEnter(0, out), out.value]);
      yield* f.yield();
      crst.leave();
      crst.leave();
    });
    host.spawn(function* () {
      const out: { value?: boolean } = {};
      seen.push(["owned by another", crst.tryEnter(0, out), out.value]);
      expect(host.now()).toBe(0);
    });
    host.runUntilIdle();
    expect(seen).toEqual([
      ["free", S_OK, true],
      ["again", S_OK, true],
      ["owned by another", S_OK, false],
    ]);
    expect(crst.getOwner()).toBeNull();
  });

  it("answers E_INVALIDARG for a bad option and E_POINTER without an out object", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    expect(crst.tryEnter(8, {})).toBe(E_INVALIDARG);
    expect(crst.tryEnter(0, undefined as never)).toBe(E_POINTER);
    expect(crst.getOwner()).toBeNull();
  });

  it("from the root task: the root task owns it and leaves it", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const out: { value?: boolean } = {};
    expect(crst.tryEnter(0, out)).toBe(S_OK);
    expect(out.value).toBe(true);
    expect(crst.getOwner()).toBe(host.rootTask);
    expect(crst.leave()).toBe(S_OK);
    expect(crst.getOwner()).toBeNull();
  });
});

describe("ICLRTask::LocksHeld", () => {
  it("counts the Crsts a task holds, not its recursion, and drops to 0 as it leaves them", async () => {
    const host = await virtualHost();
    const crsts = [host.createCrst(), host.createCrst(), host.createCrst()];
    const counts: number[] = [];
    const t = host.spawn(function* (f) {
      counts.push(locksHeld(f.task));
      for (const c of crsts) {
        yield* c.enter();
        counts.push(locksHeld(f.task));
      }
      yield* crsts[0].enter(); // recursion
      counts.push(locksHeld(f.task));
      crsts[0].leave();
      counts.push(locksHeld(f.task));
      crsts[0].leave();
      counts.push(locksHeld(f.task));
      const out: { value?: boolean } = {};
      crsts[0].tryEnter(0, out);
      counts.push(locksHeld(f.task));
      for (const c of crsts) c.leave();
      counts.push(locksHeld(f.task));
    });
    host.runUntilIdle();
    expect(t.done).toBe(true);
    expect(counts).toEqual([0, 1, 2, 3, 3, 3, 2, 3, 0]);
  });

  it("a Crst handed over on leave counts for its new owner", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const counts: Record<string, number> = {};
    let b: Task;
    const a = host.spawn(function* (f) {
      yield* crst.enter();
      yield* f.yield();
      crst.leave();
      counts.aAfter = locksHeld(f.task);
      counts.bAfterHandover = locksHeld(b);
    });
    b = host.spawn(function* () {
      yield* crst.enter();
      crst.leave();
    });
    host.runUntilIdle();
    expect(a.done && b.done).toBe(true);
    expect(counts).toEqual({ aAfter: 0, bAfterHandover: 1 });
  });

  it("close() of a held Crst takes it from its owner's count", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const counts: number[] = [];
    host.spawn(function* (f) {
      yield* crst.enter();
      counts.push(locksHeld(f.task));
      expect(crst.close()).toBe(S_OK);
      counts.push(locksHeld(f.task));
      expect(crst.leave()).toBe(HOST_E_NOT_OWNER);
    });
    host.runUntilIdle();
    expect(counts).toEqual([1, 0]);
  });
});

describe("IHostAutoEvent", () => {
  it("set wakes exactly one waiter, the oldest", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    const woke: string[] = [];
    for (const name of ["w1", "w2", "w3"]) {
      host.spawn(function* () {
        expect(yield* ev.wait()).toBe(S_OK);
        woke.push(name);
      });
    }
    host.spawn(function* (f) {
      yield* f.yield();
      expect(ev.set()).toBe(S_OK);
      yield* f.yield();
      woke.push("after one set");
      ev.set();
      yield* f.yield();
      woke.push("after two sets");
    });
    host.runUntilIdle();
    expect(woke).toEqual(["w1", "after one set", "w2", "after two sets"]);
    expect(ev.waiting().length).toBe(1);
  });

  it("set with nobody waiting stays signalled until one wait consumes it", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    expect(ev.set()).toBe(S_OK);
    expect(ev.set()).toBe(S_OK); // does not count
    const answers: [number, number][] = [];
    host.spawn(function* () {
      answers.push([yield* ev.wait(), host.now()]);
      answers.push([yield* ev.wait(20), host.now()]);
    });
    host.runUntilIdle();
    expect(answers).toEqual([
      [S_OK, 0],
      [HOST_E_TIMEOUT, 20],
    ]);
  });
});

describe("IHostManualEvent", () => {
  it("set wakes every waiter and stays set: later waits return at once until reset", async () => {
    const host = await virtualHost();
    const ev = host.createManualEvent(false);
    const log: string[] = [];
    for (const name of ["w1", "w2", "w3"]) {
      host.spawn(function* () {
        expect(yield* ev.wait()).toBe(S_OK);
        log.push(name);
      });
    }
    host.spawn(function* (f) {
      yield* f.yield();
      expect(ev.set()).toBe(S_OK);
      yield* f.yield();
      log.push(`still set: ${yield* ev.wait(0)}`);
      expect(ev.reset()).toBe(S_OK);
      log.push(`after reset: ${yield* ev.wait(5)}`);
    });
    host.runUntilIdle();
    expect(log).toEqual(["w1", "w2", "w3", `still set: ${S_OK}`, `after reset: ${HOST_E_TIMEOUT}`]);
    expect(host.now()).toBe(5);
  });

  it("created set, waits pass at once", async () => {
    const host = await virtualHost();
    const ev = host.createManualEvent(true);
    const answers: number[] = [];
    host.spawn(function* () {
      for (let i = 0; i < 3; i++) answers.push(yield* ev.wait(0));
    });
    host.runUntilIdle();
    expect(answers).toEqual([S_OK, S_OK, S_OK]);
  });
});

describe("IHostSemaphore", () => {
  it("wait takes a unit, blocks at 0, and release wakes waiters in FIFO order one unit each", async () => {
    const host = await virtualHost();
    const sem = host.createSemaphore(2, 5);
    const log: string[] = [];
    for (const name of ["a", "b", "c", "d", "e"]) {
      host.spawn(function* () {
        expect(yield* sem.wait()).toBe(S_OK);
        log.push(name);
      });
    }
    host.spawn(function* (f) {
      yield* f.yield();
      log.push(`count ${sem.currentCount}`);
      const out: { value?: number } = {};
      expect(sem.release(2, out)).toBe(S_OK);
      log.push(`previous ${out.value}`);
      yield* f.yield();
      expect(sem.release(3, out)).toBe(S_OK);
      log.push(`previous ${out.value}`);
      yield* f.yield();
      log.push(`count ${sem.currentCount}`);
    });
    host.runUntilIdle();
    expect(log).toEqual(["a", "b", "count 0", "previous 0", "c", "d", "previous 0", "e", "count 2"]);
  });

  it("release answers the previous count in out.value", async () => {
    const host = await virtualHost();
    const sem = host.createSemaphore(1, 10);
    const out: { value?: number } = {};
    expect(sem.release(3, out)).toBe(S_OK);
    expect(out.value).toBe(1);
    expect(sem.release(1, out)).toBe(S_OK);
    expect(out.value).toBe(4);
    expect(sem.currentCount).toBe(5);
  });

  it("release past the maximum answers E_INVALIDARG and changes nothing", async () => {
    const host = await virtualHost();
    const sem = host.createSemaphore(2, 3);
    const out: { value?: number } = { value: -7 };
    expect(sem.release(2, out)).toBe(E_INVALIDARG);
    expect(out.value).toBe(-7);
    expect(sem.currentCount).toBe(2);
    expect(sem.release(1, out)).toBe(S_OK);
    expect(sem.release(1)).toBe(E_INVALIDARG);
    expect(sem.currentCount).toBe(3);
    for (const bad of [0, -1, 1.5, NaN]) expect(sem.release(bad)).toBe(E_INVALIDARG);
    expect(sem.currentCount).toBe(3);
  });

  it("a wait with a time limit times out with HOST_E_TIMEOUT and takes no unit", async () => {
    const host = await virtualHost();
    const sem = host.createSemaphore(0, 1);
    const answers: [number, number][] = [];
    host.spawn(function* () {
      answers.push([yield* sem.wait(0), host.now()]);
      answers.push([yield* sem.wait(15), host.now()]);
    });
    host.runUntilIdle();
    expect(answers).toEqual([
      [HOST_E_TIMEOUT, 0],
      [HOST_E_TIMEOUT, 15],
    ]);
    expect(sem.release(1)).toBe(S_OK);
    expect(sem.currentCount).toBe(1);
  });

  it("createSemaphore refuses a bad initial count or maximum", async () => {
    const host = await virtualHost();
    expect(() => host.createSemaphore(3, 2)).toThrow(/E_INVALIDARG/);
    expect(() => host.createSemaphore(-1, 2)).toThrow(/E_INVALIDARG/);
    expect(() => host.createSemaphore(0, 0)).toThrow(/E_INVALIDARG/);
  });
});

describe("waits with a time limit answer HOST_E_TIMEOUT, at exactly ms later", () => {
  it("on each kind of wait", async () => {
    const host = await virtualHost();
    const auto = host.createAutoEvent();
    const manual = host.createManualEvent(false);
    const sem = host.createSemaphore(0, 1);
    const forever = host.createAutoEvent();
    const target = host.spawn(function* () {
      yield* forever.wait();
    });
    const seen: [string, number, number][] = [];
    host.spawn(function* (f) {
      let t0 = host.now();
      seen.push(["auto", yield* auto.wait(10), host.now() - t0]);
      t0 = host.now();
      seen.push(["manual", yield* f.wait(manual, 20), host.now() - t0]);
      t0 = host.now();
      seen.push(["semaphore", yield* sem.wait(30), host.now() - t0]);
      t0 = host.now();
      seen.push(["join", yield* f.join(target, 40), host.now() - t0]);
      t0 = host.now();
      seen.push(["auto at once", yield* f.wait(auto, 0), host.now() - t0]);
    });
    host.runUntilIdle();
    expect(seen).toEqual([
      ["auto", HOST_E_TIMEOUT, 10],
      ["manual", HOST_E_TIMEOUT, 20],
      ["semaphore", HOST_E_TIMEOUT, 30],
      ["join", HOST_E_TIMEOUT, 40],
      ["auto at once", HOST_E_TIMEOUT, 0],
    ]);
    // The timed-out waiters left the queues.
    expect(auto.waiting()).toEqual([]);
    expect(manual.waiting()).toEqual([]);
    expect(sem.waiting()).toEqual([]);
  });

  it("a wait satisfied before its time limit answers S_OK and its timer does not fire later", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    const log: string[] = [];
    host.spawn(function* () {
      log.push(`wait ${yield* ev.wait(100)} at ${host.now()}`);
      log.push(`second wait ${yield* ev.wait(500)} at ${host.now()}`);
    });
    host.spawn(function* (f) {
      yield* f.sleep(30);
      ev.set();
    });
    host.runUntilIdle();
    expect(log).toEqual([`wait ${S_OK} at 30`, `second wait ${HOST_E_TIMEOUT} at 530`]);
  });
});

describe("close()", () => {
  it("gives every waiter HOST_E_ABANDONED, and so later waits; a second close answers S_FALSE", async () => {
    const host = await virtualHost();
    const objects = {
      auto: host.createAutoEvent(),
      manual: host.createManualEvent(false),
      semaphore: host.createSemaphore(0, 1),
    };
    const answers: string[] = [];
    for (const [name, obj] of Object.entries(objects)) {
      for (let i = 0; i < 2; i++) {
        host.spawn(function* (f) {
          answers.push(`${name} ${yield* f.wait(obj)}`);
          answers.push(`${name} later ${yield* f.wait(obj, 10)}`);
        });
      }
    }
    host.spawn(function* (f) {
      yield* f.yield();
      for (const obj of Object.values(objects)) expect(obj.close()).toBe(S_OK);
    });
    host.runUntilIdle();
    for (const name of Object.keys(objects)) {
      expect(answers.filter((a) => a === `${name} ${HOST_E_ABANDONED}`)).toHaveLength(2);
      expect(answers.filter((a) => a === `${name} later ${HOST_E_ABANDONED}`)).toHaveLength(2);
    }
    expect(host.now()).toBe(0);
    for (const obj of Object.values(objects)) expect(obj.close()).toBe(S_FALSE);
  });

  it("a closed Crst gives its waiters HOST_E_ABANDONED", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const answers: number[] = [];
    host.spawn(function* (f) {
      yield* crst.enter();
      yield* f.yield();
      crst.close();
    });
    for (let i = 0; i < 2; i++) {
      host.spawn(function* () {
        answers.push(yield* crst.enter());
      });
    }
    host.runUntilIdle();
    expect(answers).toEqual([HOST_E_ABANDONED, HOST_E_ABANDONED]);
    host.spawn(function* () {
      answers.push(yield* crst.enter());
    });
    host.runUntilIdle();
    expect(answers[2]).toBe(HOST_E_ABANDONED);
  });

  it("set, reset and release on a closed object answer HOST_E_INVALIDOPERATION", async () => {
    const host = await virtualHost();
    const auto = host.createAutoEvent();
    const manual = host.createManualEvent(true);
    const sem = host.createSemaphore(0, 3);
    auto.close();
    manual.close();
    sem.close();
    expect(auto.set()).toBe(HOST_E_INVALIDOPERATION);
    expect(manual.set()).toBe(HOST_E_INVALIDOPERATION);
    expect(manual.reset()).toBe(HOST_E_INVALIDOPERATION);
    expect(sem.release(1)).toBe(HOST_E_INVALIDOPERATION);
  });
});

describe("f.wait", () => {
  it("waits on an event or a semaphore of its host", async () => {
    const host = await virtualHost();
    const auto = host.createAutoEvent();
    const sem = host.createSemaphore(1, 1);
    auto.set();
    const answers: number[] = [];
    host.spawn(function* (f) {
      answers.push(yield* f.wait(auto));
      answers.push(yield* f.wait(sem, INFINITE, 0));
    });
    host.runUntilIdle();
    expect(answers).toEqual([S_OK, S_OK]);
  });

  it("answers E_INVALIDARG for a Crst, another host's object, or something that is not a sync object", async () => {
    const host = await virtualHost();
    const other = await virtualHost();
    const crst: Crst = host.createCrst();
    const foreignEvent = other.createManualEvent(true);
    const foreignSemaphore = other.createSemaphore(1, 1);
    const answers: number[] = [];
    host.spawn(function* (f) {
      answers.push(yield* f.wait(crst as never));
      answers.push(yield* f.wait(foreignEvent));
      answers.push(yield* f.wait(foreignSemaphore));
      answers.push(yield* f.wait({} as never));
      answers.push(yield* f.wait(null as never));
    });
    host.runUntilIdle();
    expect(answers).toEqual(Array(5).fill(E_INVALIDARG));
    expect(crst.getOwner()).toBeNull();
    expect(foreignSemaphore.currentCount).toBe(1);
  });

  it("answers E_INVALIDARG for a bad ms or option (f.wait: throws it where it is made), and takes nothing", async () => {
    const host = await virtualHost();
    const ev = host.createManualEvent(true);
    const sem = host.createSemaphore(1, 1);
    const answers: number[] = [];
    const thrown = (make: () => unknown): number => {
      try {
        make();
        return S_OK;
      } catch (e) {
        return (e as HResultError).hr;
      }
    };
    host.spawn(function* (f) {
      for (const ms of [-1, 1.5, NaN, 2 ** 32, Infinity]) answers.push(thrown(() => f.wait(ev, ms)));
      for (const option of [8, -1, 0.5, 0x10]) answers.push(thrown(() => f.wait(ev, 10, option)));
      answers.push(yield* sem.wait(-5));
      answers.push(yield* sem.wait(10, 64));
    });
    host.runUntilIdle();
    expect(answers).toEqual(Array(11).fill(E_INVALIDARG));
    expect(sem.currentCount).toBe(1);
  });
});
