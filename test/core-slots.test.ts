// A task's slot in the core is 60 bytes: its counters are u32 low words whose high words (a carry
// past 2^32) live in a side record, with the fields few tasks set (identifier, priority, nesting
// counts). What that must keep: a parked fiber's core memory, counters exact past 2^32 on every
// path that counts (the host's fast paths included), and side records given back, not leaked.
import { describe, expect, it } from "vitest";
import { createHost, S_OK, type FiberContext, type Task } from "../src/index.js";

const CORES = ["release", "debug"] as const;

describe.each(CORES)("%s core: a task's slot", (core) => {
  it("100,000 parked fibers take at most 64 bytes of core memory each", async () => {
    const host = await createHost({ clock: "virtual", core, initialMemoryBytes: 16 << 20 });
    const gate = host.createManualEvent(false);
    const before = host.coreMemoryBytes;
    const N = 100_000;
    for (let i = 0; i < N; i++) {
      host.spawn(function* () {
        yield* gate.wait();
      });
    }
    host.runUntilIdle();
    const each = (host.coreMemoryBytes - before) / N;
    expect(each).toBeLessThanOrEqual(64);
    expect(each).toBeGreaterThan(56); // (what it measures is the slots: 60 bytes, in whole pages)
    gate.set();
    await host.run();
    expect(host.checkInvariants()).toBe(true);
  });

  it("switch counters carried past 2^32 by the fast switch stay exact, while it runs and after it ends", async () => {
    const host = await createHost({ clock: "virtual", core });
    const start = 2 ** 32 - 3;
    let fiber: Task | undefined;
    fiber = host.spawn(function* (f: FiberContext) {
      expect(host.door.presetCounter(fiber!, "switchOut", start)).toBe(S_OK);
      for (let i = 0; i < 10; i++) yield* f.yield();
      expect(fiber!.counters().switchOut).toBe(start + 10);
    });
    host.spawn(function* (f: FiberContext) {
      for (let i = 0; i < 12; i++) yield* f.yield();
    });
    await host.run();
    await fiber.result;
    // Ended: its counters are read from its freed slot and its side record (kept for the carry).
    expect(fiber.counters().switchOut).toBe(start + 10); // (an ending fiber is not switched out)
    expect(host.counters().switchOut - fiber.counters().switchOut).toBeLessThan(40);
    expect(host.checkInvariants()).toBe(true);
  });

  it("a preset past 2^53 or not an integer is refused; one past 2^32 reads back exactly", async () => {
    const host = await createHost({ clock: "virtual", core });
    const root = host.rootTask;
    expect(host.door.presetCounter(root, "leaveRuntime", 2 ** 53 + 2) >>> 0).toBe(0x80070057);
    expect(host.door.presetCounter(root, "leaveRuntime", 1.5) >>> 0).toBe(0x80070057);
    expect(host.door.presetCounter(root, "leaveRuntime", 3 * 2 ** 32 + 5)).toBe(S_OK);
    expect(root.counters().leaveRuntime).toBe(3 * 2 ** 32 + 5);
    expect(host.counters().leaveRuntime).toBe(3 * 2 ** 32 + 5);
    expect(host.door.presetCounter(root, "leaveRuntime", 7)).toBe(S_OK);
    expect(root.counters().leaveRuntime).toBe(7);
  });

  it("side records (priority, identifier, locks) are given back at a fiber's end: the core's memory stays flat", async () => {
    const host = await createHost({ clock: "virtual", core });
    const crst = host.createCrst();
    const round = async () => {
      for (let i = 0; i < 2_000; i++) {
        host.spawn(function* (f: FiberContext) {
          expect(f.task.setPriority(2)).toBe(S_OK);
          expect(f.task.setTaskIdentifier(i + 1)).toBe(S_OK);
          const out: { value?: number } = {};
          expect(f.task.getPriority(out)).toBe(S_OK);
          expect(out.value).toBe(2);
          expect(yield* crst.enter()).toBe(S_OK);
          yield* f.yield();
          expect(crst.leave()).toBe(S_OK);
        });
      }
      await host.run();
    };
    await round();
    const flat = host.coreMemoryBytes;
    for (let r = 0; r < 3; r++) await round();
    expect(host.coreMemoryBytes).toBe(flat);
    expect(host.checkInvariants()).toBe(true);
  });
});
