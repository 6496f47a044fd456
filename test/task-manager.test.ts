// IHostTaskManager's surface beyond the transitions: the out-parameter convention, Sleep and
// SwitchToTask from the root task, the locales, CallNeedsHostHook, CreateTask's start argument,
// and the counters as snapshots that move only when a call succeeds.

import { beforeEach, describe, expect, it } from "vitest";
import {
  COR_E_STACKOVERFLOW,
  COUNTER_NAMES,
  E_INVALIDARG,
  E_NOTIMPL,
  E_POINTER,
  HOST_E_INVALIDOPERATION,
  INFINITE,
  S_OK,
  Task,
  WAIT_ALERTABLE,
  WAIT_MSGPUMP,
  WAIT_NOTINDEADLOCK,
  type FiberContext,
  type Host,
  type Out,
  type TaskManager,
} from "../src/index.js";
import { CORES, H, REVERSE, LEAVE, createTask, moved, newHost, snapshot, switchedIn } from "./support/core.js";

describe.each(CORES)("%s core", (core) => {
  let host: Host;
  let tm: TaskManager;

  beforeEach(async () => {
    host = await newHost(core);
    tm = host.taskManager;
  });

  describe("the out-parameter convention", () => {
    it("GetCurrentTask gives host.rootTask outside fibers", () => {
      const out: Out<Task> = {};
      expect(H(tm.getCurrentTask(out))).toBe(H(S_OK));
      expect(out.value).toBe(host.rootTask);
    });

    it("GetCurrentTask gives the fiber's own task inside a fiber", async () => {
      const seen: (Task | undefined)[] = [];
      const a = host.spawn(function* (f: FiberContext) {
        const out: Out<Task> = {};
        tm.getCurrentTask(out);
        seen.push(out.value);
        yield* f.yield();
        tm.getCurrentTask(out);
        seen.push(out.value);
        return f.task;
      });
      const b = host.spawn(function* () {
        const out: Out<Task> = {};
        tm.getCurrentTask(out);
        seen.push(out.value);
      });
      host.runUntilIdle();
      expect(await a.result).toBe(a);
      // Tasks compared by identity: a Task is iterable (yield* task), so toEqual would walk it.
      expect(seen).toHaveLength(3);
      for (const [i, t] of [a, b, a].entries()) expect(seen[i]).toBe(t);
      const out: Out<Task> = {};
      tm.getCurrentTask(out);
      expect(out.value).toBe(host.rootTask);
    });

    it("GetCurrentTask gives a task switched in by hand while it is switched in", () => {
      const t = switchedIn(host);
      const out: Out<Task> = {};
      expect(H(tm.getCurrentTask(out))).toBe(H(S_OK));
      expect(out.value).toBe(t);
      t.switchOut();
      tm.getCurrentTask(out);
      expect(out.value).toBe(host.rootTask);
    });

    const needsOut: [string, (h: Host, out: unknown) => number][] = [
      ["taskManager.getCurrentTask", (h, out) => h.taskManager.getCurrentTask(out as Out<Task>)],
      ["taskManager.createTask", (h, out) => h.taskManager.createTask(0, function* () {}, undefined, out as Out<Task>)],
      ["taskManager.callNeedsHostHook", (h, out) => h.taskManager.callNeedsHostHook(5, out as Out<boolean>)],
      ["taskManager.getStackGuarantee", (h, out) => h.taskManager.getStackGuarantee(out as Out<number>)],
      ["task.getPriority", (h, out) => createTask(h).getPriority(out as Out<number>)],
      ["task.needsPriorityScheduling", (h, out) => createTask(h).needsPriorityScheduling(out as Out<boolean>)],
      ["task.locksHeld", (h, out) => createTask(h).locksHeld(out as Out<number>)],
      ["rootTask.getPriority", (h, out) => h.rootTask.getPriority(out as Out<number>)],
    ];

    describe.each([
      ["undefined", undefined],
      ["null", null],
      ["a number", 0],
    ])("with %s for the out object", (_, missing) => {
      it.each(needsOut)("%s answers E_POINTER", (_, call) => {
        expect(H(call(host, missing))).toBe(H(E_POINTER));
      });
    });

    it("CreateTask without an out object creates no task", () => {
      const live = host.liveTaskCount;
      expect(H(tm.createTask(0, function* () {}, undefined, undefined as unknown as Out<Task>))).toBe(H(E_POINTER));
      expect(host.liveTaskCount).toBe(live);
    });

    it("CreateTask puts a created Task in out.value", () => {
      const out: Out<Task> = {};
      expect(H(tm.createTask(0, function* () {}, undefined, out))).toBe(H(S_OK));
      expect(out.value).toBeInstanceOf(Task);
      expect(out.value!.getState()).toBe("created");
    });

    it("COM BOOL out values land as JS booleans", async () => {
      const declining = await newHost(core, { callNeedsHostHook: (target) => target !== 7 });
      const yes: Out<boolean> = {};
      const no: Out<boolean> = {};
      expect(H(declining.taskManager.callNeedsHostHook(5, yes))).toBe(H(S_OK));
      expect(H(declining.taskManager.callNeedsHostHook(7, no))).toBe(H(S_OK));
      expect(yes.value).toBe(true);
      expect(no.value).toBe(false);
      const t = switchedIn(host);
      const unmanaged: Out<boolean> = {};
      t.needsPriorityScheduling(unmanaged);
      tm.reverseEnterRuntime();
      const managed: Out<boolean> = {};
      t.needsPriorityScheduling(managed);
      expect(unmanaged.value).toBe(false);
      expect(managed.value).toBe(true);
    });

    it("number out values land as numbers: GetStackGuarantee, GetPriority, LocksHeld", () => {
      const t = createTask(host);
      const guarantee: Out<number> = {};
      const priority: Out<number> = {};
      const locks: Out<number> = {};
      expect(H(tm.getStackGuarantee(guarantee))).toBe(H(S_OK));
      expect(H(t.getPriority(priority))).toBe(H(S_OK));
      expect(H(t.locksHeld(locks))).toBe(H(S_OK));
      expect(typeof guarantee.value).toBe("number");
      expect(priority.value).toBe(0);
      expect(locks.value).toBe(0);
    });
  });

  describe("Sleep and SwitchToTask on the task manager", () => {
    it.each([
      ["Sleep(10)", () => tm.sleep(10)],
      ["Sleep(0)", () => tm.sleep(0)],
      ["Sleep(INFINITE, WAIT_ALERTABLE)", () => tm.sleep(INFINITE, WAIT_ALERTABLE)],
      ["SwitchToTask(0)", () => tm.switchToTask(0)],
      ["SwitchToTask()", () => tm.switchToTask()],
      [
        "SwitchToTask(WAIT_MSGPUMP | WAIT_ALERTABLE | WAIT_NOTINDEADLOCK)",
        () => tm.switchToTask(WAIT_MSGPUMP | WAIT_ALERTABLE | WAIT_NOTINDEADLOCK),
      ],
    ])("%s answers HOST_E_INVALIDOPERATION (the JS thread cannot block or switch away)", (_, call) => {
      expect(H(call())).toBe(H(HOST_E_INVALIDOPERATION));
    });

    it.each([
      ["Sleep(-1)", () => tm.sleep(-1)],
      ["Sleep(1.5)", () => tm.sleep(1.5)],
      ["Sleep(NaN)", () => tm.sleep(NaN)],
      ["Sleep(2**32)", () => tm.sleep(2 ** 32)],
      ['Sleep("5")', () => tm.sleep("5" as unknown as number)],
      ["Sleep(10, 8)", () => tm.sleep(10, 8)],
      ["Sleep(10, -1)", () => tm.sleep(10, -1)],
      ["SwitchToTask(8)", () => tm.switchToTask(8)],
      ["SwitchToTask(1.5)", () => tm.switchToTask(1.5)],
      ["SwitchToTask(-1)", () => tm.switchToTask(-1)],
    ])("%s answers E_INVALIDARG", (_, call) => {
      expect(H(call())).toBe(H(E_INVALIDARG));
    });
  });

  describe("SetLocale / SetUILocale", () => {
    it("answer S_OK and set their own locale only", () => {
      expect(H(tm.setLocale(1036))).toBe(H(S_OK));
      expect(tm.getLocales()).toEqual({ locale: 1036, uiLocale: 0 });
      expect(H(tm.setUILocale(1033))).toBe(H(S_OK));
      expect(tm.getLocales()).toEqual({ locale: 1036, uiLocale: 1033 });
      expect(H(tm.setLocale(0xffffffff))).toBe(H(S_OK));
      expect(tm.getLocales()).toEqual({ locale: 0xffffffff, uiLocale: 1033 });
    });

    it.each([
      ["-1", -1],
      ["1.5", 1.5],
      ["NaN", NaN],
      ["2**32", 2 ** 32],
      ['"1033"', "1033"],
      ["undefined", undefined],
    ])("with LCID %s answer E_INVALIDARG and change nothing", (_, lcid) => {
      tm.setLocale(1036);
      tm.setUILocale(1033);
      expect(H(tm.setLocale(lcid as number))).toBe(H(E_INVALIDARG));
      expect(H(tm.setUILocale(lcid as number))).toBe(H(E_INVALIDARG));
      expect(tm.getLocales()).toEqual({ locale: 1036, uiLocale: 1033 });
    });
  });

  describe("SetStackGuarantee / GetStackGuarantee", () => {
    it("SetStackGuarantee is reserved: E_NOTIMPL", () => {
      expect(H(tm.setStackGuarantee(4096))).toBe(H(E_NOTIMPL));
    });
  });

  describe("CallNeedsHostHook(target)", () => {
    it("by default, every target needs the hook", () => {
      for (const target of [0, 1, 0xffffffff]) {
        const out: Out<boolean> = {};
        expect(H(tm.callNeedsHostHook(target, out))).toBe(H(S_OK));
        expect(out.value).toBe(true);
      }
    });

    it.each([
      ["-1", -1],
      ["1.5", 1.5],
      ["2**32", 2 ** 32],
      ["NaN", NaN],
      ['"5"', "5"],
    ])("with target %s answers E_INVALIDARG without asking the host", async (_, target) => {
      const asked: number[] = [];
      const h = await newHost(core, {
        callNeedsHostHook: (t) => {
          asked.push(t);
          return true;
        },
      });
      const out: Out<boolean> = {};
      expect(H(h.taskManager.callNeedsHostHook(target as number, out))).toBe(H(E_INVALIDARG));
      expect(out.value).toBeUndefined();
      expect(asked).toEqual([]);
    });

    it("asks createHost's callNeedsHostHook once per target, and keeps its answer", async () => {
      const asked: number[] = [];
      const h = await newHost(core, {
        callNeedsHostHook: (t) => {
          asked.push(t);
          return t !== 7;
        },
      });
      const answers: (boolean | undefined)[] = [];
      for (const target of [5, 7, 5, 7, 5, 0xffffffff]) {
        const out: Out<boolean> = {};
        expect(H(h.taskManager.callNeedsHostHook(target, out))).toBe(H(S_OK));
        answers.push(out.value);
      }
      expect(answers).toEqual([true, false, true, false, true, true]);
      expect(asked).toEqual([5, 7, 0xffffffff]);
    });

    it("f.unmanaged skips LeaveRuntime / EnterRuntime for a target the hook declines, and asks once per target", async () => {
      const asked: number[] = [];
      const h = await newHost(core, {
        callNeedsHostHook: (t) => {
          asked.push(t);
          return t !== 7;
        },
      });
      const inside: { target: number; depth: number; mode: string; frames: unknown }[] = [];
      const fiber = h.spawn(function* (f: FiberContext) {
        return yield* f.managed(function* () {
          const before = f.task.counters();
          for (let i = 0; i < 2; i++) {
            for (const target of [7, 5]) {
              const r = yield* f.unmanaged(target, () => {
                inside.push({ target, depth: f.task.depth, mode: f.task.mode, frames: f.task.frames() });
                return target * 10;
              });
              expect(r).toBe(target * 10);
            }
          }
          return moved(before, f.task.counters());
        });
      });
      h.runUntilIdle();
      // Two calls to 5 made their transitions; the two calls to 7 made none.
      expect(await fiber.result).toEqual({ leaveRuntime: 2, enterRuntime: 2 });
      expect(inside).toEqual([
        { target: 7, depth: 1, mode: "managed", frames: [REVERSE] },
        { target: 5, depth: 2, mode: "unmanaged", frames: [REVERSE, LEAVE(5)] },
        { target: 7, depth: 1, mode: "managed", frames: [REVERSE] },
        { target: 5, depth: 2, mode: "unmanaged", frames: [REVERSE, LEAVE(5)] },
      ]);
      expect(asked).toEqual([7, 5]);
      // The task manager and f.unmanaged share the answers.
      const out: Out<boolean> = {};
      h.taskManager.callNeedsHostHook(7, out);
      expect(out.value).toBe(false);
      expect(asked).toEqual([7, 5]);
    });

    it("f.unmanaged on a declined target runs its body even from unmanaged mode (no LeaveRuntime is made)", async () => {
      const h = await newHost(core, { callNeedsHostHook: (t) => t !== 7 });
      const fiber = h.spawn(function* (f: FiberContext) {
        return yield* f.unmanaged(7, () => f.task.depth);
      });
      h.runUntilIdle();
      expect(await fiber.result).toBe(0);
    });
  });

  describe("CreateTask(stackSize, start, param)", () => {
    it.each([
      ["null", null],
      ["undefined", undefined],
      ["a number", 5],
      ["a string", "function* () {}"],
      ["an object", {}],
    ])("with %s for start answers E_INVALIDARG and creates nothing", (_, start) => {
      const live = host.liveTaskCount;
      const out: Out<Task> = {};
      expect(H(tm.createTask(0, start as never, undefined, out))).toBe(H(E_INVALIDARG));
      expect(out.value).toBeUndefined();
      expect(host.liveTaskCount).toBe(live);
    });

    it("passes param to the body as its second argument; a plain function's return value is the result", async () => {
      const out: Out<Task> = {};
      expect(H(tm.createTask(0, (_f: FiberContext, p: { n: number }) => p.n * 2, { n: 21 }, out))).toBe(H(S_OK));
      expect(H(out.value!.start())).toBe(H(S_OK));
      host.runUntilIdle();
      expect(await out.value!.result).toBe(42);
    });
  });

  describe("counters()", () => {
    it("host.counters() returns a fresh plain object with every counter, each call", () => {
      const a = host.counters();
      const b = host.counters();
      expect(a).not.toBe(b);
      expect(Object.getPrototypeOf(a)).toBe(Object.prototype);
      expect(Object.keys(a).sort()).toEqual([...COUNTER_NAMES].sort());
      expect(Object.values(a).every((v) => typeof v === "number")).toBe(true);
      expect(a).toEqual(b);
    });

    it("task.counters() returns a fresh plain object with every counter, each call", () => {
      const t = createTask(host);
      const a = t.counters();
      expect(a).not.toBe(t.counters());
      expect(Object.getPrototypeOf(a)).toBe(Object.prototype);
      expect(Object.keys(a).sort()).toEqual([...COUNTER_NAMES].sort());
    });

    it("a snapshot does not move when the counters do, and spreading or writing it touches nothing", () => {
      const t = switchedIn(host);
      const hostBefore = host.counters();
      const taskBefore = t.counters();
      const copy = { ...hostBefore };
      tm.reverseEnterRuntime();
      tm.leaveRuntime(1);
      expect(hostBefore).toEqual(copy);
      expect(taskBefore.reverseEnterRuntime).toBe(0);
      expect(host.counters().reverseEnterRuntime).toBe(hostBefore.reverseEnterRuntime + 1);
      hostBefore.leaveRuntime = 1000;
      taskBefore.leaveRuntime = 1000;
      expect(host.counters().leaveRuntime).toBe(copy.leaveRuntime + 1);
      expect(t.counters().leaveRuntime).toBe(1);
    });

    it("move only when a call succeeds", () => {
      const t = switchedIn(host, 16);
      const other = createTask(host);
      const before = snapshot(host, t);
      const failing: [string, () => number, number][] = [
        ["EnterRuntime with no frames", () => tm.enterRuntime(), HOST_E_INVALIDOPERATION],
        ["ReverseLeaveRuntime with no frames", () => tm.reverseLeaveRuntime(), HOST_E_INVALIDOPERATION],
        ["LeaveRuntime in unmanaged mode", () => tm.leaveRuntime(1), HOST_E_INVALIDOPERATION],
        ["LeaveRuntime(-1)", () => tm.leaveRuntime(-1), E_INVALIDARG],
        ["SwitchIn of another task", () => other.switchIn(), HOST_E_INVALIDOPERATION],
        ["SwitchIn of the current task", () => t.switchIn(), HOST_E_INVALIDOPERATION],
        ["SwitchOut of a task not switched in", () => other.switchOut(), HOST_E_INVALIDOPERATION],
      ];
      for (const [what, call, hr] of failing) expect(H(call()), what).toBe(H(hr));
      expect(snapshot(host, t)).toEqual(before);
      expect(Object.values(other.counters()).every((v) => v === 0)).toBe(true);
      // Fill the 2-frame reservation, then overflow it: the failing push counts nothing.
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(H(tm.leaveRuntime(1))).toBe(H(S_OK));
      const full = snapshot(host, t);
      expect(H(tm.reverseEnterRuntime())).toBe(H(COR_E_STACKOVERFLOW));
      expect(snapshot(host, t)).toEqual(full);
      expect(moved(before.counters, t.counters())).toEqual({ reverseEnterRuntime: 1, leaveRuntime: 1 });
      expect(moved(before.totals, host.counters())).toEqual({ reverseEnterRuntime: 1, leaveRuntime: 1 });
    });

    it("host totals include the counters of tasks that have ended", async () => {
      const before = host.counters();
      const fiber = host.spawn(function* (f: FiberContext) {
        yield* f.managed(() => f.unmanaged(3, () => 0));
      });
      host.runUntilIdle();
      await fiber.result;
      expect(fiber.done).toBe(true);
      expect(moved(before, host.counters())).toMatchObject({
        reverseEnterRuntime: 1,
        reverseLeaveRuntime: 1,
        leaveRuntime: 1,
        enterRuntime: 1,
      });
      expect(fiber.counters()).toMatchObject({
        reverseEnterRuntime: 1,
        reverseLeaveRuntime: 1,
        leaveRuntime: 1,
        enterRuntime: 1,
      });
    });
  });
});
