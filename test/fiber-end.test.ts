// What a fiber leaves behind when it ends, and spawn's option reading: a fiber that nothing looks
// at ends without allocating (its counters are packed into the task), yet an ended task answers
// its last counters exactly, also after its slot has been reused many times over.

import { describe, it, expect } from "vitest";
import {
  E_FAIL,
  E_INVALIDARG,
  HOST_E_CLRNOTAVAILABLE,
  HOST_E_INVALIDOPERATION,
  HResultError,
  S_OK,
  type FiberContext,
  type Task,
} from "../src/index.js";
import { virtualHost } from "./support/fibers.js";

import { IDX } from "../src/core/names.js";
type Counts = ReturnType<Task["counters"]>;

/** A body that makes `n` of each kind of counter move: switches, and the four transitions. */
function* busy(f: FiberContext, n: number): Generator<unknown, number, unknown> {
  for (let i = 0; i < n; i++) {
    yield* f.yield();
    yield* f.managed(function* () {
      yield* f.unmanaged(7, function* () {});
    });
  }
  return n;
}

describe("an ended fiber's counters", () => {
  it("are its last values after its slot is reused, many times over, for small and large counts", async () => {
    const host = await virtualHost();
    const ended: { t: Task; last: Counts }[] = [];
    // 0 … 20 rounds: every counter crosses 15, the largest value the packed form holds.
    for (let n = 0; n <= 20; n++) {
      // Two at a time, so that their yields switch between them.
      for (let k = 0; k < 2; k++) {
        const e = { t: null as unknown as Task, last: null as unknown as Counts };
        e.t = host.spawn(function* (f) {
          const r = yield* busy(f, n);
          e.last = f.task.counters(); // (its last values, before it returns)
          return r;
        });
        ended.push(e);
      }
      host.runUntilIdle();
    }
    // They took two slots: each pair reused the ones the last pair freed.
    expect(new Set(ended.map((e) => e.t[IDX])).size).toBe(2);
    expect(Math.max(...ended.map((e) => e.last.switchIn))).toBeGreaterThan(16);
    for (let round = 0; round < 3; round++) {
      // Later tenants of the slot move its counters; an ended task keeps its own.
      for (let i = 0; i < 50; i++) host.spawn(busy, { param: 3 });
      host.runUntilIdle();
      for (const [i, { t, last }] of ended.entries()) {
        const n = i >> 1;
        expect(t.done).toBe(true);
        expect(t.counters(), `a fiber of ${n} rounds`).toEqual(last);
        expect(t.counters().leaveRuntime).toBe(n);
        expect(t.counters().reverseEnterRuntime).toBe(n);
      }
    }
  });

  it("are exact for each counter on its own at 15 and 16 (the packed form's edge)", async () => {
    const host = await virtualHost();
    const cases: { t: Task; want: Partial<Counts>; last: Counts | null }[] = [];
    const add = (want: Partial<Counts>, body: (f: FiberContext) => Generator<unknown, void, unknown>) => {
      const c = { t: null as unknown as Task, want, last: null as Counts | null };
      c.t = host.spawn(function* (f) {
        yield* body(f);
        c.last = f.task.counters();
      });
      cases.push(c);
    };
    for (const n of [0, 1, 14, 15, 16, 17, 255]) {
      // (Every fiber yields: while others are ready, each yield is a switch out and in.)
      add({ switchOut: n }, function* (f) {
        for (let i = 0; i < n; i++) yield* f.yield();
      });
      add({ reverseEnterRuntime: n, reverseLeaveRuntime: 0 }, function* (f) {
        for (let i = 0; i < n; i++) yield* f.reverseEnterRuntime();
      });
      add({ leaveRuntime: n, enterRuntime: n, reverseEnterRuntime: 1, reverseLeaveRuntime: 1 }, function* (f) {
        yield* f.managed(function* () {
          for (let i = 0; i < n; i++) yield* f.unmanaged(i, function* () {});
        });
      });
    }
    // A companion that keeps yielding, so that the first case's yields all switch.
    host.spawn(function* (f) {
      for (let i = 0; i < 300; i++) yield* f.yield();
    });
    host.runUntilIdle();
    for (let i = 0; i < 100; i++) host.spawn(busy, { param: 20 });
    host.runUntilIdle();
    for (const { t, want, last } of cases) {
      expect(last).not.toBeNull();
      expect(t.counters()).toMatchObject(want);
      // Reverse enters still open at its end are counted then: the only counter that moves after `last`.
      expect(t.counters()).toEqual({
        ...last,
        unmatchedReverseEnter: last!.reverseEnterRuntime - last!.reverseLeaveRuntime,
      });
    }
  });

  it("are a fresh object at each call, one a caller may change", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* () {});
    host.runUntilIdle();
    const a = t.counters();
    a.switchIn = 99;
    expect(t.counters().switchIn).toBe(1);
    expect(t.counters()).not.toBe(t.counters());
  });

  it("add up with the live tasks' to the host's totals", async () => {
    const host = await virtualHost();
    const tasks = [1, 2, 30].map((n) => host.spawn(busy, { param: n }));
    host.runUntilIdle();
    const sum = (k: keyof Counts) => tasks.reduce((s, t) => s + t.counters()[k], 0) + host.rootTask.counters()[k];
    const totals = host.counters();
    for (const k of Object.keys(totals) as (keyof Counts)[]) expect(sum(k), k).toBe(totals[k]);
  });
});

