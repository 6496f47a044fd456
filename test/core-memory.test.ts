// The core's linear memory: E_OUTOFMEMORY when it cannot grow (docs/contract.md §2: Leave/Enter/
// ReverseLeave/ReverseEnter and CreateTask add E_OUTOFMEMORY), with nothing changed; and the host
// layer's views of the memory staying right when it grows between fast-path transitions.

import { beforeEach, describe, expect, it } from "vitest";
import {
  E_INVALIDARG,
  E_OUTOFMEMORY,
  HResultError,
  S_OK,
  type FiberContext,
  type Frame,
  type Host,
  type Out,
  type Task,
  type TaskManager,
} from "../src/index.js";
import { CORES, H, LEAVE, REVERSE, createTask, moved, newHost, snapshot, switchedIn } from "./support/core.js";

import { IDX } from "../src/core/names.js";
const PAGE = 64 * 1024;
/** Room for the fixed areas and one chunk of task slots (the root task's), not for a second chunk. */
const SMALL = 4 * PAGE;

describe.each(CORES)("%s core", (core) => {
  describe("CreateTask when the core's memory cannot grow", () => {
    let host: Host;
    let tm: TaskManager;
    beforeEach(async () => {
      host = await newHost(core, { maxMemoryBytes: SMALL });
      tm = host.taskManager;
    });

    /** Creates tasks until one fails: the tasks made and the failing answer. */
    function exhaust(): { made: Task[]; hr: number; out: Out<Task> } {
      const made: Task[] = [];
      for (let i = 0; i < 100_000; i++) {
        const out: Out<Task> = {};
        const hr = tm.createTask(0, function* () {}, undefined, out);
        if (hr !== S_OK) return { made, hr, out };
        made.push(out.value!);
      }
      throw new Error("CreateTask never ran out of memory under maxMemoryBytes");
    }

    it("answers E_OUTOFMEMORY and changes nothing: earlier tasks intact, counters unchanged", () => {
      const early = switchedIn(host);
      tm.reverseEnterRuntime();
      tm.leaveRuntime(0xfeedface);
      expect(H(early.switchOut())).toBe(H(S_OK));
      const before = snapshot(host, early);
      const { made, hr, out } = exhaust();
      expect(made.length).toBeGreaterThan(0);
      expect(H(hr)).toBe(H(E_OUTOFMEMORY));
      expect(out.value).toBeUndefined();
      const atFailure = snapshot(host, early);
      expect(atFailure).toEqual({ ...before, live: before.live + made.length });
      // Asking again changes nothing either, and the runtime stays usable.
      expect(H(tm.createTask(0, function* () {}, undefined, {}))).toBe(H(E_OUTOFMEMORY));
      expect(snapshot(host, early)).toEqual(atFailure);
      expect(host.runtimeState).toBe("started");
      expect(early.frames()).toEqual([REVERSE, LEAVE(0xfeedface)]);
      expect(made.every((t) => t.getState() === "created" && t.depth === 0)).toBe(true);
      expect(host.checkInvariants()).toBe(true);
    });

    it("succeeds again once a task has ended and given its slot back", () => {
      const { made, hr } = exhaust();
      expect(H(hr)).toBe(H(E_OUTOFMEMORY));
      const last = made[made.length - 1];
      expect(H(last.switchIn())).toBe(H(S_OK));
      expect(H(last.exitTask())).toBe(H(S_OK));
      const again = createTask(host);
      expect(again[IDX]).toBe(last[IDX]);
      expect(H(tm.createTask(0, function* () {}, undefined, {}))).toBe(H(E_OUTOFMEMORY));
    });

    it("makes host.spawn throw an HResultError carrying E_OUTOFMEMORY", () => {
      exhaust();
      let thrown: unknown;
      try {
        host.spawn(function* () {});
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(HResultError);
      expect(H((thrown as HResultError).hr)).toBe(H(E_OUTOFMEMORY));
    });
  });

  it("createHost rejects with E_INVALIDARG below MIN_MEMORY_BYTES, the least memory that holds the root task", async () => {
    let thrown: unknown;
    try {
      await newHost(core, { maxMemoryBytes: PAGE });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(HResultError);
    expect(H((thrown as HResultError).hr)).toBe(H(E_INVALIDARG));
  });

  describe("a push that needs a bigger frame buffer when the core's memory cannot grow", () => {
    it("answers E_OUTOFMEMORY and changes nothing; pops and pushes within the buffer still work", async () => {
      const host = await newHost(core, { maxMemoryBytes: SMALL });
      const tm = host.taskManager;
      const t = switchedIn(host, 1024 * 1024); // a reservation far beyond what the memory can hold
      const model: Frame[] = [];
      let hr = S_OK;
      for (let i = 0; i < 200_000; i++) {
        hr = i % 2 === 0 ? tm.reverseEnterRuntime() : tm.leaveRuntime(i);
        if (hr !== S_OK) break;
        model.push(i % 2 === 0 ? REVERSE : LEAVE(i));
      }
      expect(H(hr)).toBe(H(E_OUTOFMEMORY));
      const n = model.length;
      const reverses = Math.ceil(n / 2);
      expect(t.depth).toBe(n);
      expect(t.frames()).toEqual(model);
      expect(t.counters()).toMatchObject({ reverseEnterRuntime: reverses, leaveRuntime: n - reverses });
      // Either kind of push fails the same way, and changes nothing.
      const before = snapshot(host, t);
      const top = model[n - 1].kind;
      expect(H(top === "leave" ? tm.reverseEnterRuntime() : tm.leaveRuntime(1))).toBe(H(E_OUTOFMEMORY));
      expect(snapshot(host, t)).toEqual(before);
      // A pop, then a push into the room it made: S_OK.
      expect(H(top === "leave" ? tm.enterRuntime() : tm.reverseLeaveRuntime())).toBe(H(S_OK));
      expect(H(top === "leave" ? tm.leaveRuntime(0xffffffff) : tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(t.depth).toBe(n);
      expect(t.frames()[n - 1]).toEqual(top === "leave" ? LEAVE(0xffffffff) : REVERSE);
      expect(host.runtimeState).toBe("started");
      expect(host.checkInvariants()).toBe(true);
    });

    it("in a fiber, nested f.managed throws E_OUTOFMEMORY and every opened frame is closed on the way out", async () => {
      const host = await newHost(core, { maxMemoryBytes: SMALL });
      let deepest = 0;
      const fiber = host.spawn(
        function* (f: FiberContext) {
          const nest = function* (level: number): Generator<unknown, void, unknown> {
            deepest = Math.max(deepest, f.task.depth);
            if (level > 200_000) throw new Error("never ran out of memory");
            yield* f.managed(() => nest(level + 1));
          };
          try {
            yield* nest(0);
          } catch (err) {
            return { hr: (err as HResultError).hr, depth: f.task.depth, counters: f.task.counters() };
          }
          return null;
        },
        { stackSize: 1024 * 1024 },
      );
      host.runUntilIdle();
      const r = (await fiber.result) as {
        hr: number;
        depth: number;
        counters: { reverseEnterRuntime: number; reverseLeaveRuntime: number };
      };
      expect(H(r.hr)).toBe(H(E_OUTOFMEMORY));
      expect(deepest).toBeGreaterThan(100);
      expect(r.depth).toBe(0);
      expect(r.counters.reverseEnterRuntime).toBe(r.counters.reverseLeaveRuntime);
    });
  });

  describe("the core's memory growing between fast-path transitions", () => {
    it("leaves transitions, frames and counters right on a task driven by hand", async () => {
      const host = await newHost(core);
      const tm = host.taskManager;
      const t = switchedIn(host);
      const model: Frame[] = [];
      const expectModel = (when: string) => {
        expect(t.frames(), when).toEqual(model);
        expect(t.depth, when).toBe(model.length);
        expect(t.mode, when).toBe(
          model.length > 0 && model[model.length - 1].kind === "reverseEnter" ? "managed" : "unmanaged",
        );
      };
      // Warm the fast path: the first push allocates the buffer, the next ones run over the views.
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      model.push(REVERSE);
      expect(H(tm.leaveRuntime(0x11111111))).toBe(H(S_OK));
      model.push(LEAVE(0x11111111));
      const start = host.counters();
      const startMemory = host.coreMemoryBytes;
      let growths = 0;
      for (let round = 0; round < 4; round++) {
        const memory = host.coreMemoryBytes;
        for (let i = 0; i < 1100; i++) createTask(host); // a new chunk of task slots: the memory grows
        if (host.coreMemoryBytes > memory) growths++;
        // Transitions over the views, right after the growth.
        expect(H(tm.enterRuntime())).toBe(H(S_OK));
        model.pop();
        expect(H(tm.leaveRuntime(0xf0000000 + round))).toBe(H(S_OK));
        model.push(LEAVE(0xf0000000 + round));
        expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
        model.push(REVERSE);
        expect(H(tm.leaveRuntime(0x80000000 + round))).toBe(H(S_OK));
        model.push(LEAVE(0x80000000 + round));
        expectModel(`round ${round}`);
      }
      expect(growths).toBe(4);
      expect(host.coreMemoryBytes).toBeGreaterThan(startMemory);
      expect(moved(start, host.counters())).toEqual({ enterRuntime: 4, leaveRuntime: 8, reverseEnterRuntime: 4 });
      expect(t.counters()).toMatchObject({ enterRuntime: 4, leaveRuntime: 9, reverseEnterRuntime: 5 });
      // And back down, over the views of the grown memory.
      while (model.length > 0) {
        const top = model.pop()!;
        expect(H(top.kind === "leave" ? tm.enterRuntime() : tm.reverseLeaveRuntime())).toBe(H(S_OK));
      }
      expectModel("after unwinding");
      expect(host.checkInvariants()).toBe(true);
    });

    it("leaves a fiber's transitions, frames and counters right when another fiber grows the memory between them", async () => {
      const host = await newHost(core);
      const seen: { frames: Frame[]; leave: number }[] = [];
      const grower = function* (f: FiberContext) {
        for (let round = 0; round < 3; round++) {
          for (let i = 0; i < 1100; i++) createTask(host);
          yield* f.yield();
        }
      };
      const fiber = host.spawn(function* (f: FiberContext) {
        yield* f.reverseEnterRuntime();
        for (let round = 0; round < 3; round++) {
          yield* f.leaveRuntime(0xffff0000 + round);
          yield* f.yield(); // the grower runs here
          const hrs = [yield* f.enterRuntime(), yield* f.reverseEnterRuntime(), yield* f.leaveRuntime(round)];
          expect(hrs.map(H)).toEqual([H(S_OK), H(S_OK), H(S_OK)]);
          seen.push({ frames: f.task.frames(), leave: f.task.counters().leaveRuntime });
          yield* f.enterRuntime();
        }
        return f.task.counters();
      });
      host.spawn(grower);
      const memory = host.coreMemoryBytes;
      host.runUntilIdle();
      expect(host.coreMemoryBytes).toBeGreaterThan(memory);
      const counters = await fiber.result;
      expect(seen.map((s) => s.leave)).toEqual([2, 4, 6]);
      expect(seen[2].frames).toEqual([REVERSE, REVERSE, REVERSE, REVERSE, LEAVE(2)]);
      expect(counters).toMatchObject({
        leaveRuntime: 6,
        enterRuntime: 6,
        reverseEnterRuntime: 4,
        reverseLeaveRuntime: 0,
      });
      expect(host.checkInvariants()).toBe(true);
    });
  });
});
