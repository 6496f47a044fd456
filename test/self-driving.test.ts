// A host on the real clock drives itself: whatever makes a fiber ready (a spawn, set, release,
// abort, alert, a timer, a promise settling, a resumed runtime) schedules the pump, and run() only
// waits until the host is idle and reports. A virtual-clock host does nothing until run() or
// runUntilIdle() drives it (src/scheduler/run-loop.ts).
import { describe, it, expect, vi } from "vitest";
import {
  HOST_E_ABANDONED,
  HOST_E_INTERRUPTED,
  HOST_E_INVALIDOPERATION,
  HResultError,
  INFINITE,
  S_OK,
  TaskAbortError,
  WAIT_ALERTABLE,
  hresultName,
  type FiberDump,
  type Host,
} from "../src/index.js";
import { expectFailure, rejection, testHost, virtualHost } from "./support/fibers.js";

/** A macrotask later: a pump dispatched before it has had its turn. */
const macrotask = (ms = 0): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A real-clock test host whose run() reports of blocked fibers land in `blocked` (not on the console). */
async function selfDrivingHost(): Promise<{ host: Host; blocked: FiberDump[][] }> {
  const blocked: FiberDump[][] = [];
  const host = await testHost({ onDeadlock: (b) => blocked.push(b) });
  return { host, blocked };
}

