// A fiber's life: its result and errors, what it holds and gives back when it ends, the reuse of
// its slot, f.await, and nesting of f.managed / f.unmanaged.
import { describe, it, expect } from "vitest";
import {
  createHost,
  HResultError,
  TaskAbortError,
  AWAIT_TARGET,
  type FiberContext,
  type FiberInfo,
  S_OK,
  E_INVALIDARG,
  HOST_E_TIMEOUT,
  INFINITE,
  WAIT_ALERTABLE,
  THREAD_PRIORITY_HIGHEST,
} from "../src/index.js";
import { virtualHost, expectBalanced, expectFailure } from "./support/fibers.js";

import { IDX } from "../src/core/names.js";
/** A promise settled by a real 1 ms timer: real asynchronous work. */
function later<T>(value: T, fail = false): Promise<T> {
  return new Promise((resolve, reject) => setTimeout(() => (fail ? reject(value) : resolve(value)), 1));
}

describe("task.result", () => {
  it("resolves with the body's return value, also for a plain (non-generator) function", async () => {
    const host = await virtualHost();
    const gen = host.spawn(
      function* (f, param: number) {
        yield* f.yield();
        return param * 2;
      },
      { param: 21 },
    );
    const plain = host.spawn(() => "plain");
    host.runUntilIdle();
    expect(await gen.result).toBe(42);
    expect(await plain.result).toBe("plain");
  });

  it("read before the fiber ends, settles when it ends", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* (f) {
      yield* f.sleep(10);
      return "late";
    });
    const p = t.result;
    host.runUntilIdle();
    expect(await p).toBe("late");
  });
});

