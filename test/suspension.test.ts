// The runtime's suspension (the collector's stop-the-world): tasks in unmanaged mode keep running;
// a task switched out in managed mode, or entering managed mode, waits until the runtime resumes.
import { describe, it, expect } from "vitest";
import {
  createHost,
  HResultError,
  TaskAbortError,
  S_OK,
  S_FALSE,
  HOST_E_TIMEOUT,
  HOST_E_ABANDONED,
  HOST_E_INTERRUPTED,
  INFINITE,
  WAIT_ALERTABLE,
} from "../src/index.js";
import { virtualHost } from "./support/fibers.js";

describe("host.suspendRuntime() / host.resumeRuntime()", () => {
  it("answer S_OK, then S_FALSE when the runtime already is so", async () => {
    const host = await virtualHost();
    expect(host.resumeRuntime()).toBe(S_FALSE);
    expect(host.suspendRuntime()).toBe(S_OK);
    expect(host.suspendRuntime()).toBe(S_FALSE);
    expect(host.resumeRuntime()).toBe(S_OK);
    expect(host.resumeRuntime()).toBe(S_FALSE);
  });
});

describe("fibers in unmanaged mode during a suspension", () => {
  it("keep running: yields, sleeps and waits all proceed", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    expect(host.suspendRuntime()).toBe(S_OK);
    const log: string[] = [];
    const a = host.spawn(function* (f) {
      for (let i = 0; i < 3; i++) yield* f.yield();
      yield* f.sleep(10);
      expect(yield* ev.wait()).toBe(S_OK);
      log.push(`a done, mode ${f.task.mode}`);
    });
    const b = host.spawn(function* (f) {
      yield* f.sleep(20);
      ev.set();
      log.push("b done");
    });
    host.runUntilIdle();
    expect(log).toEqual(["b done", "a done, mode unmanaged"]);
    expect(a.done && b.done).toBe(true);
    expect(host.now()).toBe(20);
  });

  it("a fiber inside f.unmanaged (left the runtime) keeps running, and parks at the closing EnterRuntime", async () => {
    const host = await virtualHost();
    const log: string[] = [];
    const t = host.spawn(function* (f) {
      yield* f.managed(function* () {
        yield* f.unmanaged(42, function* () {
          host.suspendRuntime();
          for (let i = 0; i < 3; i++) {
            yield* f.yield();
            log.push(`unmanaged step ${i}`);
          }
        });
        log.push("back in managed code");
      });
    });
    host.runUntilIdle();
    expect(log).toEqual(["unmanaged step 0", "unmanaged step 1", "unmanaged step 2"]);
    expect(t.getState()).toBe("waiting");
    expect(t.frames()).toEqual([
      { kind: "reverseEnter", target: 0 },
      { kind: "leave", target: 42 },
    ]);
    expect(host.dump().find((d) => d.id === t.id)!.waitingOn).toBe("the runtime to resume");
    expect(host.resumeRuntime()).toBe(S_OK);
    host.runUntilIdle();
    expect(log[3]).toBe("back in managed code");
    expect(t.done).toBe(true);
    const c = host.counters();
    expect(c.leaveRuntime).toBe(c.enterRuntime);
    expect(c.reverseEnterRuntime).toBe(c.reverseLeaveRuntime);
  });
});

describe("fibers in managed mode during a suspension", () => {
  it("a fiber switched out in managed mode is not resumed until resumeRuntime", async () => {
    const host = await virtualHost();
    const log: string[] = [];
    const managed = host.spawn(
      function* (f) {
        yield* f.managed(function* () {
          log.push("managed before yield");
          yield* f.yield();
          log.push("managed after yield");
        });
      },
      { name: "managed" },
    );
    const other = host.spawn(function* (f) {
      expect(host.suspendRuntime()).toBe(S_OK);
      for (let i = 0; i < 5; i++) yield* f.yield();
      log.push("other done");
    });
    host.runUntilIdle();
    expect(log).toEqual(["managed before yield", "other done"]);
    expect(other.done).toBe(true);
    expect(managed.getState()).toBe("waiting");
    expect(managed.mode).toBe("managed");
    expect(host.dump().find((d) => d.name === "managed")!.waitingOn).toMatch(/runtime to resume/);
    expect(host.resumeRuntime()).toBe(S_OK);
    host.runUntilIdle();
    expect(log).toEqual(["managed before yield", "other done", "managed after yield"]);
    expect(managed.done).toBe(true);
  });

  it("a managed fiber woken during a suspension keeps its wake result until it runs after the resume", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    let hr = -1;
    let ranAt = -1;
    const waiter = host.spawn(function* (f) {
      yield* f.managed(function* () {
        hr = yield* ev.wait();
        ranAt = host.now();
      });
    });
    host.spawn(function* (f) {
      host.suspendRuntime();
      ev.set();
      yield* f.sleep(10);
    });
    host.runUntilIdle();
    expect(hr).toBe(-1);
    expect(waiter.getState()).toBe("waiting");
    host.resumeRuntime();
    host.runUntilIdle();
    expect(hr).toBe(S_OK);
    expect(ranAt).toBe(10);
  });
});