/** Fails the test instead of hanging it when `p` never settles. */
function within<T>(p: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled after ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

describe("a real-clock host drives itself", () => {
  it("with no run(), `await t.result` resolves", async () => {
    const { host } = await selfDrivingHost();
    const t = host.spawn(function* (f) {
      yield* f.yield();
      yield* f.sleep(5);
      return 42;
    });
    expect(await within(t.result, "t.result")).toBe(42);
    expect(host.liveTaskCount).toBe(1);
  });

  it("the pump is asynchronous: right after spawn (and after a microtask) the fiber has not run", async () => {
    const { host } = await selfDrivingHost();
    let ran = false;
    const t = host.spawn(function* () {
      ran = true;
    });
    expect(t.getState()).toBe("ready");
    await Promise.resolve();
    expect(ran).toBe(false);
    await within(t.result, "t.result");
    expect(ran).toBe(true);
  });

  it("returns to the event loop between slices: a fiber that yields until a setTimeout fires ends", async () => {
    // A pump on a microtask would never let the timeout run: this fiber would spin for ever.
    const host = await testHost({ budget: 16 });
    let flag = false;
    const t = host.spawn(function* (f) {
      // Set from a later macrotask than this slice: only a pump that yields to the event loop sees it.
      setTimeout(() => {
        flag = true;
      }, 0);
      let yields = 0;
      while (!flag) {
        yield* f.yield();
        yields++;
      }
      return yields;
    });
    expect(await within(t.result, "the yielding fiber")).toBeGreaterThanOrEqual(15); // (the rest of its first slice, at least)
  });

  it("an abort after `await host.run()` reported a blocked fiber takes effect with no further run()", async () => {
    const { host, blocked } = await selfDrivingHost();
    const never = host.createManualEvent({ name: "never" });
    const t = host.spawn(
      function* (f) {
        yield* f.yield();
        return yield* never.wait();
      },
      { name: "waiter" },
    );
    const report = await host.run();
    expect(report).toEqual({ finished: 0, failed: 0, blocked: 1 });
    expect(blocked.length).toBe(1);
    expect(blocked[0]!.map((d) => d.name)).toEqual(["waiter"]);
    expect(t.abort("user cancelled")).toBe(S_OK);
    const err = await within(expectFailure(t), "the aborted fiber's end");
    expect(err).toBeInstanceOf(TaskAbortError);
    expect((err as TaskAbortError).cause).toBe("user cancelled");
    expect(host.liveTaskCount).toBe(1);
  });

  it("set, release, alert, a timer and a promise settling each drive the host", async () => {
    const { host } = await selfDrivingHost();
    const ev = host.createManualEvent();
    const sem = host.createSemaphore(0, 1);
    let settle!: (v: string) => void;
    const promise = new Promise<string>((resolve) => {
      settle = resolve;
    });
    const onEvent = host.spawn(function* () {
      return hresultName(yield* ev.wait());
    });
    const onSemaphore = host.spawn(function* () {
      return hresultName(yield* sem.wait());
    });
    const alerted = host.spawn(function* (f) {
      return hresultName(yield* f.sleep(INFINITE, WAIT_ALERTABLE));
    });
    const onPromise = host.spawn(function* (f) {
      return yield* f.await(promise);
    });
    const start = host.now();
    const sleeper = host.spawn(function* (f) {
      yield* f.sleep(20);
      return host.now() - start;
    });
    await macrotask();
    for (const t of [onEvent, onSemaphore, alerted, onPromise, sleeper]) expect(t.getState()).toBe("waiting");

    expect(ev.set()).toBe(S_OK);
    expect(await within(onEvent.result, "after set()")).toBe("S_OK");
    expect(sem.release()).toBe(S_OK);
    expect(await within(onSemaphore.result, "after release()")).toBe("S_OK");
    expect(alerted.alert()).toBe(S_OK);
    expect(await within(alerted.result, "after alert()")).toBe(hresultName(HOST_E_INTERRUPTED));
    settle("settled");
    expect(await within(onPromise.result, "after the promise settled")).toBe("settled");
    expect(await within(sleeper.result, "after the timer")).toBeGreaterThanOrEqual(20);
  });

  it("a fiber held by a suspended runtime runs again after resumeRuntime(), with no run()", async () => {
    const { host } = await selfDrivingHost();
    const log: string[] = [];
    const managed = host.spawn(function* (f) {
      yield* f.managed(function* () {
        log.push("before");
        expect(host.suspendRuntime()).toBe(S_OK);
        yield* f.yield();
        log.push("after");
      });
    });
    const other = host.spawn(function* (f) {
      for (let i = 0; i < 3; i++) yield* f.yield();
      log.push("other");
    });
    await within(other.result, "the unmanaged fiber");
    await macrotask();
    expect(log).toEqual(["before", "other"]);
    expect(managed.getState()).toBe("waiting");
    expect(host.resumeRuntime()).toBe(S_OK);
    await within(managed.result, "the held fiber");
    expect(log).toEqual(["before", "other", "after"]);
  });

  it("runUntilIdle() still drives it at once, synchronously; the timers it leaves still fire", async () => {
    const { host } = await selfDrivingHost();
    const log: string[] = [];
    const t = host.spawn(function* (f) {
      log.push("ran");
      yield* f.sleep(10);
      log.push("woke");
      return "done";
    });
    host.runUntilIdle();
    expect(log).toEqual(["ran"]);
    expect(await within(t.result, "the sleeper")).toBe("done");
    expect(log).toEqual(["ran", "woke"]);
  });

  it("a disabled runtime's abandoned waiter ends with no run(); run() afterwards settles and reports", async () => {
    const { host } = await selfDrivingHost();
    const ev = host.createAutoEvent();
    const t = host.spawn(function* () {
      return yield* ev.wait();
    });
    await host.run();
    host.disable("shut down");
    expect(await within(t.result, "the abandoned waiter")).toBe(HOST_E_ABANDONED);
    expect(await host.run()).toEqual({ finished: 0, failed: 0, blocked: 0 });
  });
});

describe("run() waits until the host is idle, and reports", () => {
  it("settles once every fiber has ended or blocked, with what ended during it", async () => {
    const { host, blocked } = await selfDrivingHost();
    const ev = host.createManualEvent({ name: "never set" });
    const sleepers = [1, 5, 10].map((ms) =>
      host.spawn(function* (f) {
        yield* f.sleep(ms);
        return ms;
      }),
    );
    const failing = host.spawn(function* (f) {
      yield* f.sleep(3);
      throw new Error("broke");
    });
    const failed = expectFailure(failing);
    host.spawn(function* () {
      yield* ev.wait();
    });
    const first = host.run();
    const second = host.run();
    expect(second).toBe(first); // concurrent calls share one run and one report
    expect(await first).toEqual({ finished: 3, failed: 1, blocked: 1 });
    for (const t of sleepers) expect(t.done).toBe(true);
    expect(((await failed) as Error).message).toBe("broke");
    expect(blocked.length).toBe(1);
    // Idle already: the next run() settles at once, reporting what is still blocked.
    expect(await host.run()).toEqual({ finished: 0, failed: 0, blocked: 1 });
  });

  it("fibers that ended before run() was called are not in its report", async () => {
    const { host } = await selfDrivingHost();
    const t = host.spawn(function* () {
      return 1;
    });
    await t.result;
    expect(await host.run()).toEqual({ finished: 0, failed: 0, blocked: 0 });
  });

  it("from inside a fiber, run() and runUntilIdle() throw HResultError(HOST_E_INVALIDOPERATION)", async () => {
    const { host } = await selfDrivingHost();
    const t = host.spawn(function* () {
      const answers: unknown[] = [];
      for (const call of [() => host.run(), () => host.runUntilIdle()]) {
        try {
          call();
        } catch (e) {
          answers.push(e instanceof HResultError ? e.hr : e);
        }
      }
      return answers;
    });
    expect(await within(t.result, "t.result")).toEqual([HOST_E_INVALIDOPERATION, HOST_E_INVALIDOPERATION]);
  });

  it("a dispatch that throws while no run() waits: the next run() rejects with its error, the one after works", async () => {
    const boom = new Error("dispatch");
    let fail = true;
    let dispatches = 0;
    const host = await testHost({
      dispatch: (fn) => {
        dispatches++;
        if (fail) throw boom;
        setTimeout(fn, 0);
      },
    });
    const t = host.spawn(function* () {
      return "done";
    });
    expect(dispatches).toBe(1); // the spawn asked for a pump (and its error was kept, not thrown)
    expect(await rejection(host.run())).toBe(boom);
    fail = false;
    expect(await host.run()).toEqual({ finished: 1, failed: 0, blocked: 0 });
    expect(await t.result).toBe("done");
  });
});

describe("a virtual-clock host does nothing until driven", () => {
  it("spawn, set, abort and a promise settling run nothing until run() or runUntilIdle()", async () => {
    const dispatch = vi.fn((fn: () => void) => setTimeout(fn, 0));
    const host = await virtualHost({ dispatch });
    const ev = host.createManualEvent();
    const log: string[] = [];
    const waiter = host.spawn(function* (f) {
      log.push("waiter");
      yield* ev.wait();
      log.push("set");
      yield* f.await(Promise.resolve());
      log.push("awaited");
      yield* f.sleep(1_000);
      log.push("slept");
    });
    await macrotask(5);
    expect(log).toEqual([]);
    expect(waiter.getState()).toBe("ready");
    host.runUntilIdle();
    expect(log).toEqual(["waiter"]);
    ev.set();
    await macrotask(5);
    expect(log).toEqual(["waiter"]);
    host.runUntilIdle();
    expect(log).toEqual(["waiter", "set"]);
    await macrotask(5); // the promise settles: the fiber is ready, and stays so
    expect(log).toEqual(["waiter", "set"]);
    expect(waiter.getState()).toBe("ready");
    expect(dispatch).not.toHaveBeenCalled();
    expect(await host.run()).toEqual({ finished: 1, failed: 0, blocked: 0 });
    expect(log).toEqual(["waiter", "set", "awaited", "slept"]);
    expect(host.now()).toBe(1_000);

    const aborted = host.spawn(function* (f) {
      yield* f.sleep(INFINITE);
    });
    host.runUntilIdle();
    expect(aborted.abort("stop")).toBe(S_OK);
    await macrotask(5);
    expect(aborted.done).toBe(false);
    host.runUntilIdle();
    expect(await expectFailure(aborted)).toBeInstanceOf(TaskAbortError);
  });
});