describe("spawn's options", () => {
  it("none, undefined and {} give the same fiber: default priority and stack, no name, param undefined", async () => {
    const host = await virtualHost();
    const seen: unknown[] = [];
    const body = function* (f: FiberContext, p: unknown) {
      seen.push(p);
      return f.task.name;
    };
    const ts = [host.spawn(body), host.spawn(body, undefined), host.spawn(body, {})];
    host.runUntilIdle();
    for (const t of ts) {
      expect(await t.result).toBe(`fiber-${t.id}`);
      const out: { value?: number } = {};
      expect(t.getPriority(out)).toBe(E_INVALIDARG); // ended: a stale handle
    }
    expect(seen).toEqual([undefined, undefined, undefined]);
  });

  it("are each read once, in a fixed order, and null is refused", async () => {
    const host = await virtualHost();
    const reads: string[] = [];
    const options = {};
    for (const k of ["name", "priority", "stackSize", "signal", "param"]) {
      Object.defineProperty(options, k, {
        enumerable: true,
        get() {
          reads.push(k);
          return k === "name" ? "n" : k === "param" ? 5 : undefined;
        },
      });
    }
    const t = host.spawn(function* (_f, p: number) {
      return p;
    }, options);
    host.runUntilIdle();
    expect(await t.result).toBe(5);
    expect(t.name).toBe("n");
    expect(reads).toEqual(["name", "priority", "stackSize", "signal", "param"]);
    expect(() => host.spawn(function* () {}, null as never)).toThrow(HResultError);
    expect(host.liveTaskCount).toBe(1);
  });

  it("an unknown own key is refused by name; an inherited one is not looked at; enumeration that throws is refused", async () => {
    const host = await virtualHost();
    expect(() => host.spawn(function* () {}, { param: 1, extra: 2 } as never)).toThrow(/unknown option "extra"/);
    const inherits = Object.assign(Object.create({ extra: 2 }), { param: 7 });
    const t = host.spawn(function* (_f, p: number) {
      return p;
    }, inherits);
    const hostile = new Proxy(
      {},
      {
        ownKeys() {
          throw new Error("ownKeys");
        },
      },
    );
    expect(() => host.spawn(function* () {}, hostile)).toThrow(/reading the options object threw/);
    host.runUntilIdle();
    expect(await t.result).toBe(7);
    expect(host.liveTaskCount).toBe(1);
  });

  it("a body that gives a promise: its message still names the fiber", async () => {
    const host = await virtualHost();
    const t = host.spawn((() => Promise.resolve(1)) as never, { name: "promiser" });
    host.runUntilIdle();
    const err = await t.result.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HResultError);
    expect((err as Error).message).toMatch(/the body of fiber promiser gave a Promise/);
  });
});

describe("spawn: CreateTask and Start in one call into the core", () => {
  it("a spawned fiber is started once: start() on it answers HOST_E_INVALIDOPERATION, before and after it ran", async () => {
    const host = await virtualHost();
    let runs = 0;
    const t = host.spawn(function* (f) {
      runs++;
      expect(f.task.start()).toBe(HOST_E_INVALIDOPERATION);
    });
    expect(t.getState()).toBe("ready");
    expect(t.start()).toBe(HOST_E_INVALIDOPERATION);
    host.runUntilIdle();
    expect(runs).toBe(1);
    expect(t.start()).toBe(E_INVALIDARG); // ended: a stale handle
  });

  it("a task made by CreateTask is still created, not started, until its Start", async () => {
    const host = await virtualHost();
    const out: { value?: Task } = {};
    let ran = false;
    expect(
      host.taskManager.createTask(
        0,
        function* () {
          ran = true;
        },
        null,
        out,
      ),
    ).toBe(S_OK);
    host.runUntilIdle();
    expect(ran).toBe(false);
    expect(out.value!.getState()).toBe("created");
    expect(out.value!.start()).toBe(S_OK);
    expect(out.value!.start()).toBe(HOST_E_INVALIDOPERATION);
    host.runUntilIdle();
    expect(ran).toBe(true);
  });

  it("a trap in that call fails the spawn with E_FAIL and leaves no task; the next spawns answer HOST_E_CLRNOTAVAILABLE", async () => {
    const host = await virtualHost();
    host.injectCoreFault();
    const hrOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof HResultError ? e.hr : e;
      }
      return "no error";
    };
    expect(hrOf(() => host.spawn(function* () {}))).toBe(E_FAIL);
    expect(hrOf(() => host.spawn(function* () {}, { priority: 1 }))).toBe(HOST_E_CLRNOTAVAILABLE);
    expect(host.liveTaskCount).toBe(1);
    expect(host.dump()).toHaveLength(1);
  });

  it("with a priority: the fiber is queued at its level, ahead of the default ones spawned before it", async () => {
    const host = await virtualHost();
    const order: string[] = [];
    host.spawn(function* () {
      order.push("default");
    });
    const hi = host.spawn(
      function* () {
        order.push("highest");
      },
      { priority: 2 },
    );
    const out: { value?: number } = {};
    expect(hi.getPriority(out)).toBe(S_OK);
    expect(out.value).toBe(2);
    host.runUntilIdle();
    expect(order).toEqual(["highest", "default"]);
  });
});
