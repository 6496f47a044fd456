// Limits: nesting to the reservation and back, counters past 2^32, and a hundred thousand fibers
// released by one event at once.
import { describe, expect, it } from "vitest";
import {
  createHost,
  hresultName,
  type Task,
  COR_E_STACKOVERFLOW,
  S_OK,
  DEFAULT_STACK_SIZE,
  DEFAULT_MAX_STACK_SIZE,
} from "../src/index.js";

const FRAME_SIZE = 8; // bytes a frame takes of a task's stack size (assembly/layout.ts)

/** Switches `t` in by hand, pushes frames until the reservation is full, checks, and pops them all. */
function nestToTheLimit(host: Awaited<ReturnType<typeof createHost>>, t: Task, frames: number): void {
  const tm = host.taskManager;
  expect(t.switchIn()).toBe(S_OK);
  // Alternate managed and unmanaged frames: ReverseEnter, then Leave(target) on top of it, …
  for (let d = 0; d < frames; d++) {
    const hr = d % 2 === 0 ? tm.reverseEnterRuntime() : tm.leaveRuntime(d >>> 0);
    if (hr !== S_OK) throw new Error(`push ${d} answered ${hresultName(hr)}`);
  }
  expect(t.depth).toBe(frames);
  const before = t.counters();
  const push = frames % 2 === 0 ? () => tm.reverseEnterRuntime() : () => tm.leaveRuntime(1);
  expect(hresultName(push())).toBe(hresultName(COR_E_STACKOVERFLOW));
  expect(t.depth).toBe(frames);
  expect(t.counters()).toEqual(before);
  const top = t.frames()[frames - 1];
  expect(top.kind).toBe(frames % 2 === 1 ? "reverseEnter" : "leave");
  for (let d = frames - 1; d >= 0; d--) {
    const hr = d % 2 === 0 ? tm.reverseLeaveRuntime() : tm.enterRuntime();
    if (hr !== S_OK) throw new Error(`pop ${d} answered ${hresultName(hr)}`);
  }
  expect(t.depth).toBe(0);
  const c = t.counters();
  expect(c.reverseEnterRuntime).toBe(Math.ceil(frames / 2));
  expect(c.reverseLeaveRuntime).toBe(Math.ceil(frames / 2));
  expect(c.leaveRuntime).toBe(Math.floor(frames / 2));
  expect(c.enterRuntime).toBe(Math.floor(frames / 2));
  expect(t.switchOut()).toBe(S_OK);
  expect(host.checkInvariants()).toBe(true);
}

describe.each(["release", "debug"] as const)("%s core", (core) => {
  describe("nesting to the reservation and back", () => {
    it(`a task with the default stack size holds ${DEFAULT_STACK_SIZE / FRAME_SIZE} frames, then COR_E_STACKOVERFLOW`, async () => {
      const host = await createHost({ core });
      const out: { value?: Task } = {};
      host.taskManager.createTask(0, function* () {}, undefined, out);
      nestToTheLimit(host, out.value!, DEFAULT_STACK_SIZE / FRAME_SIZE);
    });

    it(`a task with the largest stack size (${DEFAULT_MAX_STACK_SIZE} bytes) holds ${DEFAULT_MAX_STACK_SIZE / FRAME_SIZE} frames`, async () => {
      const host = await createHost({ core });
      const out: { value?: Task } = {};
      host.taskManager.createTask(DEFAULT_MAX_STACK_SIZE, function* () {}, undefined, out);
      nestToTheLimit(host, out.value!, DEFAULT_MAX_STACK_SIZE / FRAME_SIZE);
    });
  });

  describe("counters carried past 2^32", () => {
    it("stay exact per task and in the totals, past 2^32 and up to 2^53", async () => {
      const host = await createHost({ core });
      const root = host.rootTask;
      const tm = host.taskManager;
      const start = 2 ** 32 - 3;
      expect(host.door.presetCounter(root, "reverseEnterRuntime", start)).toBe(S_OK);
      expect(host.door.presetCounter(root, "reverseLeaveRuntime", start)).toBe(S_OK);
      for (let i = 0; i < 10; i++) {
        expect(tm.reverseEnterRuntime()).toBe(S_OK);
        expect(tm.reverseLeaveRuntime()).toBe(S_OK);
      }
      expect(root.counters().reverseEnterRuntime).toBe(2 ** 32 + 7);
      expect(host.counters().reverseLeaveRuntime).toBe(2 ** 32 + 7);
      expect(host.door.presetCounter(root, "leaveRuntime", 2 ** 53 - 4)).toBe(S_OK);
      expect(host.door.presetCounter(root, "enterRuntime", 2 ** 53 - 4)).toBe(S_OK);
      tm.reverseEnterRuntime();
      for (let i = 0; i < 3; i++) {
        expect(tm.leaveRuntime(i)).toBe(S_OK);
        expect(tm.enterRuntime()).toBe(S_OK);
      }
      expect(host.counters().leaveRuntime).toBe(2 ** 53 - 1);
      expect(root.counters().enterRuntime).toBe(2 ** 53 - 1);
    });
  });
});

describe("a hundred thousand fibers waiting on one event", () => {
  it("are all released by one Set, each runs to its end, and the run settles", async () => {
    const N = 100_000;
    const host = await createHost({ clock: "virtual" });
    const gate = host.createManualEvent(false);
    let done = 0;
    for (let i = 0; i < N; i++) {
      host.spawn(function* (f) {
        yield* f.managed(function* () {
          expect(yield* gate.wait()).toBe(S_OK);
        });
        done++;
      });
    }
    host.runUntilIdle();
    expect(host.dump().filter((d) => d.waitingOn === "manualEvent")).toHaveLength(N);
    expect(host.countManaged()).toBe(N);
    const t0 = performance.now();
    expect(gate.set()).toBe(S_OK);
    await host.run();
    const ms = performance.now() - t0;
    expect(done).toBe(N);
    expect(host.liveTaskCount).toBe(1); // the root task
    const c = host.counters();
    expect(c.reverseEnterRuntime).toBe(N);
    expect(c.reverseLeaveRuntime).toBe(N);
    expect(ms).toBeGreaterThan(0); // measured for the report; no timing assertion in a unit test
  });
});
