// Issue 18, item 6: f.waitAny and deadlock detection. A waitAny on its own task answers
// HOST_E_DEADLOCK as f.join does; deadlock detection follows waitAny waits (blocked on a cycle only
// when every one of their objects is) and a parent waiting for its children; the array is read
// once, by index, as a snapshot.
import { describe, expect, it } from "vitest";
import {
  createHost,
  hresultName,
  E_INVALIDARG,
  INFINITE,
  MAXIMUM_WAIT_OBJECTS,
  WAIT_NOTINDEADLOCK,
  type Host,
  type Task,
  type WaitAnyResult,
} from "../src/index.js";

const name = (r: WaitAnyResult): string => `${hresultName(r.hr)} ${r.index}`;

async function host(): Promise<Host> {
  return createHost({ clock: "virtual", onDeadlock: () => {} });
}

describe("f.waitAny on the fiber's own task", () => {
  it.each([INFINITE, 100])(
    "answers HOST_E_DEADLOCK and index −1 at once (ms %s), as f.join(f.task) does",
    async (ms) => {
      const h = await host();
      const t = h.spawn(function* (f) {
        const any = yield* f.waitAny([f.task], ms);
        const join = yield* f.join(f.task, ms);
        return [name(any), hresultName(join)];
      });
      const report = await h.run();
      expect(report.blocked).toBe(0);
      expect(await t.result).toEqual(["HOST_E_DEADLOCK -1", "HOST_E_DEADLOCK"]);
    },
  );

  it("with another object beside it, waits for that object (no deadlock: the event can be set)", async () => {
    const h = await host();
    const ev = h.createAutoEvent();
    const t = h.spawn(function* (f) {
      return name(yield* f.waitAny([f.task, ev]));
    });
    h.runUntilIdle();
    expect(t.getState()).toBe("waiting");
    ev.set();
    await h.run();
    expect(await t.result).toBe("S_OK 1");
  });
});

describe("deadlock detection through f.waitAny", () => {
  it("A waits on any of [B], then B joins A: B's join answers HOST_E_DEADLOCK, and A acquires B when it ends", async () => {
    const h = await host();
    let a!: Task;
    const b = h.spawn(function* (f) {
      yield* f.yield(); // A waits first
      return hresultName(yield* f.join(a));
    });
    a = h.spawn(function* (f) {
      return name(yield* f.waitAny([b]));
    });
    const report = await h.run();
    expect(report.blocked).toBe(0);
    expect(await b.result).toBe("HOST_E_DEADLOCK");
    expect(await a.result).toBe("S_OK 0");
  });

  it("B joins A, then A waits on any of [B]: A's waitAny answers HOST_E_DEADLOCK", async () => {
    const h = await host();
    let b!: Task;
    const a = h.spawn(function* (f) {
      yield* f.yield(); // B joins first
      return name(yield* f.waitAny([b]));
    });
    b = h.spawn(function* (f) {
      return hresultName(yield* f.join(a));
    });
    await h.run();
    expect(await a.result).toBe("HOST_E_DEADLOCK -1");
    expect(await b.result).toBe("S_OK");
  });

  it("A waits on any of [B, C] and both join A: the second join closes the cycle (HOST_E_DEADLOCK), the first waits", async () => {
    const h = await host();
    let a!: Task;
    const joinA = function* (f: import("../src/index.js").FiberContext) {
      yield* f.yield();
      return hresultName(yield* f.join(a));
    };
    const b = h.spawn(joinA);
    const c = h.spawn(joinA);
    a = h.spawn(function* (f) {
      return name(yield* f.waitAny([b, c]));
    });
    const report = await h.run();
    expect(report.blocked).toBe(0);
    expect(await b.result).toBe("S_OK"); // it waited: A could still acquire C
    expect(await c.result).toBe("HOST_E_DEADLOCK");
    expect(await a.result).toBe("S_OK 1");
  });

  it("a waitAny with one object outside any cycle (an event) is no deadlock: B's join waits until the event lets A go", async () => {
    const h = await host();
    const ev = h.createAutoEvent();
    let a!: Task;
    const b = h.spawn(function* (f) {
      yield* f.yield();
      return hresultName(yield* f.join(a));
    });
    a = h.spawn(function* (f) {
      return name(yield* f.waitAny([b, ev]));
    });
    h.runUntilIdle();
    expect(b.getState()).toBe("waiting");
    ev.set();
    await h.run();
    expect(await a.result).toBe("S_OK 1");
    expect(await b.result).toBe("S_OK");
  });

  it("with WAIT_NOTINDEADLOCK the cycle is not checked: the join times out instead", async () => {
    const h = await host();
    let a!: Task;
    const b = h.spawn(function* (f) {
      yield* f.yield();
      return hresultName(yield* f.join(a, 10, WAIT_NOTINDEADLOCK));
    });
    a = h.spawn(function* (f) {
      return name(yield* f.waitAny([b], 50));
    });
    await h.run();
    expect(await b.result).toBe("HOST_E_TIMEOUT");
    expect(await a.result).toBe("S_OK 0");
  });
});

