// The scheduler's order (priorities, FIFO, the virtual clock), run() / runUntilIdle(), and the
// waits of IHostTask::Join and IHostTask::Alert.
import { describe, it, expect } from "vitest";
import {
  createHost,
  HResultError,
  type Task,
  type FiberContext,
  S_OK,
  E_INVALIDARG,
  HOST_E_TIMEOUT,
  HOST_E_INTERRUPTED,
  HOST_E_DEADLOCK,
  HOST_E_INVALIDOPERATION,
  INFINITE,
  WAIT_ALERTABLE,
  WAIT_NOTINDEADLOCK,
  THREAD_PRIORITY_IDLE,
  THREAD_PRIORITY_LOWEST,
  THREAD_PRIORITY_BELOW_NORMAL,
  THREAD_PRIORITY_NORMAL,
  THREAD_PRIORITY_ABOVE_NORMAL,
  THREAD_PRIORITY_HIGHEST,
  THREAD_PRIORITY_TIME_CRITICAL,
} from "../src/index.js";
import { virtualHost } from "./support/fibers.js";

import { IDX } from "../src/core/names.js";
/** The settled value of a promise, or the error it rejected with. */
const settled = (p: Promise<unknown>) =>
  p.then(
    (v) => v,
    (e: unknown) => e,
  );

describe("priorities: higher THREAD_PRIORITY runs first", () => {
  it("runs ready fibers from TIME_CRITICAL down to IDLE whatever the spawn order", async () => {
    const host = await virtualHost();
    const order: string[] = [];
    const levels: [string, number][] = [
      ["idle", THREAD_PRIORITY_IDLE],
      ["normal", THREAD_PRIORITY_NORMAL],
      ["lowest", THREAD_PRIORITY_LOWEST],
      ["timeCritical", THREAD_PRIORITY_TIME_CRITICAL],
      ["belowNormal", THREAD_PRIORITY_BELOW_NORMAL],
      ["highest", THREAD_PRIORITY_HIGHEST],
      ["aboveNormal", THREAD_PRIORITY_ABOVE_NORMAL],
    ];
    for (const [name, priority] of levels) {
      host.spawn(
        function* () {
          order.push(name);
        },
        { name, priority },
      );
    }
    host.runUntilIdle();
    expect(order).toEqual(["timeCritical", "highest", "aboveNormal", "normal", "belowNormal", "lowest", "idle"]);
  });

  it("a lower-priority fiber runs only when no higher-priority fiber is ready", async () => {
    const host = await virtualHost();
    const order: string[] = [];
    host.spawn(
      function* (f) {
        for (let i = 0; i < 3; i++) {
          order.push(`low${i}`);
          yield* f.yield();
        }
      },
      { priority: THREAD_PRIORITY_LOWEST },
    );
    host.spawn(
      function* (f) {
        for (let i = 0; i < 3; i++) {
          order.push(`high${i}`);
          yield* f.yield();
        }
      },
      { priority: THREAD_PRIORITY_HIGHEST },
    );
    host.runUntilIdle();
    expect(order).toEqual(["high0", "high1", "high2", "low0", "low1", "low2"]);
  });

  it("a higher-priority fiber woken by a set runs before the setter continues", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    const order: string[] = [];
    host.spawn(
      function* () {
        order.push("high waits");
        expect(yield* ev.wait()).toBe(S_OK);
        order.push("high woke");
      },
      { priority: THREAD_PRIORITY_ABOVE_NORMAL },
    );
    host.spawn(function* (f) {
      order.push("low sets");
      ev.set();
      yield* f.yield();
      order.push("low continues");
    });
    host.runUntilIdle();
    expect(order).toEqual(["high waits", "low sets", "high woke", "low continues"]);
  });
});