describe("an exception escaping a fiber", () => {
  it("ends that fiber only: the others run to their end", async () => {
    const host = await virtualHost();
    const ev = host.createManualEvent(false);
    const log: string[] = [];
    const bad = host.spawn(
      function* (f) {
        yield* f.yield();
        throw new Error("boom");
      },
      { name: "bad" },
    );
    const badFailure = expectFailure(bad);
    const good = [1, 2, 3].map((i) =>
      host.spawn(function* (f) {
        for (let k = 0; k < 3; k++) yield* f.yield();
        if (i === 3) ev.set();
        yield* ev.wait();
        log.push(`good${i}`);
        return i;
      }),
    );
    host.runUntilIdle();
    expect(await Promise.all(good.map((t) => t.result))).toEqual([1, 2, 3]);
    // good3 sets the event and passes its own wait at once; the set woke good1 and good2.
    expect(log).toEqual(["good3", "good1", "good2"]);
    const err = await badFailure;
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe("boom");
    expect(bad.done).toBe(true);
  });

  it("rejects task.result with that very error, carrying err.fiber with the fiber's id and name", async () => {
    const host = await virtualHost();
    const thrown = new TypeError("bad thing");
    const t = host.spawn(
      function* (f) {
        yield* f.sleep(3);
        throw thrown;
      },
      { name: "worker-7" },
    );
    host.runUntilIdle();
    const err = (await expectFailure(t)) as Error & { fiber: FiberInfo };
    expect(err).toBe(thrown);
    expect(err.fiber.id).toBe(t.id);
    expect(err.fiber.name).toBe("worker-7");
    expect(err.fiber.spawnSite).toBeUndefined(); // not recorded by default
    expect(err.fiber.frames).toEqual([]);
  });

  it("err.fiber.frames are the fiber's frames where the error left its innermost body", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* (f) {
      yield* f.managed(function* () {
        yield* f.unmanaged(77, function* () {
          yield* f.yield();
          throw new Error("deep");
        });
      });
    });
    host.runUntilIdle();
    const err = (await expectFailure(t)) as Error & { fiber: FiberInfo };
    expect(err.fiber.frames).toEqual([
      { kind: "reverseEnter", target: 0 },
      { kind: "leave", target: 77 },
    ]);
    expectBalanced(host); // the scopes were closed as it unwound
  });

  it("err.fiber.frames describe the escaping error, not an earlier error the fiber caught", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* (f) {
      try {
        yield* f.managed(function* () {
          throw new Error("caught inside managed code");
        });
      } catch {
        // handled
      }
      yield* f.yield();
      throw new Error("escapes at depth 0");
    });
    host.runUntilIdle();
    const err = (await expectFailure(t)) as Error & { fiber: FiberInfo };
    expect(err.message).toBe("escapes at depth 0");
    expect(err.fiber.frames).toEqual([]);
  });

  it("carries the spawn site with createHost({ spawnSites: true })", async () => {
    const host = await createHost({ clock: "virtual", spawnSites: true });
    const t = host.spawn(
      function* () {
        throw new Error("where was I made?");
      },
      { name: "traced" },
    );
    host.runUntilIdle();
    const err = (await expectFailure(t)) as Error & { fiber: FiberInfo };
    expect(typeof err.fiber.spawnSite).toBe("string");
    expect(err.fiber.spawnSite).toMatch(/fibers\.test/);
    expect(err.fiber.spawnSite).not.toMatch(/host\.(ts|js)/); // starts at the caller of spawn
  });

  it("thrown synchronously by a plain function body ends the fiber the same way", async () => {
    const host = await virtualHost();
    const t = host.spawn(
      () => {
        throw new RangeError("at once");
      },
      { name: "sync" },
    );
    host.runUntilIdle();
    const err = (await expectFailure(t)) as Error & { fiber: FiberInfo };
    expect(err).toBeInstanceOf(RangeError);
    expect(err.fiber.name).toBe("sync");
  });

  it("is not an unhandled rejection when nobody reads task.result", async () => {
    // vitest fails the run on an unhandled rejection: this test checks that there is none, and
    // that each failure goes to onError instead.
    const reported: string[] = [];
    const host = await virtualHost({ onError: (err) => reported.push((err as Error).message) });
    const t = host.spawn(function* (f) {
      yield* f.yield();
      throw new Error("nobody listens");
    });
    host.spawn(function* () {
      throw new Error("nobody listens either");
    });
    host.runUntilIdle();
    await host.run();
    await new Promise((r) => setTimeout(r, 0)); // let any rejection be reported
    expect(t.done).toBe(true);
    expect(reported.sort()).toEqual(["nobody listens", "nobody listens either"]);
  });

  it("is not an unhandled rejection when task.result was read before the fiber threw and then dropped", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* (f) {
      yield* f.sleep(5);
      throw new Error("read early, never awaited");
    });
    void t.result;
    host.runUntilIdle();
    await new Promise((r) => setTimeout(r, 0));
    expect(t.done).toBe(true);
  });

  it("yielding something other than an operation throws HResultError E_INVALIDARG into the fiber", async () => {
    const host = await virtualHost();
    let caught: unknown;
    const t = host.spawn(function* () {
      try {
        yield 42;
      } catch (e) {
        caught = e;
      }
      return "went on";
    });
    host.runUntilIdle();
    expect(caught).toBeInstanceOf(HResultError);
    expect((caught as HResultError).hr).toBe(E_INVALIDARG);
    expect(await t.result).toBe("went on");
  });
});