describe("IHostTask::Alert on a fiber held for the collector", () => {
  it("does not replace the answer of its finished alertable wait; it is remembered for the next alertable wait", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    const log: string[] = [];
    const held = host.spawn(function* (f) {
      yield* f.managed(function* () {
        log.push(`wait ${yield* ev.wait(INFINITE, WAIT_ALERTABLE)}`);
        log.push(`next alertable wait ${yield* f.sleep(10, WAIT_ALERTABLE)}`);
      });
    });
    host.spawn(function* (f) {
      yield* f.yield(); // `held` now waits on the event, alertable
      host.suspendRuntime();
      ev.set(); // its wait is satisfied (the event consumed): it answers S_OK once it runs
      yield* f.yield(); // `held` is stepped and held back: switched out in managed mode
      expect(held.getState()).toBe("waiting");
      expect(held.alert()).toBe(S_OK); // it is in no alertable wait now
      yield* f.yield();
      host.resumeRuntime();
    });
    host.runUntilIdle();
    expect(log).toEqual([`wait ${S_OK}`, `next alertable wait ${HOST_E_INTERRUPTED}`]);
  });
});

describe("an abort during a suspension", () => {
  it("wakes a fiber waiting to open f.managed: the body does not run and nothing is pushed", async () => {
    const host = await virtualHost();
    host.suspendRuntime();
    let bodyRan = false;
    let caught: unknown;
    const t = host.spawn(function* (f) {
      try {
        yield* f.managed(function* () {
          bodyRan = true;
        });
      } catch (e) {
        caught = e;
        f.resetAbort(); // (an abort sticks: reset, the fiber ends as its body does)
      }
      return f.task.depth;
    });
    host.spawn(function* (f) {
      yield* f.yield();
      t.abort();
    });
    host.runUntilIdle();
    expect(caught).toBeInstanceOf(TaskAbortError);
    expect(bodyRan).toBe(false);
    expect(await t.result).toBe(0);
    expect(host.counters().reverseEnterRuntime).toBe(0);
  });

  it("unwinding f.unmanaged waits for the resume to make its closing EnterRuntime, past enterTimeoutMs, then balances", async () => {
    const host = await createHost({ clock: "virtual", enterTimeoutMs: 10 });
    const seen: Record<string, unknown> = {};
    const t = host.spawn(function* (f) {
      try {
        yield* f.managed(function* () {
          yield* f.unmanaged(8, function* () {
            host.suspendRuntime();
            yield* f.yield();
          });
        });
      } catch (e) {
        seen.caught = e;
        seen.depth = f.task.depth;
        seen.at = host.now();
      }
    });
    host.spawn(function* (f) {
      yield* f.yield(); // t is now parked at its closing EnterRuntime
      expect(t.getState()).toBe("waiting");
      t.abort();
      yield* f.sleep(100); // well past enterTimeoutMs
      expect(t.getState()).toBe("waiting");
      expect(t.frames()).toEqual([
        { kind: "reverseEnter", target: 0 },
        { kind: "leave", target: 8 },
      ]);
      host.resumeRuntime();
    });
    host.runUntilIdle();
    expect(seen.caught).toBeInstanceOf(TaskAbortError);
    expect(seen.depth).toBe(0);
    expect(seen.at).toBe(100);
    const c = host.counters();
    expect(c.leaveRuntime).toBe(c.enterRuntime);
    expect(c.reverseEnterRuntime).toBe(c.reverseLeaveRuntime);
    expect(t.done).toBe(true);
  });
});