describe("priorities: FIFO within a level", () => {
  it("fibers of one level run in spawn order and a yielding fiber goes to the back", async () => {
    const host = await virtualHost();
    const order: string[] = [];
    for (const name of ["a", "b", "c"]) {
      host.spawn(
        function* (f) {
          for (let i = 1; i <= 3; i++) {
            order.push(`${name}${i}`);
            yield* f.yield();
          }
        },
        { name },
      );
    }
    host.runUntilIdle();
    expect(order).toEqual(["a1", "b1", "c1", "a2", "b2", "c2", "a3", "b3", "c3"]);
  });

  it("woken waiters join the back of their level's queue in wake order", async () => {
    const host = await virtualHost();
    const ev = host.createManualEvent(false);
    const order: string[] = [];
    for (const name of ["w1", "w2", "w3"]) {
      host.spawn(function* () {
        yield* ev.wait();
        order.push(name);
      });
    }
    host.spawn(function* (f) {
      order.push("runner before set");
      ev.set();
      yield* f.yield();
      order.push("runner after set");
    });
    host.runUntilIdle();
    expect(order).toEqual(["runner before set", "w1", "w2", "w3", "runner after set"]);
  });
});

describe("IHostTask::SetPriority / GetPriority", () => {
  it("setPriority on a ready fiber moves it to its new level", async () => {
    const host = await virtualHost();
    const order: string[] = [];
    const tasks = ["a", "b", "c"].map((name) =>
      host.spawn(function* () {
        order.push(name);
      }),
    );
    expect(tasks[2].setPriority(THREAD_PRIORITY_HIGHEST)).toBe(S_OK);
    expect(tasks[0].setPriority(THREAD_PRIORITY_LOWEST)).toBe(S_OK);
    host.runUntilIdle();
    expect(order).toEqual(["c", "b", "a"]);
  });

  it("a fiber that lowers its own priority lets the others of its old level run first", async () => {
    const host = await virtualHost();
    const order: string[] = [];
    host.spawn(function* (f) {
      expect(f.task.setPriority(THREAD_PRIORITY_IDLE)).toBe(S_OK);
      yield* f.yield();
      order.push("demoted");
    });
    host.spawn(function* (f) {
      yield* f.yield();
      order.push("other");
    });
    host.runUntilIdle();
    expect(order).toEqual(["other", "demoted"]);
  });

  it("getPriority answers the THREAD_PRIORITY that was set", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* () {}, { priority: THREAD_PRIORITY_BELOW_NORMAL });
    const out: { value?: number } = {};
    expect(t.getPriority(out)).toBe(S_OK);
    expect(out.value).toBe(THREAD_PRIORITY_BELOW_NORMAL);
    expect(t.setPriority(THREAD_PRIORITY_TIME_CRITICAL)).toBe(S_OK);
    expect(t.getPriority(out)).toBe(S_OK);
    expect(out.value).toBe(THREAD_PRIORITY_TIME_CRITICAL);
    host.runUntilIdle();
  });

  it("values that are not THREAD_PRIORITY values answer E_INVALIDARG and change nothing", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* () {}, { priority: THREAD_PRIORITY_ABOVE_NORMAL });
    for (const bad of [3, -3, 14, 16, -16, 0.5, NaN, Infinity]) expect(t.setPriority(bad)).toBe(E_INVALIDARG);
    expect(t.setPriority("1" as unknown as number)).toBe(E_INVALIDARG);
    const out: { value?: number } = {};
    t.getPriority(out);
    expect(out.value).toBe(THREAD_PRIORITY_ABOVE_NORMAL);
    host.runUntilIdle();
  });

  it("spawn with a bad priority throws HResultError E_INVALIDARG and leaves no task behind (from the root task)", async () => {
    const host = await virtualHost();
    const live = host.liveTaskCount;
    let err: unknown;
    try {
      host.spawn(function* () {}, { priority: 3 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HResultError);
    expect((err as HResultError).hr).toBe(E_INVALIDARG);
    expect(host.liveTaskCount).toBe(live);
    expect(host.dump().map((d) => d.name)).toEqual(["root"]);
    expect(host.checkInvariants()).toBe(true);
  });

  it("spawn with a bad priority throws HResultError E_INVALIDARG and leaves no task behind (from inside a fiber)", async () => {
    const host = await virtualHost();
    let err: unknown;
    const parent = host.spawn(function* () {
      try {
        host.spawn(function* () {}, { priority: 7, name: "never" });
      } catch (e) {
        err = e;
      }
    });
    host.runUntilIdle();
    await parent.result;
    expect(err).toBeInstanceOf(HResultError);
    expect((err as HResultError).hr).toBe(E_INVALIDARG);
    // Only the root task is left: the refused fiber's slot went back to the core.
    expect(host.liveTaskCount).toBe(1);
    expect(host.checkInvariants()).toBe(true);
  });
});