describe("when a fiber ends", () => {
  it("its Crsts are released (abandoned): another fiber enters them", async () => {
    const host = await virtualHost();
    const c1 = host.createCrst();
    const c2 = host.createCrst();
    const holder = host.spawn(function* () {
      yield* c1.enter();
      yield* c2.enter();
      return "ended holding two";
    });
    host.runUntilIdle();
    expect(await holder.result).toBe("ended holding two");
    expect(c1.getOwner()).toBeNull();
    expect(c2.getOwner()).toBeNull();
    const answers: number[] = [];
    host.spawn(function* (f) {
      answers.push(yield* c1.enter(), yield* c2.enter());
      const out: { value?: number } = {};
      f.task.locksHeld(out);
      answers.push(out.value!);
    });
    host.runUntilIdle();
    expect(answers).toEqual([S_OK, S_OK, 2]);
  });

  it("its Crsts are released also when it ends by an error or an abort", async () => {
    const host = await virtualHost();
    const c1 = host.createCrst();
    const c2 = host.createCrst();
    const thrower = host.spawn(function* () {
      yield* c1.enter();
      throw new Error("x");
    });
    const aborted = host.spawn(function* (f) {
      yield* c2.enter();
      yield* f.sleep(INFINITE);
    });
    host.spawn(function* () {
      aborted.rudeAbort();
    });
    host.runUntilIdle();
    await expectFailure(thrower);
    await expectFailure(aborted);
    expect(c1.getOwner()).toBeNull();
    expect(c2.getOwner()).toBeNull();
  });

  it("its open frames are cleared, open reverse enters counted as unmatched, not as an error", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* (f) {
      expect(yield* f.reverseEnterRuntime()).toBe(S_OK); // a task born in unmanaged code
      expect(yield* f.leaveRuntime(5)).toBe(S_OK);
      expect(yield* f.reverseEnterRuntime()).toBe(S_OK);
      return f.task.depth;
    });
    host.runUntilIdle();
    expect(await t.result).toBe(3);
    expect(t.depth).toBe(0);
    expect(t.frames()).toEqual([]);
    expect(t.mode).toBe("unmanaged");
    expect(t.counters().unmatchedReverseEnter).toBe(2);
    expect(host.checkInvariants()).toBe(true);
  });

  it("its slot is given back: the live count returns to the root task alone", async () => {
    const host = await virtualHost();
    for (let i = 0; i < 50; i++) {
      host.spawn(function* (f) {
        yield* f.sleep(i);
      });
    }
    expect(host.liveTaskCount).toBe(51);
    host.runUntilIdle();
    expect(host.liveTaskCount).toBe(1);
    expect(host.dump().map((d) => d.name)).toEqual(["root"]);
  });
});

describe("slot reuse", () => {
  it("a new fiber reuses a freed slot; the old Task's calls answer E_INVALIDARG and do not touch the new fiber", async () => {
    const host = await virtualHost();
    const old = host.spawn(function* () {
      return "old";
    });
    host.runUntilIdle();
    expect(await old.result).toBe("old");
    const ev = host.createAutoEvent();
    const log: string[] = [];
    const tenant = host.spawn(
      function* (f) {
        try {
          log.push(`sleep ${yield* f.sleep(10, WAIT_ALERTABLE)}`);
          log.push(`wait ${yield* ev.wait(5)}`);
          log.push(`yield ${yield* f.yield()}`);
        } catch (e) {
          log.push(`caught ${(e as Error).name}`);
        }
        return "tenant";
      },
      { name: "tenant" },
    );
    expect(tenant[IDX]).toBe(old[IDX]);
    expect(tenant.id).not.toBe(old.id);

    const out: { value?: unknown } = {};
    expect(old.abort()).toBe(E_INVALIDARG);
    expect(old.rudeAbort()).toBe(E_INVALIDARG);
    expect(old.alert()).toBe(E_INVALIDARG);
    expect(old.setPriority(THREAD_PRIORITY_HIGHEST)).toBe(E_INVALIDARG);
    expect(old.getPriority(out as { value?: number })).toBe(E_INVALIDARG);
    expect(old.yieldTask()).toBe(E_INVALIDARG);
    expect(old.locksHeld(out as { value?: number })).toBe(E_INVALIDARG);
    expect(old.needsPriorityScheduling(out as { value?: boolean })).toBe(E_INVALIDARG);
    expect(old.setTaskIdentifier(99)).toBe(E_INVALIDARG);
    expect(old.beginPreventAsyncAbort()).toBe(E_INVALIDARG);
    expect(old.endPreventAsyncAbort()).toBe(E_INVALIDARG);
    expect(old.start()).toBe(E_INVALIDARG);
    expect(old.join(0)).toBe(S_OK); // it did end

    const prio: { value?: number } = {};
    expect(tenant.getPriority(prio)).toBe(S_OK);
    expect(prio.value).toBe(0);
    host.runUntilIdle();
    expect(log).toEqual([`sleep ${S_OK}`, `wait ${HOST_E_TIMEOUT}`, `yield ${S_OK}`]);
    expect(await tenant.result).toBe("tenant");
    expect(old.counters()).toEqual(expect.objectContaining({ switchIn: 1 }));
  });

  it("a freed slot is reused by the next spawn, many times over", async () => {
    const host = await virtualHost();
    const first = host.spawn(function* () {});
    host.runUntilIdle();
    for (let i = 0; i < 20; i++) {
      const t = host.spawn(function* (f) {
        yield* f.yield();
        return i;
      });
      expect(t[IDX]).toBe(first[IDX]);
      host.runUntilIdle();
      expect(await t.result).toBe(i);
    }
    expect(host.liveTaskCount).toBe(1);
  });
});