describe("deadlock detection through a parent waiting for its children", () => {
  it("a child that catches its abort and then (in a delay region) joins its parent (waiting for it to unwind) gets HOST_E_DEADLOCK", async () => {
    const h = await host();
    let answer = "";
    const parent = h.spawn(function* (f) {
      f.spawn(function* (g) {
        try {
          yield* g.sleep();
        } catch {
          // (An abort sticks: its wait runs in a delay region, where the abort is not thrown again.)
          yield* g.delayAbort(function* () {
            answer = hresultName(yield* g.join(parent));
          });
        }
      });
      yield* f.yield();
      return "parent";
    });
    const report = await h.run();
    expect(report.blocked).toBe(0);
    expect(answer).toBe("HOST_E_DEADLOCK");
    expect(await parent.result).toBe("parent");
  });

  it("a child that waits on any of [its parent] while the parent waits for it gets HOST_E_DEADLOCK", async () => {
    const h = await host();
    let answer = "";
    const parent = h.spawn(function* (f) {
      f.spawn(function* (g) {
        try {
          yield* g.sleep();
        } catch {
          // (An abort sticks: its wait runs in a delay region, where the abort is not thrown again.)
          yield* g.delayAbort(function* () {
            answer = name(yield* g.waitAny([parent]));
          });
        }
      });
      yield* f.yield();
      return "parent";
    });
    await h.run();
    expect(answer).toBe("HOST_E_DEADLOCK -1");
    expect(await parent.result).toBe("parent");
  });

  it("a fiber joining a parent that waits for a child which joins that fiber: the cycle through the children is found", async () => {
    const h = await host();
    let outsider!: Task;
    let answer = "";
    const parent = h.spawn(function* (f) {
      f.spawn(function* (g) {
        try {
          yield* g.sleep();
        } catch {
          // (An abort sticks: its wait runs in a delay region, where the abort is not thrown again.)
          yield* g.delayAbort(function* () {
            answer = hresultName(yield* g.join(outsider, INFINITE));
          });
        }
      });
      yield* f.yield();
    });
    outsider = h.spawn(function* (f) {
      yield* f.yield();
      yield* f.yield();
      return hresultName(yield* f.join(parent));
    });
    const report = await h.run();
    expect(report.blocked).toBe(0);
    // Whichever wait comes second closes the cycle; the other then ends.
    expect([answer, await outsider.result].sort()).toEqual(["HOST_E_DEADLOCK", "S_OK"]);
  });
});

describe("f.waitAny reads its array once, by index", () => {
  it("an array whose iterator would answer other objects is read by index: it waits on element 0", async () => {
    const h = await host();
    const ev = h.createAutoEvent();
    const other = h.createAutoEvent();
    const objects = [ev];
    let iterated = 0;
    Object.defineProperty(objects, Symbol.iterator, {
      value: function* () {
        iterated++;
        for (let i = 0; i < 99; i++) yield other;
      },
    });
    const t = h.spawn(function* (f) {
      return name(yield* f.waitAny(objects, 0));
    });
    ev.set();
    await h.run();
    expect(await t.result).toBe("S_OK 0");
    expect(iterated).toBe(0);
  });

  it("an array whose iterator throws is read by index as well", async () => {
    const h = await host();
    const ev = h.createAutoEvent();
    const objects = [ev];
    Object.defineProperty(objects, Symbol.iterator, {
      value: () => {
        throw new Error("iterator");
      },
    });
    const t = h.spawn(function* (f) {
      return name(yield* f.waitAny(objects, 0));
    });
    await h.run();
    expect(await t.result).toBe("HOST_E_TIMEOUT -1");
  });

  it("more than 64 objects is refused before any element is read", async () => {
    const h = await host();
    const ev = h.createAutoEvent();
    let reads = 0;
    const objects = new Proxy(
      Array.from({ length: MAXIMUM_WAIT_OBJECTS + 35 }, () => ev),
      {
        get(target, key) {
          if (key !== "length" && typeof key === "string") reads++;
          return Reflect.get(target, key);
        },
      },
    );
    const t = h.spawn(function* (f) {
      return name(yield* f.waitAny(objects, 0));
    });
    await h.run();
    expect(await t.result).toBe(`${hresultName(E_INVALIDARG)} -1`);
    expect(reads).toBe(0);
  });

  it("the array is a snapshot: changing it after the call changes nothing the wait does", async () => {
    const h = await host();
    const ev = h.createAutoEvent();
    const other = h.createAutoEvent();
    const objects = [ev];
    const t = h.spawn(function* (f) {
      const op = f.waitAny(objects);
      objects[0] = other;
      objects.push(h.createAutoEvent());
      return name(yield* op);
    });
    h.runUntilIdle();
    other.set();
    h.runUntilIdle();
    expect(t.getState()).toBe("waiting");
    ev.set();
    await h.run();
    expect(await t.result).toBe("S_OK 0");
  });
});