describe("entering managed mode during a suspension", () => {
  it("f.reverseEnterRuntime parks until the runtime resumes, then answers S_OK", async () => {
    const host = await virtualHost();
    host.suspendRuntime();
    let hr = -1;
    const t = host.spawn(function* (f) {
      hr = yield* f.reverseEnterRuntime();
      expect(f.task.mode).toBe("managed");
      expect(yield* f.reverseLeaveRuntime()).toBe(S_OK);
    });
    host.runUntilIdle();
    expect(hr).toBe(-1);
    expect(t.getState()).toBe("waiting");
    expect(t.depth).toBe(0);
    expect(host.counters().reverseEnterRuntime).toBe(0);
    host.resumeRuntime();
    host.runUntilIdle();
    expect(hr).toBe(S_OK);
    expect(t.done).toBe(true);
  });

  it("f.managed parks before its body runs until the runtime resumes", async () => {
    const host = await virtualHost();
    host.suspendRuntime();
    const log: string[] = [];
    const t = host.spawn(function* (f) {
      log.push("before");
      const v = yield* f.managed(function* () {
        log.push("body");
        return 5;
      });
      log.push(`after ${v}`);
    });
    host.runUntilIdle();
    expect(log).toEqual(["before"]);
    host.resumeRuntime();
    host.runUntilIdle();
    expect(log).toEqual(["before", "body", "after 5"]);
    expect(t.done).toBe(true);
  });

  it("the raw closing f.enterRuntime of an unmanaged call parks too", async () => {
    const host = await virtualHost();
    const log: string[] = [];
    const t = host.spawn(function* (f) {
      yield* f.reverseEnterRuntime();
      yield* f.leaveRuntime(7);
      host.suspendRuntime();
      log.push(`enter ${yield* f.enterRuntime()}`);
      yield* f.reverseLeaveRuntime();
    });
    host.runUntilIdle();
    expect(log).toEqual([]);
    expect(t.frames()).toEqual([
      { kind: "reverseEnter", target: 0 },
      { kind: "leave", target: 7 },
    ]);
    host.resumeRuntime();
    host.runUntilIdle();
    expect(log).toEqual([`enter ${S_OK}`]);
    expect(t.done).toBe(true);
  });

  it("with enterTimeoutMs the enter answers HOST_E_TIMEOUT after that long, and nothing is pushed", async () => {
    const host = await createHost({ clock: "virtual", enterTimeoutMs: 50 });
    host.suspendRuntime();
    const seen: [number, number, number][] = [];
    host.spawn(function* (f) {
      seen.push([yield* f.reverseEnterRuntime(), host.now(), f.task.depth]);
    });
    host.runUntilIdle();
    expect(seen).toEqual([[HOST_E_TIMEOUT, 50, 0]]);
    expect(host.counters().reverseEnterRuntime).toBe(0);
  });

  it("with enterTimeoutMs f.managed throws HResultError HOST_E_TIMEOUT and its body does not run", async () => {
    const host = await createHost({ clock: "virtual", enterTimeoutMs: 25 });
    host.suspendRuntime();
    let bodyRan = false;
    let caught: unknown;
    const t = host.spawn(function* (f) {
      try {
        yield* f.managed(function* () {
          bodyRan = true;
        });
      } catch (e) {
        caught = e;
      }
      return f.task.depth;
    });
    host.runUntilIdle();
    expect(bodyRan).toBe(false);
    expect(caught).toBeInstanceOf(HResultError);
    expect((caught as HResultError).hr).toBe(HOST_E_TIMEOUT);
    expect(host.now()).toBe(25);
    expect(await t.result).toBe(0);
    const c = host.counters();
    expect(c.reverseEnterRuntime).toBe(0);
    expect(c.reverseLeaveRuntime).toBe(0);
  });

  it("enterTimeoutMs 0 times out at once", async () => {
    const host = await createHost({ clock: "virtual", enterTimeoutMs: 0 });
    host.suspendRuntime();
    let hr = -1;
    host.spawn(function* (f) {
      hr = yield* f.reverseEnterRuntime();
    });
    host.runUntilIdle();
    expect(hr).toBe(HOST_E_TIMEOUT);
    expect(host.now()).toBe(0);
  });

  it("a resume before the time limit answers S_OK", async () => {
    const host = await createHost({ clock: "virtual", enterTimeoutMs: 100 });
    const seen: [number, number][] = [];
    host.spawn(function* (f) {
      host.suspendRuntime();
      seen.push([yield* f.reverseEnterRuntime(), host.now()]);
    });
    host.spawn(function* (f) {
      yield* f.sleep(30);
      host.resumeRuntime();
    });
    host.runUntilIdle();
    expect(seen).toEqual([[S_OK, 30]]);
  });

  it("host.disable() while a fiber waits to enter gives it HOST_E_ABANDONED", async () => {
    const host = await virtualHost();
    host.suspendRuntime();
    const seen: unknown[] = [];
    const raw = host.spawn(function* (f) {
      seen.push(yield* f.reverseEnterRuntime());
    });
    const scoped = host.spawn(function* (f) {
      try {
        yield* f.managed(function* () {
          seen.push("body ran");
        });
      } catch (e) {
        seen.push(e);
      }
    });
    host.runUntilIdle();
    expect(seen).toEqual([]);
    host.disable("test");
    host.runUntilIdle();
    expect(seen[0]).toBe(HOST_E_ABANDONED);
    expect(seen[1]).toBeInstanceOf(HResultError);
    expect((seen[1] as HResultError).hr).toBe(HOST_E_ABANDONED);
    expect(raw.done && scoped.done).toBe(true);
    expect(host.runtimeState).toBe("disabled");
  });

  it("taskManager.reverseEnterRuntime() from synchronous code on a suspended runtime answers HOST_E_TIMEOUT at once", async () => {
    const host = await virtualHost();
    host.suspendRuntime();
    expect(host.taskManager.reverseEnterRuntime()).toBe(HOST_E_TIMEOUT);
    expect(host.rootTask.depth).toBe(0);
    host.resumeRuntime();
    expect(host.taskManager.reverseEnterRuntime()).toBe(S_OK);
    expect(host.rootTask.depth).toBe(1);
    expect(host.taskManager.leaveRuntime(3)).toBe(S_OK);
    host.suspendRuntime();
    expect(host.taskManager.enterRuntime()).toBe(HOST_E_TIMEOUT);
    expect(host.rootTask.depth).toBe(2);
    // Leaving managed code is not held up.
    host.resumeRuntime();
    expect(host.taskManager.enterRuntime()).toBe(S_OK);
    host.suspendRuntime();
    expect(host.taskManager.reverseLeaveRuntime()).toBe(S_OK);
    expect(host.rootTask.depth).toBe(0);
  });
});
