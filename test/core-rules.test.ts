// The four transitions (docs/contract.md §3), as the specification: what each answers given the task's top
// frame, what it pushes or pops, and that a failed transition changes nothing. Every rule runs on
// both cores. Tasks are driven by hand from the root task: while a created task is switched in,
// the task manager's transitions act on it.

import { beforeEach, describe, expect, it } from "vitest";
import {
  COR_E_STACKOVERFLOW,
  DEFAULT_STACK_SIZE,
  E_INVALIDARG,
  HOST_E_INVALIDOPERATION,
  S_OK,
  type Counters,
  type FiberContext,
  type Frame,
  type Host,
  type Task,
  type TaskManager,
} from "../src/index.js";
import { CORES, H, LEAVE, REVERSE, moved, newHost, snapshot, switchedIn, createTask } from "./support/core.js";

import { IDX } from "../src/core/names.js";
const FRAME_SIZE = 8; // assembly/layout.ts

describe.each(CORES)("%s core", (core) => {
  let host: Host;
  let tm: TaskManager;

  beforeEach(async () => {
    host = await newHost(core);
    tm = host.taskManager;
  });

  /** Runs `step` and checks it answered `hr` and left the task and the host exactly as they were. */
  function expectNoChange(t: Task, step: () => number, hr: number): void {
    const before = snapshot(host, t);
    expect(H(step())).toBe(H(hr));
    expect(snapshot(host, t)).toEqual(before);
  }

  describe("LeaveRuntime(target)", () => {
    it("in managed mode answers S_OK and pushes an unmanaged frame with the target", () => {
      const t = switchedIn(host);
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      const before = snapshot(host, t);
      expect(H(tm.leaveRuntime(0xcafe))).toBe(H(S_OK));
      expect(t.frames()).toEqual([REVERSE, LEAVE(0xcafe)]);
      expect(t.depth).toBe(2);
      expect(t.mode).toBe("unmanaged");
      expect(moved(before.counters, t.counters())).toEqual({ leaveRuntime: 1 });
      expect(moved(before.totals, host.counters())).toEqual({ leaveRuntime: 1 });
    });

    it("on the root task in managed mode answers S_OK and pushes the frame on the root task", () => {
      const root = host.rootTask;
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(H(tm.leaveRuntime(7))).toBe(H(S_OK));
      expect(root.frames()).toEqual([REVERSE, LEAVE(7)]);
      expect(root.mode).toBe("unmanaged");
    });

    it("keeps the targets 0 and 0xFFFFFFFF exactly", () => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      expect(H(tm.leaveRuntime(0xffffffff))).toBe(H(S_OK));
      tm.reverseEnterRuntime();
      expect(H(tm.leaveRuntime(0))).toBe(H(S_OK));
      expect(t.frames()).toEqual([REVERSE, LEAVE(0xffffffff), REVERSE, LEAVE(0)]);
    });

    it("in unmanaged mode with no frames (a task born unmanaged) answers HOST_E_INVALIDOPERATION and changes nothing", () => {
      const t = switchedIn(host);
      expectNoChange(t, () => tm.leaveRuntime(1), HOST_E_INVALIDOPERATION);
      expect(t.depth).toBe(0);
    });

    it("in unmanaged mode under a LeaveRuntime frame answers HOST_E_INVALIDOPERATION and changes nothing", () => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      tm.leaveRuntime(1);
      expectNoChange(t, () => tm.leaveRuntime(2), HOST_E_INVALIDOPERATION);
      expect(t.frames()).toEqual([REVERSE, LEAVE(1)]);
    });

    it.each([
      ["-1", -1],
      ["1.5", 1.5],
      ["NaN", NaN],
      ["2**32", 2 ** 32],
      ['"5"', "5"],
      ["undefined", undefined],
      ["Infinity", Infinity],
      ["5n", 5n],
    ])("with target %s answers E_INVALIDARG and changes nothing, even in managed mode", (_, target) => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      expectNoChange(t, () => tm.leaveRuntime(target as number), E_INVALIDARG);
      expect(t.frames()).toEqual([REVERSE]);
    });
  });

  describe("EnterRuntime", () => {
    it("after an outstanding LeaveRuntime answers S_OK and pops its frame back to managed mode", () => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      tm.leaveRuntime(9);
      const before = snapshot(host, t);
      expect(H(tm.enterRuntime())).toBe(H(S_OK));
      expect(t.frames()).toEqual([REVERSE]);
      expect(t.mode).toBe("managed");
      expect(moved(before.counters, t.counters())).toEqual({ enterRuntime: 1 });
      expect(moved(before.totals, host.counters())).toEqual({ enterRuntime: 1 });
    });

    it("with no frames answers HOST_E_INVALIDOPERATION and changes nothing", () => {
      const t = switchedIn(host);
      expectNoChange(t, () => tm.enterRuntime(), HOST_E_INVALIDOPERATION);
    });

    it("with a ReverseEnterRuntime frame on top answers HOST_E_INVALIDOPERATION and changes nothing", () => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      expectNoChange(t, () => tm.enterRuntime(), HOST_E_INVALIDOPERATION);
    });

    it("with a LeaveRuntime frame below a ReverseEnterRuntime frame answers HOST_E_INVALIDOPERATION and changes nothing", () => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      tm.leaveRuntime(3);
      tm.reverseEnterRuntime();
      expectNoChange(t, () => tm.enterRuntime(), HOST_E_INVALIDOPERATION);
      expect(t.frames()).toEqual([REVERSE, LEAVE(3), REVERSE]);
    });
  });

  describe("ReverseEnterRuntime", () => {
    it("with no frames at all (a task born unmanaged) answers S_OK and pushes a managed frame", () => {
      const t = switchedIn(host);
      const before = snapshot(host, t);
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(t.frames()).toEqual([REVERSE]);
      expect(t.mode).toBe("managed");
      expect(moved(before.counters, t.counters())).toEqual({ reverseEnterRuntime: 1 });
      expect(moved(before.totals, host.counters())).toEqual({ reverseEnterRuntime: 1 });
    });

    it("on top of a LeaveRuntime frame (a callback from unmanaged code) answers S_OK and pushes a managed frame", () => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      tm.leaveRuntime(4);
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(t.frames()).toEqual([REVERSE, LEAVE(4), REVERSE]);
      expect(t.mode).toBe("managed");
    });

    it("on top of a ReverseEnterRuntime frame answers S_OK and pushes another managed frame", () => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(t.frames()).toEqual([REVERSE, REVERSE]);
      expect(t.counters().reverseEnterRuntime).toBe(2);
    });
  });

  describe("ReverseLeaveRuntime", () => {
    it("after an outstanding ReverseEnterRuntime answers S_OK and pops it", () => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      tm.leaveRuntime(4);
      tm.reverseEnterRuntime();
      const before = snapshot(host, t);
      expect(H(tm.reverseLeaveRuntime())).toBe(H(S_OK));
      expect(t.frames()).toEqual([REVERSE, LEAVE(4)]);
      expect(t.mode).toBe("unmanaged");
      expect(moved(before.counters, t.counters())).toEqual({ reverseLeaveRuntime: 1 });
      expect(moved(before.totals, host.counters())).toEqual({ reverseLeaveRuntime: 1 });
    });

    it("with no frames answers HOST_E_INVALIDOPERATION and changes nothing", () => {
      const t = switchedIn(host);
      expectNoChange(t, () => tm.reverseLeaveRuntime(), HOST_E_INVALIDOPERATION);
    });

    it("with a LeaveRuntime frame on top answers HOST_E_INVALIDOPERATION and changes nothing", () => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      tm.leaveRuntime(5);
      expectNoChange(t, () => tm.reverseLeaveRuntime(), HOST_E_INVALIDOPERATION);
      expect(t.frames()).toEqual([REVERSE, LEAVE(5)]);
    });
  });

  describe("the documented six-step sequence from managed mode", () => {
    const A = 0xa000;
    const B = 0xb000;
    const MODES = ["unmanaged", "managed", "unmanaged", "managed", "unmanaged", "managed"];
    const MOVED: Partial<Counters> = {
      leaveRuntime: 2,
      enterRuntime: 2,
      reverseEnterRuntime: 1,
      reverseLeaveRuntime: 1,
    };

    function runSequence(t: Task): void {
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK)); // born unmanaged: now in managed code
      expect(t.mode).toBe("managed");
      const start = snapshot(host, t);
      const steps: [string, () => number][] = [
        ["1 LeaveRuntime(A)", () => tm.leaveRuntime(A)],
        ["2 ReverseEnterRuntime", () => tm.reverseEnterRuntime()],
        ["3 LeaveRuntime(B)", () => tm.leaveRuntime(B)],
        ["4 EnterRuntime", () => tm.enterRuntime()],
        ["5 ReverseLeaveRuntime", () => tm.reverseLeaveRuntime()],
        ["6 EnterRuntime", () => tm.enterRuntime()],
      ];
      const seen = steps.map(([name, step]) => {
        const hr = step();
        const at = { step: name, hr: H(hr), mode: t.mode };
        if (name.startsWith("3")) expect(t.frames()).toEqual([REVERSE, LEAVE(A), REVERSE, LEAVE(B)]);
        return at;
      });
      expect(seen).toEqual(steps.map(([name], i) => ({ step: name, hr: H(S_OK), mode: MODES[i] })));
      expect(t.depth).toBe(start.depth);
      expect(t.frames()).toEqual([REVERSE]);
      expect(moved(start.counters, t.counters())).toEqual(MOVED);
      expect(moved(start.totals, host.counters())).toEqual(MOVED);
    }

    it("on a task driven by hand answers S_OK at every step, alternates the mode and ends where it started", () => {
      runSequence(switchedIn(host));
    });

    it("on the root task answers S_OK at every step, alternates the mode and ends where it started", () => {
      runSequence(host.rootTask);
    });

    it("on a spawned fiber, with f.leaveRuntime and friends, answers S_OK at every step and alternates the mode", async () => {
      const seen: { hr: string; mode: string }[] = [];
      let start: Counters | undefined;
      let end: Counters | undefined;
      const depths: number[] = [];
      const fiber = host.spawn(function* (f: FiberContext) {
        expect(H(yield* f.reverseEnterRuntime())).toBe(H(S_OK));
        start = f.task.counters();
        depths.push(f.task.depth);
        const steps = [
          () => f.leaveRuntime(A),
          () => f.reverseEnterRuntime(),
          () => f.leaveRuntime(B),
          () => f.enterRuntime(),
          () => f.reverseLeaveRuntime(),
          () => f.enterRuntime(),
        ];
        for (const step of steps) {
          const hr = yield* step();
          seen.push({ hr: H(hr), mode: f.task.mode });
        }
        depths.push(f.task.depth);
        end = f.task.counters();
        return f.task.frames();
      });
      host.runUntilIdle();
      expect(await fiber.result).toEqual([REVERSE]);
      expect(seen).toEqual(MODES.map((mode) => ({ hr: H(S_OK), mode })));
      expect(depths).toEqual([1, 1]);
      expect(moved(start!, end!)).toEqual(MOVED);
    });

    it("as nested f.managed / f.unmanaged scopes makes the same transitions and balances them", async () => {
      const modes: string[] = [];
      let inside: Frame[] = [];
      const fiber = host.spawn(function* (f: FiberContext) {
        return yield* f.managed(function* () {
          modes.push(f.task.mode);
          const before = f.task.counters();
          yield* f.unmanaged(A, function* () {
            modes.push(f.task.mode);
            yield* f.managed(function* () {
              modes.push(f.task.mode);
              yield* f.unmanaged(B, () => {
                modes.push(f.task.mode);
                inside = f.task.frames();
              });
              modes.push(f.task.mode);
            });
            modes.push(f.task.mode);
          });
          modes.push(f.task.mode);
          return moved(before, f.task.counters());
        });
      });
      host.runUntilIdle();
      expect(await fiber.result).toEqual(MOVED);
      expect(modes).toEqual(["managed", ...MODES]);
      expect(inside).toEqual([REVERSE, LEAVE(A), REVERSE, LEAVE(B)]);
    });
  });

  describe("ExitTask and Reset with reverse enters still open", () => {
    it("ExitTask answers S_OK, clears the frames and counts each open reverse enter in unmatchedReverseEnter", () => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      tm.leaveRuntime(1);
      tm.reverseEnterRuntime();
      const totals = host.counters();
      expect(H(t.exitTask())).toBe(H(S_OK));
      expect(t.depth).toBe(0);
      expect(t.frames()).toEqual([]);
      expect(t.counters().unmatchedReverseEnter).toBe(2);
      expect(moved(totals, host.counters())).toEqual({ unmatchedReverseEnter: 2 });
      expect(host.checkInvariants()).toBe(true);
      // The slot's next tenant starts with no frames, in unmanaged mode.
      const next = createTask(host);
      expect(next[IDX]).toBe(t[IDX]);
      expect(next.depth).toBe(0);
      expect(next.frames()).toEqual([]);
      expect(next.mode).toBe("unmanaged");
      expect(next.counters().unmatchedReverseEnter).toBe(0);
    });

    it("Reset answers S_OK, clears the frames and counts each open reverse enter, and the task can run again", () => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      tm.leaveRuntime(1);
      tm.reverseEnterRuntime();
      tm.reverseEnterRuntime();
      expect(H(t.switchOut())).toBe(H(S_OK));
      const totals = host.counters();
      expect(H(t.reset())).toBe(H(S_OK));
      expect(t.depth).toBe(0);
      expect(t.frames()).toEqual([]);
      expect(t.mode).toBe("unmanaged");
      expect(t.counters().unmatchedReverseEnter).toBe(3);
      expect(moved(totals, host.counters())).toEqual({ unmatchedReverseEnter: 3 });
      expect(host.checkInvariants()).toBe(true);
      expect(H(t.switchIn())).toBe(H(S_OK));
      expect(H(tm.enterRuntime())).toBe(H(HOST_E_INVALIDOPERATION));
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(t.frames()).toEqual([REVERSE]);
    });

    it("Reset(false) also clears the frames and counts the open reverse enters", () => {
      const t = switchedIn(host);
      tm.reverseEnterRuntime();
      t.switchOut();
      expect(H(t.reset(false))).toBe(H(S_OK));
      expect(t.frames()).toEqual([]);
      expect(t.counters().unmatchedReverseEnter).toBe(1);
    });

    it("a fiber that returns with reverse enters open ends normally and counts them", async () => {
      const fiber = host.spawn(function* (f: FiberContext) {
        yield* f.reverseEnterRuntime();
        yield* f.leaveRuntime(2);
        yield* f.reverseEnterRuntime();
        return "done";
      });
      const totals = host.counters();
      host.runUntilIdle();
      expect(await fiber.result).toBe("done");
      expect(fiber.counters().unmatchedReverseEnter).toBe(2);
      expect(moved(totals, host.counters())).toMatchObject({ unmatchedReverseEnter: 2 });
      expect(host.checkInvariants()).toBe(true);
    });
  });

  describe("a push onto a full reservation", () => {
    it("ReverseEnterRuntime answers COR_E_STACKOVERFLOW and changes nothing (2 frames of 16 bytes)", () => {
      const t = switchedIn(host, 2 * FRAME_SIZE);
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(H(tm.leaveRuntime(1))).toBe(H(S_OK));
      expectNoChange(t, () => tm.reverseEnterRuntime(), COR_E_STACKOVERFLOW);
      // Popping makes room again.
      expect(H(tm.enterRuntime())).toBe(H(S_OK));
      expect(H(tm.leaveRuntime(2))).toBe(H(S_OK));
      expect(t.frames()).toEqual([REVERSE, LEAVE(2)]);
    });

    it("LeaveRuntime answers COR_E_STACKOVERFLOW and changes nothing (1 frame of 8 bytes)", () => {
      const t = switchedIn(host, FRAME_SIZE);
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expectNoChange(t, () => tm.leaveRuntime(1), COR_E_STACKOVERFLOW);
    });

    it("a reservation smaller than one frame holds no frame at all", () => {
      const t = switchedIn(host, FRAME_SIZE - 1);
      expectNoChange(t, () => tm.reverseEnterRuntime(), COR_E_STACKOVERFLOW);
    });

    it("a reservation beyond the first frame buffer holds exactly stackSize / 8 frames", () => {
      const t = switchedIn(host, 100 * FRAME_SIZE);
      for (let i = 0; i < 100; i++) {
        const hr = i % 2 === 0 ? tm.reverseEnterRuntime() : tm.leaveRuntime(i);
        if (hr !== S_OK) expect(H(hr), `push ${i}`).toBe(H(S_OK));
      }
      expect(t.depth).toBe(100);
      expectNoChange(t, () => tm.reverseEnterRuntime(), COR_E_STACKOVERFLOW);
      expect(H(tm.enterRuntime())).toBe(H(S_OK));
      expect(H(tm.leaveRuntime(500))).toBe(H(S_OK));
      expect(t.frames().slice(-2)).toEqual([REVERSE, LEAVE(500)]);
      expectNoChange(t, () => tm.reverseEnterRuntime(), COR_E_STACKOVERFLOW);
    });

    it("the default stack size (0) holds DEFAULT_STACK_SIZE / 8 frames", () => {
      const t = switchedIn(host, 0);
      const frames = DEFAULT_STACK_SIZE / FRAME_SIZE;
      for (let i = 0; i < frames; i++) {
        const hr = tm.reverseEnterRuntime();
        if (hr !== S_OK) expect(H(hr), `push ${i}`).toBe(H(S_OK));
      }
      expectNoChange(t, () => tm.reverseEnterRuntime(), COR_E_STACKOVERFLOW);
      expect(t.depth).toBe(frames);
    });

    it("in a fiber, f.reverseEnterRuntime answers COR_E_STACKOVERFLOW and f.managed throws it, with the frames balanced", async () => {
      const fiber = host.spawn(
        function* (f: FiberContext) {
          const hrs = [yield* f.reverseEnterRuntime(), yield* f.reverseEnterRuntime(), yield* f.reverseEnterRuntime()];
          let thrown: unknown;
          try {
            yield* f.managed(() => "never runs");
          } catch (err) {
            thrown = err;
          }
          return { hrs: hrs.map(H), thrown, depth: f.task.depth };
        },
        { stackSize: 2 * FRAME_SIZE },
      );
      host.runUntilIdle();
      const r = (await fiber.result) as { hrs: string[]; thrown: { hr?: number }; depth: number };
      expect(r.hrs).toEqual([H(S_OK), H(S_OK), H(COR_E_STACKOVERFLOW)]);
      expect(H(r.thrown?.hr)).toBe(H(COR_E_STACKOVERFLOW));
      expect(r.depth).toBe(2);
    });
  });

  describe("frames beyond the first frame buffer", () => {
    /** Targets that cover the whole u32 range, the sign bit included. */
    function target(i: number): number {
      const fixed = [0xffffffff, 0x80000000, 0x7fffffff, 0, 1];
      return i < fixed.length ? fixed[i] : Math.imul(i, 0x9e3779b1) >>> 0;
    }

    function model(depth: number): Frame[] {
      const m: Frame[] = [];
      for (let i = 0; i < depth; i++) m.push(i % 2 === 0 ? REVERSE : LEAVE(target(i >> 1)));
      return m;
    }

    it("nesting 1000 deep and back keeps every frame, target and counter right", () => {
      const t = switchedIn(host);
      const N = 1000;
      for (let round = 0; round < 2; round++) {
        // round 0 grows the buffer; round 1 reuses it (the fast path all the way)
        for (let i = 0; i < N; i++) {
          const hr = i % 2 === 0 ? tm.reverseEnterRuntime() : tm.leaveRuntime(target(i >> 1));
          if (hr !== S_OK) expect(H(hr), `push ${i} of round ${round}`).toBe(H(S_OK));
          if (i % 97 === 0) expect(t.frames(), `frames at depth ${i + 1}`).toEqual(model(i + 1));
        }
        expect(t.depth).toBe(N);
        expect(t.frames()).toEqual(model(N));
        expect(t.mode).toBe("unmanaged");
        for (let d = N; d > 0; d--) {
          const hr = d % 2 === 0 ? tm.enterRuntime() : tm.reverseLeaveRuntime();
          if (hr !== S_OK) expect(H(hr), `pop at depth ${d} of round ${round}`).toBe(H(S_OK));
          if (d % 89 === 0) expect(t.frames(), `frames at depth ${d - 1}`).toEqual(model(d - 1));
        }
        expect(t.depth).toBe(0);
      }
      expect(t.counters()).toMatchObject({
        leaveRuntime: N,
        enterRuntime: N,
        reverseEnterRuntime: N,
        reverseLeaveRuntime: N,
        unmatchedReverseEnter: 0,
      });
      expect(host.checkInvariants()).toBe(true);
    });

    it("a slot reused after a deep task gives its next tenant an empty, working stack", () => {
      const deep = switchedIn(host);
      for (let i = 0; i < 300; i++) i % 2 === 0 ? tm.reverseEnterRuntime() : tm.leaveRuntime(i);
      expect(deep.depth).toBe(300);
      expect(H(deep.exitTask())).toBe(H(S_OK));
      const next = switchedIn(host, 3 * FRAME_SIZE);
      expect(next[IDX]).toBe(deep[IDX]);
      expect(next.frames()).toEqual([]);
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(H(tm.leaveRuntime(0xffffffff))).toBe(H(S_OK));
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      // the new tenant's reservation (3 frames), not the old buffer's capacity, bounds it
      expect(H(tm.leaveRuntime(1))).toBe(H(COR_E_STACKOVERFLOW));
      expect(next.frames()).toEqual([REVERSE, LEAVE(0xffffffff), REVERSE]);
    });
  });
});