describe("IHostTaskManager::Sleep (f.sleep) on the virtual clock", () => {
  it("sleepers wake in deadline order, each at exactly its deadline", async () => {
    const host = await virtualHost();
    const woke: [string, number][] = [];
    for (const [name, ms] of [
      ["s30", 30],
      ["s10", 10],
      ["s20", 20],
      ["s10b", 10],
    ] as const) {
      host.spawn(function* (f) {
        expect(yield* f.sleep(ms)).toBe(S_OK);
        woke.push([name, host.now()]);
      });
    }
    host.runUntilIdle();
    expect(woke).toEqual([
      ["s10", 10],
      ["s10b", 10],
      ["s20", 20],
      ["s30", 30],
    ]);
    expect(host.now()).toBe(30);
  });

  it("host.now() advances by exactly the slept time, sleep after sleep", async () => {
    const host = await virtualHost();
    const seen: number[] = [];
    const t = host.spawn(function* (f) {
      const t0 = host.now();
      for (const ms of [5, 7, 1, 1000]) {
        const before = host.now();
        yield* f.sleep(ms);
        seen.push(host.now() - before);
      }
      return host.now() - t0;
    });
    host.runUntilIdle();
    expect(seen).toEqual([5, 7, 1, 1000]);
    expect(await t.result).toBe(1013);
  });

  it("the clock does not move while a fiber is ready", async () => {
    const host = await virtualHost();
    const times: number[] = [];
    host.spawn(function* (f) {
      yield* f.sleep(50);
    });
    host.spawn(function* (f) {
      for (let i = 0; i < 5; i++) {
        times.push(host.now());
        yield* f.yield();
      }
    });
    host.runUntilIdle();
    expect(times).toEqual([0, 0, 0, 0, 0]);
    expect(host.now()).toBe(50);
  });

  it("sleep(0) yields: the other ready fibers run, and the clock stays", async () => {
    const host = await virtualHost();
    const order: string[] = [];
    host.spawn(function* (f) {
      order.push("a1");
      expect(yield* f.sleep(0)).toBe(S_OK);
      order.push("a2");
    });
    host.spawn(function* () {
      order.push("b1");
    });
    host.runUntilIdle();
    expect(order).toEqual(["a1", "b1", "a2"]);
    expect(host.now()).toBe(0);
  });

  it("bad ms or option throws HResultError(E_INVALIDARG) where it is made, without sleeping", async () => {
    const host = await virtualHost();
    const answers: number[] = [];
    host.spawn(function* (f) {
      for (const [ms, option] of [
        [-1, 0],
        [1.5, 0],
        [NaN, 0],
        [2 ** 32, 0],
        [10, 8],
        [10, -1],
      ]) {
        try {
          f.sleep(ms, option);
        } catch (e) {
          answers.push((e as HResultError).hr);
        }
      }
    });
    host.runUntilIdle();
    expect(answers).toEqual(Array(6).fill(E_INVALIDARG));
    expect(host.now()).toBe(0);
  });

  it("an INFINITE sleep ends only by an alert when alertable", async () => {
    const host = await virtualHost();
    let hr = -1;
    const sleeper = host.spawn(function* (f) {
      hr = yield* f.sleep(INFINITE, WAIT_ALERTABLE);
    });
    host.spawn(function* (f) {
      yield* f.sleep(1000);
      expect(sleeper.alert()).toBe(S_OK);
    });
    host.runUntilIdle();
    expect(hr).toBe(HOST_E_INTERRUPTED);
    expect(host.now()).toBe(1000);
  });
});