describe("f.await", () => {
  it("parks the fiber on real asynchronous work and resumes it with the value (await host.run())", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* (f) {
      const a = yield* f.await(later(20));
      const b = yield* f.await(later(22));
      return a + b;
    });
    await host.run();
    expect(await t.result).toBe(42);
  });

  it("throws a rejection into the fiber", async () => {
    const host = await virtualHost();
    const reason = new Error("remote failure");
    const t = host.spawn(function* (f) {
      try {
        yield* f.await(later(reason, true));
      } catch (e) {
        return e;
      }
      return "not thrown";
    });
    await host.run();
    expect(await t.result).toBe(reason);
  });

  it("lets the other fibers run meanwhile", async () => {
    const host = await virtualHost();
    let spins = 0;
    let done = false;
    host.spawn(function* (f) {
      yield* f.await(later("x"));
      done = true;
    });
    const spinner = host.spawn(function* (f) {
      while (!done && spins < 100_000) {
        spins++;
        yield* f.yield();
      }
      return spins;
    });
    host.spawn(function* (f) {
      for (let i = 0; i < 10; i++) yield* f.sleep(1);
    });
    await host.run();
    expect(await spinner.result).toBeGreaterThan(1);
    expect(done).toBe(true);
  });

  it("runUntilIdle() does not wait for the promise; run() then finishes the fiber", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* (f) {
      return yield* f.await(later("v"));
    });
    host.runUntilIdle();
    expect(t.getState()).toBe("waiting");
    expect(host.dump().find((d) => d.id === t.id)!.waitingOn).toBe("a promise");
    await host.run();
    expect(await t.result).toBe("v");
  });

  it("a managed fiber's await is surrounded by LeaveRuntime(AWAIT_TARGET) … EnterRuntime: unmanaged while it waits", async () => {
    const host = await virtualHost();
    const seen: Record<string, unknown> = {};
    const t = host.spawn(function* (f) {
      return yield* f.managed(function* () {
        const before = f.task.counters();
        const v = yield* f.await(later(5));
        const after = f.task.counters();
        seen.leaves = after.leaveRuntime - before.leaveRuntime;
        seen.enters = after.enterRuntime - before.enterRuntime;
        seen.modeAfter = f.task.mode;
        return v;
      });
    });
    host.runUntilIdle(); // it is now parked on the promise
    seen.modeWhileWaiting = t.mode;
    seen.framesWhileWaiting = t.frames();
    await host.run();
    expect(await t.result).toBe(5);
    expect(seen).toEqual({
      modeWhileWaiting: "unmanaged",
      framesWhileWaiting: [
        { kind: "reverseEnter", target: 0 },
        { kind: "leave", target: AWAIT_TARGET },
      ],
      leaves: 1,
      enters: 1,
      modeAfter: "managed",
    });
    expectBalanced(host);
  });

  it("an unmanaged fiber's await makes no transition", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* (f) {
      yield* f.await(later(1));
    });
    await host.run();
    const c = t.counters();
    expect(c.leaveRuntime).toBe(0);
    expect(c.enterRuntime).toBe(0);
  });

  it("the virtual clock does not jump to a sleeper's deadline while an await is pending", async () => {
    const host = await virtualHost();
    const log: string[] = [];
    host.spawn(function* (f) {
      yield* f.await(later("x"));
      log.push(`await resumed at ${host.now()}`);
    });
    host.spawn(function* (f) {
      yield* f.sleep(1000);
      log.push(`sleeper woke at ${host.now()}`);
    });
    await host.run();
    expect(log).toEqual(["await resumed at 0", "sleeper woke at 1000"]);
  });

  it("an abort wakes an awaiting fiber; the promise's later settlement is ignored", async () => {
    const host = await virtualHost();
    let caught: unknown;
    const t = host.spawn(function* (f) {
      try {
        yield* f.managed(function* () {
          yield* f.await(new Promise(() => {})); // never settles
        });
      } catch (e) {
        caught = e;
        f.resetAbort(); // (an abort sticks: reset, the fiber ends as its body does)
      }
      return "aborted out of the await";
    });
    host.spawn(function* (f) {
      yield* f.yield();
      t.abort();
    });
    await host.run();
    expect(caught).toBeInstanceOf(TaskAbortError);
    expect(await t.result).toBe("aborted out of the await");
    expectBalanced(host);
  });

  it("awaits a non-promise value too, answering it", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* (f) {
      return yield* f.await(9);
    });
    await host.run();
    expect(await t.result).toBe(9);
  });
});

