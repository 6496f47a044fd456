// The rules of IHostTask / ICLRTask / ICLRTask2 and the task manager's per-task regions (docs/contract.md
// §4): CreateTask's stack size, handles that went stale, the abort and affinity regions, SwitchIn,
// ExitTask, YieldTask, NeedsPriorityScheduling, Start, SetTaskIdentifier and SetPriority.

import { beforeEach, describe, expect, it } from "vitest";
import {
  E_INVALIDARG,
  E_UNEXPECTED,
  HOST_E_INVALIDOPERATION,
  HResultError,
  S_FALSE,
  S_OK,
  THREAD_PRIORITY_ABOVE_NORMAL,
  THREAD_PRIORITY_BELOW_NORMAL,
  THREAD_PRIORITY_HIGHEST,
  THREAD_PRIORITY_IDLE,
  THREAD_PRIORITY_LOWEST,
  THREAD_PRIORITY_NORMAL,
  THREAD_PRIORITY_TIME_CRITICAL,
  type FiberContext,
  type Host,
  type Out,
  type Task,
  type TaskManager,
} from "../src/index.js";
import { CORES, H, LEAVE, REVERSE, createTask, newHost, snapshot, switchedIn } from "./support/core.js";

import { IDX } from "../src/core/names.js";
const PRIORITIES = [
  THREAD_PRIORITY_IDLE,
  THREAD_PRIORITY_LOWEST,
  THREAD_PRIORITY_BELOW_NORMAL,
  THREAD_PRIORITY_NORMAL,
  THREAD_PRIORITY_ABOVE_NORMAL,
  THREAD_PRIORITY_HIGHEST,
  THREAD_PRIORITY_TIME_CRITICAL,
];

function current(host: Host): Task | undefined {
  const out: Out<Task> = {};
  host.taskManager.getCurrentTask(out);
  return out.value;
}

function priorityOf(t: Task): number | undefined {
  const out: Out<number> = {};
  expect(H(t.getPriority(out))).toBe(H(S_OK));
  return out.value;
}