describe("host.run()", () => {
  it("settles when nothing can progress, leaving fibers blocked forever in dump() with what they wait on", async () => {
    const blocked: string[] = [];
    const host = await virtualHost({ onDeadlock: (d) => blocked.push(...d.map((x) => x.name)) });
    const ev = host.createAutoEvent();
    const crst = host.createCrst();
    const a = host.spawn(
      function* () {
        yield* crst.enter();
        yield* ev.wait();
      },
      { name: "A" },
    );
    const b = host.spawn(
      function* () {
        yield* crst.enter();
      },
      { name: "B" },
    );
    const c = host.spawn(
      function* (f) {
        yield* f.sleep(INFINITE);
      },
      { name: "C" },
    );
    const d = host.spawn(
      function* (f) {
        yield* f.join(a);
      },
      { name: "D" },
    );
    const e = host.spawn(
      function* (f) {
        yield* f.sleep(10);
      },
      { name: "E" },
    );
    await host.run();
    expect(e.done).toBe(true);
    const byName = new Map(host.dump().map((x) => [x.name, x]));
    expect(byName.has("E")).toBe(false);
    expect(byName.get("root")!.waitingOn).toBeNull();
    for (const t of [a, b, c, d]) expect(byName.get(t.name)!.state).toBe("waiting");
    expect(byName.get("A")!.waitingOn).toBe("autoEvent");
    expect(byName.get("B")!.waitingOn).toBe(`crst owned by task ${a.id} (A)`);
    expect(byName.get("C")!.waitingOn).toBe("a timer (sleep)");
    expect(byName.get("D")!.waitingOn).toBe(`task ${a.id} (A) to end`);
    expect(host.liveTaskCount).toBe(5);
    expect(blocked.sort()).toEqual(["A", "B", "C", "D"]); // and onDeadlock was told of each
  });

  it("fibers spawned after run() settled wait for the next run()", async () => {
    const pending: (() => void)[] = [];
    const host = await createHost({ clock: "virtual", dispatch: (fn) => pending.push(fn) });
    const drain = async (p: Promise<unknown>) => {
      for (let i = 0; pending.length; i++) {
        if (i === 10_000) throw new Error("run() still dispatching after 10,000 slices");
        pending.shift()!();
      }
      await p;
    };
    host.spawn(function* (f) {
      yield* f.sleep(5);
    });
    await drain(host.run());
    let ran = false;
    const late = host.spawn(function* () {
      ran = true;
    });
    expect(pending.length).toBe(0); // nothing was scheduled to run it
    await Promise.resolve();
    expect(ran).toBe(false);
    expect(late.getState()).toBe("ready");
    await drain(host.run());
    expect(ran).toBe(true);
    expect(late.done).toBe(true);
  });

  it("returns to the event loop between slices of `budget` steps", async () => {
    const pending: (() => void)[] = [];
    const host = await createHost({ clock: "virtual", budget: 4, dispatch: (fn) => pending.push(fn) });
    let steps = 0;
    for (let i = 0; i < 4; i++) {
      host.spawn(function* (f) {
        for (let k = 0; k < 5; k++) {
          steps++;
          yield* f.yield();
        }
      });
    }
    const p = host.run();
    let slices = 0;
    while (pending.length && slices < 10_000) {
      pending.shift()!();
      slices++;
    }
    expect(pending, "run() still dispatching after 10,000 slices").toEqual([]);
    await p;
    expect(steps).toBe(20);
    expect(slices).toBeGreaterThanOrEqual(6); // 24 steps, 4 a slice
  });

  it("run() and runUntilIdle() called inside a fiber throw HResultError HOST_E_INVALIDOPERATION", async () => {
    const host = await virtualHost();
    const errors: unknown[] = [];
    host.spawn(function* () {
      try {
        host.runUntilIdle();
      } catch (e) {
        errors.push(e);
      }
      try {
        void host.run();
      } catch (e) {
        errors.push(e);
      }
    });
    await host.run();
    expect(errors).toHaveLength(2);
    for (const e of errors) {
      expect(e).toBeInstanceOf(HResultError);
      expect((e as HResultError).hr).toBe(HOST_E_INVALIDOPERATION);
    }
  });
});