describe("nesting f.managed / f.unmanaged", () => {
  it("f.managed inside f.unmanaged inside f.managed, 100 deep, returns values correctly and balances", async () => {
    const host = await virtualHost();
    const DEPTH = 100;
    let deepest = -1;
    let framesAtBottom: ReturnType<FiberContext["task"]["frames"]> = [];
    function* level(f: FiberContext, n: number): Generator<unknown, number> {
      if (n === DEPTH) {
        deepest = f.task.depth;
        framesAtBottom = f.task.frames();
        yield* f.yield(); // a switch at the bottom of the stack
        yield* f.sleep(1);
        return 0;
      }
      const v = yield* f.managed(function* () {
        const inner = yield* f.unmanaged(n, function* () {
          return (yield* level(f, n + 1)) + 1;
        });
        expect(f.task.mode).toBe("managed");
        return inner * 2;
      });
      expect(f.task.depth).toBe(2 * n);
      return v;
    }
    const t = host.spawn(function* (f) {
      return yield* level(f, 0);
    });
    // Another fiber runs meanwhile, so the deep one is switched out and in again.
    host.spawn(function* (f) {
      for (let i = 0; i < 3; i++) yield* f.yield();
    });
    host.runUntilIdle();
    // v(100) = 0; v(n) = 2 * (v(n+1) + 1)  =>  v(0) = 2^101 - 2
    expect(await t.result).toBe(2 ** 101 - 2);
    expect(deepest).toBe(2 * DEPTH);
    expect(framesAtBottom).toHaveLength(2 * DEPTH);
    expect(framesAtBottom[0]).toEqual({ kind: "reverseEnter", target: 0 });
    expect(framesAtBottom[1]).toEqual({ kind: "leave", target: 0 });
    expect(framesAtBottom[2 * DEPTH - 1]).toEqual({ kind: "leave", target: DEPTH - 1 });
    expect(t.counters()).toMatchObject({
      reverseEnterRuntime: DEPTH,
      reverseLeaveRuntime: DEPTH,
      leaveRuntime: DEPTH,
      enterRuntime: DEPTH,
    });
    expectBalanced(host);
  });

  it("a body that is a plain function (no generator) returns its value through the scope", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* (f) {
      const a = yield* f.managed(() => 3);
      const b = yield* f.managed(function* () {
        return yield* f.unmanaged(1, () => 4);
      });
      return [a, b, f.task.depth];
    });
    host.runUntilIdle();
    expect(await t.result).toEqual([3, 4, 0]);
    expectBalanced(host);
  });

  it("an error thrown from deep inside closes every scope on its way out", async () => {
    const host = await virtualHost();
    function* dive(f: FiberContext, n: number): Generator<unknown, void> {
      if (n === 0) throw new Error("bottom");
      yield* f.managed(function* () {
        yield* f.unmanaged(n, function* () {
          yield* dive(f, n - 1);
        });
      });
    }
    const t = host.spawn(function* (f) {
      try {
        yield* dive(f, 30);
      } catch (e) {
        return [(e as Error).message, f.task.depth];
      }
      return "no error";
    });
    host.runUntilIdle();
    expect(await t.result).toEqual(["bottom", 0]);
    expectBalanced(host);
  });

  it("f.unmanaged outside managed code throws HResultError HOST_E_INVALIDOPERATION and runs no body", async () => {
    const host = await virtualHost();
    let ran = false;
    const t = host.spawn(function* (f) {
      try {
        yield* f.unmanaged(1, () => {
          ran = true;
        });
      } catch (e) {
        return (e as HResultError).hr;
      }
      return 0;
    });
    host.runUntilIdle();
    expect(await t.result).toBe(0x80131022);
    expect(ran).toBe(false);
  });
});