describe.each(CORES)("%s core", (core) => {
  let host: Host;
  let tm: TaskManager;

  beforeEach(async () => {
    host = await newHost(core);
    tm = host.taskManager;
  });

  describe("CreateTask(stackSize)", () => {
    it.each([
      ["negative (-8)", -8],
      ["negative (-1)", -1],
      ["fractional (1.5)", 1.5],
      ["fractional (8.5)", 8.5],
      ["NaN", NaN],
      ["Infinity", Infinity],
      ["above the maximum (4097)", 4097],
      ["well above the maximum (2**31)", 2 ** 31],
      ['a string ("16")', "16"],
      ["a bigint (16n)", 16n],
    ])("with a stack size that is %s answers E_INVALIDARG and creates nothing", async (_, size) => {
      const small = await newHost(core, { maxStackSize: 4096 });
      const live = small.liveTaskCount;
      const out: Out<Task> = {};
      expect(H(small.taskManager.createTask(size as number, function* () {}, undefined, out))).toBe(H(E_INVALIDARG));
      expect(out.value).toBeUndefined();
      expect(small.liveTaskCount).toBe(live);
    });

    it("accepts exactly the maximum, and the task then holds maximum / 8 frames", async () => {
      const small = await newHost(core, { maxStackSize: 4096 });
      const t = switchedIn(small, 4096);
      for (let i = 0; i < 512; i++) {
        const hr = small.taskManager.reverseEnterRuntime();
        if (hr !== S_OK) expect(H(hr), `push ${i}`).toBe(H(S_OK));
      }
      expect(t.depth).toBe(512);
    });

    it("returns a created (suspended) task: its body does not run until Start", () => {
      let ran = 0;
      const out: Out<Task> = {};
      expect(
        H(
          tm.createTask(
            0,
            function* () {
              ran++;
            },
            undefined,
            out,
          ),
        ),
      ).toBe(H(S_OK));
      const t = out.value!;
      expect(t.getState()).toBe("created");
      host.runUntilIdle();
      expect(ran).toBe(0);
      expect(H(t.start())).toBe(H(S_OK));
      host.runUntilIdle();
      expect(ran).toBe(1);
      expect(t.done).toBe(true);
    });
  });

  describe("Start", () => {
    it("a second Start answers HOST_E_INVALIDOPERATION and the body runs once", () => {
      let ran = 0;
      const out: Out<Task> = {};
      tm.createTask(
        0,
        function* () {
          ran++;
        },
        undefined,
        out,
      );
      const t = out.value!;
      expect(H(t.start())).toBe(H(S_OK));
      expect(H(t.start())).toBe(H(HOST_E_INVALIDOPERATION));
      host.runUntilIdle();
      expect(ran).toBe(1);
    });

    it("Start on the root task answers HOST_E_INVALIDOPERATION", () => {
      expect(H(host.rootTask.start())).toBe(H(HOST_E_INVALIDOPERATION));
    });
  });

  describe("calls on a stale handle (the task ended and its slot was reused)", () => {
    const calls: [string, (t: Task) => number][] = [
      ["start", (t) => t.start()],
      ["alert", (t) => t.alert()],
      ["setPriority", (t) => t.setPriority(THREAD_PRIORITY_HIGHEST)],
      ["getPriority", (t) => t.getPriority({})],
      ["switchIn", (t) => t.switchIn()],
      ["switchOut", (t) => t.switchOut()],
      ["exitTask", (t) => t.exitTask()],
      ["reset", (t) => t.reset()],
      ["abort", (t) => t.abort()],
      ["rudeAbort", (t) => t.rudeAbort()],
      ["needsPriorityScheduling", (t) => t.needsPriorityScheduling({})],
      ["yieldTask", (t) => t.yieldTask()],
      ["locksHeld", (t) => t.locksHeld({})],
      ["setTaskIdentifier", (t) => t.setTaskIdentifier(42)],
      ["beginPreventAsyncAbort", (t) => t.beginPreventAsyncAbort()],
      ["endPreventAsyncAbort", (t) => t.endPreventAsyncAbort()],
    ];

    const endings: [string, (host: Host) => Task][] = [
      [
        "ended by ExitTask",
        (h) => {
          const t = switchedIn(h);
          expect(H(t.exitTask())).toBe(H(S_OK));
          return t;
        },
      ],
      [
        "a fiber that returned",
        (h) => {
          const t = h.spawn(function* (f: FiberContext) {
            yield* f.yield();
          });
          h.runUntilIdle();
          expect(t.done).toBe(true);
          return t;
        },
      ],
    ];

    describe.each(endings)("%s", (_, end) => {
      it.each(calls)("%s answers E_INVALIDARG and does not touch the slot's new task", (_, call) => {
        const stale = end(host);
        const fresh = switchedIn(host);
        expect(fresh[IDX]).toBe(stale[IDX]); // the slot was reused
        tm.reverseEnterRuntime();
        tm.leaveRuntime(77);
        expect(H(fresh.switchOut())).toBe(H(S_OK));
        fresh.beginPreventAsyncAbort();
        const before = snapshot(host, fresh);
        const priority = priorityOf(fresh);
        const state = fresh.getState();
        expect(H(call(stale))).toBe(H(E_INVALIDARG));
        expect(snapshot(host, fresh)).toEqual(before);
        expect(priorityOf(fresh)).toBe(priority);
        expect(fresh.getState()).toBe(state);
        // The new task's own state is as it was: its prevent-async-abort count is still 1.
        expect(H(fresh.endPreventAsyncAbort())).toBe(H(S_OK));
        expect(H(fresh.endPreventAsyncAbort())).toBe(H(E_UNEXPECTED));
        // Its yield request flag is still clear.
        expect(H(fresh.yieldTask())).toBe(H(S_OK));
      });
    });
  });

  describe("calls with another host's task or object", () => {
    it("f.join(task of another host) answers E_INVALIDARG", async () => {
      const other = await newHost(core);
      const foreign = createTask(other);
      const fiber = host.spawn(function* (f: FiberContext) {
        return yield* f.join(foreign, 0);
      });
      host.runUntilIdle();
      expect(H(await fiber.result)).toBe(H(E_INVALIDARG));
    });

    it("f.wait(event of another host) answers E_INVALIDARG", async () => {
      const other = await newHost(core);
      const foreign = other.createManualEvent(true);
      const fiber = host.spawn(function* (f: FiberContext) {
        return yield* f.wait(foreign, 0);
      });
      host.runUntilIdle();
      expect(H(await fiber.result)).toBe(H(E_INVALIDARG));
    });
  });

  describe("BeginDelayAbort / EndDelayAbort", () => {
    it("a second BeginDelayAbort without EndDelayAbort answers E_UNEXPECTED and changes nothing", () => {
      const t = switchedIn(host);
      expect(H(tm.beginDelayAbort())).toBe(H(S_OK));
      const before = snapshot(host, t);
      expect(H(tm.beginDelayAbort())).toBe(H(E_UNEXPECTED));
      expect(snapshot(host, t)).toEqual(before);
      // still one region, not two: one End closes it
      expect(H(tm.endDelayAbort())).toBe(H(S_OK));
      expect(H(tm.endDelayAbort())).toBe(H(E_UNEXPECTED));
    });

    it("EndDelayAbort without BeginDelayAbort answers E_UNEXPECTED and changes nothing", () => {
      const t = switchedIn(host);
      const before = snapshot(host, t);
      expect(H(tm.endDelayAbort())).toBe(H(E_UNEXPECTED));
      expect(snapshot(host, t)).toEqual(before);
      // still outside a region: a Begin opens one
      expect(H(tm.beginDelayAbort())).toBe(H(S_OK));
      expect(H(tm.endDelayAbort())).toBe(H(S_OK));
    });

    it("the region belongs to the current task", () => {
      const t = switchedIn(host);
      expect(H(tm.beginDelayAbort())).toBe(H(S_OK));
      expect(H(t.switchOut())).toBe(H(S_OK));
      expect(H(tm.beginDelayAbort())).toBe(H(S_OK)); // the root task's own region
      expect(H(tm.endDelayAbort())).toBe(H(S_OK));
      expect(H(t.switchIn())).toBe(H(S_OK));
      expect(H(tm.beginDelayAbort())).toBe(H(E_UNEXPECTED));
      expect(H(tm.endDelayAbort())).toBe(H(S_OK));
    });
  });

  describe("BeginThreadAffinity / EndThreadAffinity", () => {
    it("EndThreadAffinity with a count of 0 answers E_UNEXPECTED", () => {
      switchedIn(host);
      expect(H(tm.endThreadAffinity())).toBe(H(E_UNEXPECTED));
      expect(H(tm.beginThreadAffinity())).toBe(H(S_OK));
      expect(H(tm.endThreadAffinity())).toBe(H(S_OK));
    });

    it("BeginThreadAffinity nests: each Begin needs its End, then End answers E_UNEXPECTED", () => {
      switchedIn(host);
      for (let i = 0; i < 3; i++) expect(H(tm.beginThreadAffinity())).toBe(H(S_OK));
      for (let i = 0; i < 3; i++) expect(H(tm.endThreadAffinity()), `End ${i + 1}`).toBe(H(S_OK));
      expect(H(tm.endThreadAffinity())).toBe(H(E_UNEXPECTED));
    });

    it("the count belongs to the current task", () => {
      const t = switchedIn(host);
      expect(H(tm.beginThreadAffinity())).toBe(H(S_OK));
      t.switchOut();
      expect(H(tm.endThreadAffinity())).toBe(H(E_UNEXPECTED)); // the root task holds none
      t.switchIn();
      expect(H(tm.endThreadAffinity())).toBe(H(S_OK));
    });
  });

  describe("BeginPreventAsyncAbort / EndPreventAsyncAbort", () => {
    it("EndPreventAsyncAbort with a count of 0 answers E_UNEXPECTED", () => {
      const t = createTask(host);
      expect(H(t.endPreventAsyncAbort())).toBe(H(E_UNEXPECTED));
      expect(H(host.rootTask.endPreventAsyncAbort())).toBe(H(E_UNEXPECTED));
    });

    it("BeginPreventAsyncAbort nests: each Begin needs its End, then End answers E_UNEXPECTED", () => {
      const t = createTask(host);
      for (let i = 0; i < 3; i++) expect(H(t.beginPreventAsyncAbort())).toBe(H(S_OK));
      for (let i = 0; i < 3; i++) expect(H(t.endPreventAsyncAbort()), `End ${i + 1}`).toBe(H(S_OK));
      expect(H(t.endPreventAsyncAbort())).toBe(H(E_UNEXPECTED));
    });

    it("the count belongs to the task it is called on, not the current task", () => {
      const a = createTask(host);
      const b = createTask(host);
      expect(H(a.beginPreventAsyncAbort())).toBe(H(S_OK));
      expect(H(b.endPreventAsyncAbort())).toBe(H(E_UNEXPECTED));
      expect(H(a.endPreventAsyncAbort())).toBe(H(S_OK));
    });
  });

  describe("SwitchIn / SwitchOut", () => {
    it("SwitchIn while another task is switched in answers HOST_E_INVALIDOPERATION and changes nothing", () => {
      const a = switchedIn(host);
      const b = createTask(host);
      const beforeA = snapshot(host, a);
      const beforeB = snapshot(host, b);
      expect(H(b.switchIn())).toBe(H(HOST_E_INVALIDOPERATION));
      expect(snapshot(host, a)).toEqual(beforeA);
      expect(snapshot(host, b)).toEqual(beforeB);
      expect(current(host)).toBe(a);
      // transitions still act on a
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(a.frames()).toEqual([REVERSE]);
      expect(b.frames()).toEqual([]);
    });

    it("SwitchIn of the task already switched in answers HOST_E_INVALIDOPERATION", () => {
      const a = switchedIn(host);
      expect(H(a.switchIn())).toBe(H(HOST_E_INVALIDOPERATION));
      expect(a.counters().switchIn).toBe(1);
    });

    it("SwitchIn of the root task answers HOST_E_INVALIDOPERATION", () => {
      expect(H(host.rootTask.switchIn())).toBe(H(HOST_E_INVALIDOPERATION));
      switchedIn(host);
      expect(H(host.rootTask.switchIn())).toBe(H(HOST_E_INVALIDOPERATION));
    });

    it("SwitchOut of a task that is not switched in answers HOST_E_INVALIDOPERATION and changes nothing", () => {
      const a = switchedIn(host);
      const b = createTask(host);
      const before = snapshot(host, b);
      expect(H(b.switchOut())).toBe(H(HOST_E_INVALIDOPERATION));
      expect(snapshot(host, b)).toEqual(before);
      expect(current(host)).toBe(a);
    });

    it("SwitchIn makes the task current and counts it; SwitchOut returns to the root task and counts it", () => {
      const a = createTask(host);
      expect(H(a.switchIn())).toBe(H(S_OK));
      expect(current(host)).toBe(a);
      expect(H(a.switchOut())).toBe(H(S_OK));
      expect(current(host)).toBe(host.rootTask);
      expect(a.counters()).toMatchObject({ switchIn: 1, switchOut: 1 });
      tm.reverseEnterRuntime();
      expect(host.rootTask.frames()).toEqual([REVERSE]);
      expect(a.frames()).toEqual([]);
    });

    it("SwitchIn of a started fiber by hand answers HOST_E_INVALIDOPERATION (the scheduler drives it)", () => {
      const t = host.spawn(function* () {});
      expect(H(t.switchIn())).toBe(H(HOST_E_INVALIDOPERATION));
      host.runUntilIdle();
    });
  });

  describe("ExitTask", () => {
    it("on a task that is not the current one answers HOST_E_INVALIDOPERATION and changes nothing", () => {
      const t = createTask(host);
      const before = snapshot(host, t);
      expect(H(t.exitTask())).toBe(H(HOST_E_INVALIDOPERATION));
      expect(snapshot(host, t)).toEqual(before);
      expect(t.getState()).toBe("created");
      expect(H(t.switchIn())).toBe(H(S_OK)); // still a live handle
    });

    it("while another task is switched in answers HOST_E_INVALIDOPERATION and changes nothing", () => {
      const a = switchedIn(host);
      tm.reverseEnterRuntime();
      const b = createTask(host);
      const beforeA = snapshot(host, a);
      const beforeB = snapshot(host, b);
      expect(H(b.exitTask())).toBe(H(HOST_E_INVALIDOPERATION));
      expect(snapshot(host, a)).toEqual(beforeA);
      expect(snapshot(host, b)).toEqual(beforeB);
    });

    it("on the current task answers S_OK, frees the task and makes the root task current", () => {
      const t = switchedIn(host);
      const live = host.liveTaskCount;
      expect(H(t.exitTask())).toBe(H(S_OK));
      expect(current(host)).toBe(host.rootTask);
      expect(host.liveTaskCount).toBe(live - 1);
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(host.rootTask.frames()).toEqual([REVERSE]);
    });

    it("a task ended by ExitTask is done: done is true, join(0) answers S_OK and its result settles", async () => {
      const t = switchedIn(host);
      expect(H(t.exitTask())).toBe(H(S_OK));
      expect(t.done).toBe(true);
      expect(t.getState()).toBe("done");
      expect(H(t.join(0))).toBe(H(S_OK));
      await expect(t.result).resolves.toBeUndefined();
    });

    it("a task ended by ExitTask keeps its last counters after its slot is reused", () => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      tm.leaveRuntime(1);
      tm.enterRuntime();
      expect(H(t.exitTask())).toBe(H(S_OK));
      const last = t.counters();
      expect(last).toMatchObject({
        reverseEnterRuntime: 1,
        leaveRuntime: 1,
        enterRuntime: 1,
        unmatchedReverseEnter: 1,
      });
      const next = switchedIn(host);
      expect(next[IDX]).toBe(t[IDX]);
      tm.reverseEnterRuntime();
      tm.reverseEnterRuntime();
      expect(t.counters()).toEqual(last);
    });

    it("in a fiber answers S_OK and ends the fiber at its next operation, without running the rest", async () => {
      let after = false;
      let hr: number | undefined;
      const t = host.spawn(function* (f: FiberContext) {
        hr = f.task.exitTask();
        yield* f.yield();
        after = true;
      });
      host.runUntilIdle();
      expect(H(hr)).toBe(H(S_OK));
      expect(after).toBe(false);
      expect(t.done).toBe(true);
      await expect(t.result).resolves.toBeUndefined();
    });
  });

  describe("YieldTask", () => {
    it("on the calling task itself answers HOST_E_INVALIDOPERATION", () => {
      const t = switchedIn(host);
      expect(H(t.yieldTask())).toBe(H(HOST_E_INVALIDOPERATION));
      t.switchOut();
      expect(H(host.rootTask.yieldTask())).toBe(H(HOST_E_INVALIDOPERATION));
    });

    it("on the calling fiber itself answers HOST_E_INVALIDOPERATION", async () => {
      const t = host.spawn(function* (f: FiberContext) {
        return f.task.yieldTask();
      });
      host.runUntilIdle();
      expect(H(await t.result)).toBe(H(HOST_E_INVALIDOPERATION));
    });

    it("a second request before the first is honoured answers S_FALSE", () => {
      const t = createTask(host);
      expect(H(t.yieldTask())).toBe(H(S_OK));
      expect(H(t.yieldTask())).toBe(H(S_FALSE));
    });

    it("on a task driven by hand, the request is honoured by the task's own next transition, not by another task's", () => {
      const t = createTask(host);
      expect(H(t.yieldTask())).toBe(H(S_OK));
      // The root task's transitions (the slow path while a request is pending) leave t's request alone.
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(H(tm.leaveRuntime(9))).toBe(H(S_OK));
      expect(host.rootTask.frames()).toEqual([REVERSE, LEAVE(9)]);
      expect(H(t.yieldTask())).toBe(H(S_FALSE));
      // t's own transition honours it, and answers as always.
      expect(H(t.switchIn())).toBe(H(S_OK));
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(t.frames()).toEqual([REVERSE]);
      expect(H(t.switchOut())).toBe(H(S_OK));
      expect(H(t.yieldTask())).toBe(H(S_OK));
      // The root task's frames were not touched by any of it.
      expect(host.rootTask.frames()).toEqual([REVERSE, LEAVE(9)]);
    });

    it("a failed transition does not honour the request", () => {
      const t = createTask(host);
      expect(H(t.yieldTask())).toBe(H(S_OK));
      t.switchIn();
      expect(H(tm.enterRuntime())).toBe(H(HOST_E_INVALIDOPERATION));
      t.switchOut();
      expect(H(t.yieldTask())).toBe(H(S_FALSE));
    });

    it("a request still pending when the task ends or is reset is dropped with it: transitions keep working", () => {
      const a = createTask(host);
      const b = createTask(host);
      expect(H(a.yieldTask())).toBe(H(S_OK));
      expect(H(b.yieldTask())).toBe(H(S_OK));
      expect(H(a.reset())).toBe(H(S_OK));
      expect(H(a.yieldTask())).toBe(H(S_OK)); // the reset dropped the first request
      expect(H(a.reset())).toBe(H(S_OK));
      b.switchIn();
      expect(H(b.exitTask())).toBe(H(S_OK));
      for (let i = 0; i < 3; i++) {
        expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
        expect(H(tm.leaveRuntime(i))).toBe(H(S_OK));
      }
      expect(host.rootTask.depth).toBe(6);
      expect(host.checkInvariants()).toBe(true);
    });

    /**
     * B asks A to yield, then yields itself; A then reaches a transition. The request is honoured
     * at A's next safe point or transition: B runs again before A's transition completes, and once
     * honoured, a new request answers S_OK (not S_FALSE).
     */
    function yieldScenario(aFirst: boolean): string[] {
      const log: string[] = [];
      let a: Task | undefined;
      const spawnA = () =>
        (a = host.spawn(function* (f: FiberContext) {
          log.push("A starts");
          if (aFirst) yield* f.yield(); // B asks while A is switched out, after A has run
          yield* f.reverseEnterRuntime();
          log.push("A after its transition");
          for (let i = 0; i < 6; i++) yield* f.yield(); // outlives B
        }));
      if (aFirst) spawnA();
      host.spawn(function* (f: FiberContext) {
        log.push("B asks A to yield: " + H(a!.yieldTask()));
        log.push("B asks again: " + H(a!.yieldTask()));
        yield* f.yield();
        log.push("B runs while A yields");
        yield* f.yield();
        yield* f.yield();
        log.push("B asks A once more: " + H(a!.yieldTask()));
      });
      if (!aFirst) spawnA();
      host.runUntilIdle();
      return log;
    }

    it.each([
      ["before the task first runs", false],
      ["while the task is switched out after running", true],
    ])("a request made %s is honoured by its next transition, after which a new request answers S_OK", (_, aFirst) => {
      const log = yieldScenario(aFirst);
      expect(log).toContain("B asks A to yield: " + H(S_OK));
      expect(log).toContain("B asks again: " + H(S_FALSE));
      expect(log).toContain("B asks A once more: " + H(S_OK));
      expect(log.indexOf("B runs while A yields")).toBeGreaterThan(log.indexOf("B asks again: " + H(S_FALSE)));
      // B got to run again before A's transition completed: A yielded.
      expect(log.indexOf("B runs while A yields"), log.join(" / ")).toBeLessThan(log.indexOf("A after its transition"));
    });
  });

  describe("NeedsPriorityScheduling", () => {
    it("is TRUE exactly when the task is in managed mode, as a JS boolean", () => {
      const t = switchedIn(host);
      const ask = (): boolean | undefined => {
        const out: Out<boolean> = {};
        expect(H(t.needsPriorityScheduling(out))).toBe(H(S_OK));
        expect(typeof out.value).toBe("boolean");
        expect(out.value).toBe(t.mode === "managed");
        return out.value;
      };
      const seen = [ask()];
      const steps = [
        () => tm.reverseEnterRuntime(),
        () => tm.leaveRuntime(1),
        () => tm.reverseEnterRuntime(),
        () => tm.reverseEnterRuntime(),
        () => tm.reverseLeaveRuntime(),
        () => tm.reverseLeaveRuntime(),
        () => tm.enterRuntime(),
        () => tm.reverseLeaveRuntime(),
      ];
      for (const step of steps) {
        expect(H(step())).toBe(H(S_OK));
        seen.push(ask());
      }
      expect(seen).toEqual([false, true, false, true, true, true, false, true, false]);
    });

    it("answers for a task switched out in managed mode (it delays the collector)", () => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      t.switchOut();
      const out: Out<boolean> = {};
      expect(H(t.needsPriorityScheduling(out))).toBe(H(S_OK));
      expect(out.value).toBe(true);
      const root: Out<boolean> = {};
      expect(H(host.rootTask.needsPriorityScheduling(root))).toBe(H(S_OK));
      expect(root.value).toBe(false);
    });

    it("follows a fiber into and out of f.managed", async () => {
      const seen: (boolean | undefined)[] = [];
      const ask = (t: Task) => {
        const out: Out<boolean> = {};
        t.needsPriorityScheduling(out);
        seen.push(out.value);
      };
      const fiber = host.spawn(function* (f: FiberContext) {
        ask(f.task);
        yield* f.managed(function* () {
          ask(f.task);
          yield* f.yield();
          yield* f.unmanaged(3, () => ask(f.task));
        });
        ask(f.task);
      });
      host.runUntilIdle();
      await fiber.result;
      expect(seen).toEqual([false, true, false, false]);
    });
  });

  describe("the root task", () => {
    it.each([
      ["abort", (t: Task) => t.abort()],
      ["rudeAbort", (t: Task) => t.rudeAbort()],
      ["exitTask", (t: Task) => t.exitTask()],
      ["reset", (t: Task) => t.reset()],
      ["reset(false)", (t: Task) => t.reset(false)],
    ])("%s answers HOST_E_INVALIDOPERATION and changes nothing", (_, call) => {
      const root = host.rootTask;
      tm.reverseEnterRuntime();
      tm.leaveRuntime(2);
      const before = snapshot(host, root);
      expect(H(call(root))).toBe(H(HOST_E_INVALIDOPERATION));
      expect(snapshot(host, root)).toEqual(before);
      expect(root.frames()).toEqual([REVERSE, LEAVE(2)]);
      expect(current(host)).toBe(root);
    });
  });

  describe("SetTaskIdentifier", () => {
    it.each([
      ["0", 0],
      ["1", 1],
      ["2**32", 2 ** 32],
      ["Number.MAX_SAFE_INTEGER", Number.MAX_SAFE_INTEGER],
      ["0n", 0n],
      ["2n**63n", 2n ** 63n],
      ["2n**64n - 1n", 2n ** 64n - 1n],
    ])("accepts %s", (_, id) => {
      const t = createTask(host);
      expect(H(t.setTaskIdentifier(id))).toBe(H(S_OK));
    });

    it.each([
      ["-1", -1],
      ["-1n", -1n],
      ["1.5", 1.5],
      ["NaN", NaN],
      ["Infinity", Infinity],
      ["2**64", 2 ** 64],
      ["2n**64n", 2n ** 64n],
      ['"5"', "5"],
      ["undefined", undefined],
    ])("rejects %s with E_INVALIDARG", (_, id) => {
      const t = createTask(host);
      expect(H(t.setTaskIdentifier(id as number))).toBe(H(E_INVALIDARG));
    });
  });

  describe("SetPriority / GetPriority", () => {
    it("a new task has THREAD_PRIORITY_NORMAL", () => {
      expect(priorityOf(createTask(host))).toBe(THREAD_PRIORITY_NORMAL);
    });

    it.each(PRIORITIES)("accepts THREAD_PRIORITY value %i and GetPriority reads it back", (p) => {
      const t = createTask(host);
      expect(H(t.setPriority(p))).toBe(H(S_OK));
      expect(priorityOf(t)).toBe(p);
    });

    it.each([
      ["3", 3],
      ["-3", -3],
      ["14", 14],
      ["16", 16],
      ["-14", -14],
      ["-16", -16],
      ["0.5", 0.5],
      ["-0.5", -0.5],
      ["NaN", NaN],
      ["Infinity", Infinity],
      ["2**32 + 1", 2 ** 32 + 1],
      ["-(2**32) + 2", -(2 ** 32) + 2],
      ['"1"', "1"],
      ["undefined", undefined],
      ["1n", 1n],
    ])("rejects %s with E_INVALIDARG and keeps the priority it had", (_, p) => {
      const t = createTask(host);
      expect(H(t.setPriority(THREAD_PRIORITY_ABOVE_NORMAL))).toBe(H(S_OK));
      expect(H(t.setPriority(p as number))).toBe(H(E_INVALIDARG));
      expect(priorityOf(t)).toBe(THREAD_PRIORITY_ABOVE_NORMAL);
      expect(host.runtimeState).toBe("started");
    });

    it("host.spawn with a priority that is not a THREAD_PRIORITY value throws E_INVALIDARG and leaves no task behind", () => {
      const live = host.liveTaskCount;
      expect(() => host.spawn(function* () {}, { priority: 3 })).toThrow(HResultError);
      expect(host.liveTaskCount).toBe(live);
    });

    it("host.spawn with a bad priority, called from inside a fiber, leaves no task behind either", async () => {
      let live = -1;
      let liveAfter = -1;
      let thrown: unknown;
      const fiber = host.spawn(function* () {
        live = host.liveTaskCount;
        try {
          host.spawn(function* () {}, { priority: 3 });
        } catch (err) {
          thrown = err;
        }
        liveAfter = host.liveTaskCount;
      });
      host.runUntilIdle();
      await fiber.result;
      expect(thrown).toBeInstanceOf(HResultError);
      expect(H((thrown as HResultError).hr)).toBe(H(E_INVALIDARG));
      expect(liveAfter).toBe(live);
      expect(host.liveTaskCount).toBe(1); // the root task only
    });
  });
});