describe("IHostTask::Join (f.join)", () => {
  it("answers S_OK when the task returned, threw or was aborted", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    const returns = host.spawn(function* (f) {
      yield* f.sleep(5);
      return 1;
    });
    const throws = host.spawn(function* (f) {
      yield* f.sleep(10);
      throw new Error("boom");
    });
    const aborted = host.spawn(function* () {
      yield* ev.wait();
    });
    const results: [string, number, number][] = [];
    host.spawn(function* (f) {
      for (const [name, t] of [
        ["returns", returns],
        ["throws", throws],
        ["aborted", aborted],
      ] as const) {
        if (t === aborted) t.abort();
        results.push([name, yield* f.join(t), host.now()]);
      }
    });
    host.runUntilIdle();
    expect(results).toEqual([
      ["returns", S_OK, 5],
      ["throws", S_OK, 10],
      ["aborted", S_OK, 10],
    ]);
    expect(await settled(throws.result)).toBeInstanceOf(Error);
    expect(await settled(aborted.result)).toMatchObject({ name: "TaskAbortError" });
  });

  it("answers S_OK at once for a task that already ended, also after its slot was reused", async () => {
    const host = await virtualHost();
    const first = host.spawn(function* () {
      return "first";
    });
    host.runUntilIdle();
    expect(first.done).toBe(true);
    const gate = host.createManualEvent(false);
    const second = host.spawn(function* () {
      yield* gate.wait();
    });
    expect(second[IDX]).toBe(first[IDX]); // the freed slot was reused
    const answers: number[] = [];
    host.spawn(function* (f) {
      answers.push(yield* f.join(first));
      answers.push(yield* f.join(first, 0));
      answers.push(yield* f.join(second, 0)); // the new tenant is still alive
      gate.set();
      answers.push(yield* f.join(second));
    });
    host.runUntilIdle();
    expect(answers).toEqual([S_OK, S_OK, HOST_E_TIMEOUT, S_OK]);
    expect(host.now()).toBe(0);
  });

  it("answers HOST_E_TIMEOUT when the task outlives the wait, at exactly ms later", async () => {
    const host = await virtualHost();
    const slow = host.spawn(function* (f) {
      yield* f.sleep(100);
    });
    const seen: [number, number][] = [];
    host.spawn(function* (f) {
      seen.push([yield* f.join(slow, 0), host.now()]);
      seen.push([yield* f.join(slow, 10), host.now()]);
      seen.push([yield* f.join(slow, 200), host.now()]);
    });
    host.runUntilIdle();
    expect(seen).toEqual([
      [HOST_E_TIMEOUT, 0],
      [HOST_E_TIMEOUT, 10],
      [S_OK, 100],
    ]);
  });

  it("an alert ends an alertable join with HOST_E_INTERRUPTED", async () => {
    const host = await virtualHost();
    const forever = host.createAutoEvent();
    const target = host.spawn(function* () {
      yield* forever.wait();
    });
    let hr = -1;
    const joiner = host.spawn(function* (f) {
      hr = yield* f.join(target, INFINITE, WAIT_ALERTABLE);
    });
    host.spawn(function* (f) {
      yield* f.sleep(3);
      expect(joiner.alert()).toBe(S_OK);
    });
    host.runUntilIdle();
    expect(hr).toBe(HOST_E_INTERRUPTED);
    expect(joiner.done).toBe(true);
    expect(target.done).toBe(false);
  });

  it("join on itself answers HOST_E_DEADLOCK", async () => {
    const host = await virtualHost();
    let hr = -1;
    host.spawn(function* (f) {
      hr = yield* f.join(f.task);
    });
    host.runUntilIdle();
    expect(hr).toBe(HOST_E_DEADLOCK);
  });

  it("the join that closes a cycle of joins answers HOST_E_DEADLOCK; with WAIT_NOTINDEADLOCK both stay blocked", async () => {
    const host = await virtualHost();
    const answers: Record<string, number> = {};
    const tasks: Record<string, Task> = {};
    tasks.a = host.spawn(function* (f) {
      answers.a = yield* f.join(tasks.b);
    });
    tasks.b = host.spawn(function* (f) {
      answers.b = yield* f.join(tasks.a);
    });
    host.runUntilIdle();
    expect(answers).toEqual({ b: HOST_E_DEADLOCK, a: S_OK });

    const blocked: string[] = [];
    const h2 = await virtualHost({ onDeadlock: (d) => blocked.push(...d.map((x) => x.name)) });
    const t2: Record<string, Task> = {};
    t2.a = h2.spawn(function* (f) {
      yield* f.join(t2.b, INFINITE, WAIT_NOTINDEADLOCK);
    });
    t2.b = h2.spawn(function* (f) {
      yield* f.join(t2.a, INFINITE, WAIT_NOTINDEADLOCK);
    });
    await h2.run();
    expect(t2.a.getState()).toBe("waiting");
    expect(t2.b.getState()).toBe("waiting");
    expect(blocked.sort()).toEqual([t2.a.name, t2.b.name].sort()); // run() settled with both blocked
  });

  it("join on another host's task, or on something that is not a task, answers E_INVALIDARG", async () => {
    const host = await virtualHost();
    const other = await virtualHost();
    const foreign = other.spawn(function* () {});
    const answers: number[] = [];
    host.spawn(function* (f) {
      answers.push(yield* f.join(foreign));
      answers.push(yield* f.join({} as Task));
    });
    host.runUntilIdle();
    other.runUntilIdle();
    expect(answers).toEqual([E_INVALIDARG, E_INVALIDARG]);
  });

  it("bad ms or option throws HResultError(E_INVALIDARG) where it is made", async () => {
    const host = await virtualHost();
    const target = host.spawn(function* (f) {
      yield* f.sleep(10);
    });
    const answers: number[] = [];
    host.spawn(function* (f) {
      for (const [ms, option] of [
        [-1, 0],
        [0.5, 0],
        [INFINITE, 16],
      ]) {
        try {
          f.join(target, ms, option);
        } catch (e) {
          answers.push((e as HResultError).hr);
        }
      }
    });
    host.runUntilIdle();
    expect(answers).toEqual([E_INVALIDARG, E_INVALIDARG, E_INVALIDARG]);
  });
});

describe("IHostTask::Alert", () => {
  it("an alert sent while the task is not waiting is remembered for its next alertable wait, once", async () => {
    const host = await virtualHost();
    const answers: [number, number][] = [];
    const t = host.spawn(function* (f: FiberContext) {
      answers.push([yield* f.sleep(10, WAIT_ALERTABLE), host.now()]);
      answers.push([yield* f.sleep(10, WAIT_ALERTABLE), host.now()]);
    });
    expect(t.alert()).toBe(S_OK);
    host.runUntilIdle();
    expect(answers).toEqual([
      [HOST_E_INTERRUPTED, 0],
      [S_OK, 10],
    ]);
  });

  it("non-alertable waits ignore an alert, which waits for the next alertable wait", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    const answers: [string, number, number][] = [];
    const waiter = host.spawn(function* (f) {
      answers.push(["event", yield* ev.wait(50), host.now()]);
      answers.push(["sleep", yield* f.sleep(5), host.now()]);
      answers.push(["alertable", yield* f.sleep(100, WAIT_ALERTABLE), host.now()]);
    });
    host.spawn(function* (f) {
      yield* f.sleep(1);
      expect(waiter.alert()).toBe(S_OK); // during the non-alertable event wait
    });
    host.runUntilIdle();
    expect(answers).toEqual([
      ["event", HOST_E_TIMEOUT, 50],
      ["sleep", S_OK, 55],
      ["alertable", HOST_E_INTERRUPTED, 55],
    ]);
  });

  it("an alert wakes an alertable event wait, which then no longer holds a place in the event's queue", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    const order: string[] = [];
    const alerted = host.spawn(function* () {
      order.push(`alerted: ${yield* ev.wait(INFINITE, WAIT_ALERTABLE)}`);
    });
    host.spawn(function* () {
      order.push(`second: ${yield* ev.wait()}`);
    });
    host.spawn(function* (f) {
      yield* f.yield();
      alerted.alert();
      yield* f.yield();
      ev.set();
    });
    host.runUntilIdle();
    expect(order).toEqual([`alerted: ${HOST_E_INTERRUPTED}`, `second: ${S_OK}`]);
  });
});
