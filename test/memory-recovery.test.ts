// Memory exhaustion is recovered from: once a burst that ran out of maxMemoryBytes has ended, the
// frame buffers its fibers held are given back (a free slot's kept buffer, a dead task's big one),
// free neighbours merge, and a bigger class is split for a smaller one, so the next burst fits as
// many fibers as the first (assembly/heap.ts, assembly/frames.ts). What a burst turned into task
// slots stays slots (slots never move: the host caches their addresses), so a burst of another
// shape is compared with a fresh host's burst of that shape, after the same slots were made.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  COR_E_STACKOVERFLOW,
  createHost,
  E_OUTOFMEMORY,
  HResultError,
  hresultName,
  S_OK,
  type Frame,
  type Host,
  type Out,
  type Task,
} from "../src/index.js";
import { checkProperty, runs } from "./property/support.js";

const CORES = ["release", "debug"] as const;
const KiB = 1024;
/** The budget: 12,287 parked fibers (60-byte slots), or about 8,000 with a frame each. */
const BUDGET = 768 * KiB;

const newHost = (core: (typeof CORES)[number]): Promise<Host> =>
  createHost({ clock: "virtual", core, maxMemoryBytes: BUDGET, initialMemoryBytes: BUDGET });

interface Burst {
  /** Fibers spawned before host.spawn refused one (E_OUTOFMEMORY: no room for task slots). */
  spawned: number;
  /** Those whose `depth` ReverseEnterRuntimes all answered S_OK. */
  entered: number;
  /** Those refused one (E_OUTOFMEMORY: no room for a frame buffer). */
  refused: number;
  /** The first fiber's first answer, as a name. */
  first: string;
}

/**
 * Spawns fibers until host.spawn refuses one (or `count` are spawned), each entering managed code
 * `depth` times and then parked on a gate; then opens the gate and runs every fiber to its end
 * (only the root task left).
 */
async function burst(host: Host, depth: number, count?: number): Promise<Burst> {
  const limit = count ?? 20_000;
  const gate = host.createManualEvent(false);
  const result: Burst = { spawned: 0, entered: 0, refused: 0, first: "" };
  for (let i = 0; i < limit; i++) {
    try {
      host.spawn(function* (f) {
        let ok = true;
        for (let d = 0; d < depth; d++) {
          const hr = yield* f.reverseEnterRuntime();
          if (result.first === "") result.first = hresultName(hr);
          if (hr !== S_OK) {
            if (hr !== E_OUTOFMEMORY) throw new Error(`ReverseEnterRuntime answered ${hresultName(hr)}`);
            ok = false;
            break;
          }
        }
        if (ok) result.entered++;
        else result.refused++;
        yield* gate.wait();
      });
    } catch (err) {
      expect(err, String(err)).toBeInstanceOf(HResultError);
      expect((err as HResultError).hr, String(err)).toBe(E_OUTOFMEMORY);
      break;
    }
    result.spawned++;
    if (i % 256 === 255) host.runUntilIdle();
  }
  if (count === undefined) expect(result.spawned, "the burst ran out of memory").toBeLessThan(limit);
  else expect(result.spawned).toBe(count);
  host.runUntilIdle();
  gate.set();
  const report = await host.run();
  expect(report.failed).toBe(0);
  expect(host.liveTaskCount).toBe(1);
  expect(host.checkInvariants()).toBe(true);
  return result;
}

/** One fiber that enters managed code `depth` times (or until memory runs out), leaves, and ends: how deep it got. */
async function deepStack(host: Host, depth: number): Promise<number> {
  const fiber = host.spawn(
    function* (f) {
      let n = 0;
      while (n < depth && (yield* f.reverseEnterRuntime()) === S_OK) n++;
      for (let i = 0; i < n; i++) yield* f.reverseLeaveRuntime();
      return n;
    },
    { stackSize: depth * 8 },
  );
  await host.run();
  return (await fiber.result) as number;
}

describe.each(CORES)("%s core: capacity comes back once a burst that ran out of memory has ended", (core) => {
  it("the same burst again fits the same fibers, round after round; the first ReverseEnterRuntime answers S_OK", async () => {
    const host = await newHost(core);
    const first = await burst(host, 1);
    expect(first.refused + first.entered).toBe(first.spawned);
    expect(first.entered).toBeGreaterThan(4_000);
    for (let round = 0; round < 3; round++) expect(await burst(host, 1)).toEqual({ ...first, first: "S_OK" });
  });

  it("a burst of deeper fibers, then shallow ones: every shallow fiber gets its frame, then the deep burst fits again", async () => {
    const host = await newHost(core);
    const deep = await burst(host, 5); // 8-frame buffers
    expect(deep.entered).toBeGreaterThan(3_500);
    // The deep burst's buffers, kept in the free slots, serve the shallow fibers (before: about 20
    // of them answered E_OUTOFMEMORY, the kept buffers of another class out of reach).
    // As many shallow fibers as the deep burst spawned: more would make new slots (a task's slot is
    // smaller than the memory a deep fiber holds), and slots stay, leaving less for frames after.
    const shallow = await burst(host, 1, deep.spawned);
    expect(shallow.spawned).toBe(deep.spawned);
    expect(shallow).toMatchObject({ entered: shallow.spawned, refused: 0, first: "S_OK" });
    expect(await burst(host, 5)).toEqual(deep);
  });

  it("a burst of shallow fibers, then deeper ones: the deeper fibers get every buffer the slots leave room for", async () => {
    const host = await newHost(core);
    const shallow = await burst(host, 1);
    // The slots the shallow burst made stay (6 chunks of 1,024), the rest of the budget is frames: a
    // fresh host whose slots were made the same way (by a burst of fibers without frames) fits as many.
    const reference = await newHost(core);
    const parked = await burst(reference, 0, shallow.spawned);
    expect(parked.spawned).toBe(shallow.spawned);
    const expected = await burst(reference, 5);
    expect(expected.entered).toBeGreaterThan(2_000);
    // (Before: none, every fiber's 8-frame buffer refused: the memory sat in 4-frame buffers.) One
    // fewer may fit: the last buffer to grow needs its old one and its new one at once.
    const deeper = await burst(host, 5);
    expect(deeper.spawned).toBe(expected.spawned);
    expect(deeper.entered).toBeGreaterThanOrEqual(expected.entered - 1);
    expect(deeper.entered).toBeLessThanOrEqual(expected.entered);
  });
});

describe.each(CORES)("%s core: one fiber's brief deep stack does not cut capacity for good", (core) => {
  it("after a fiber went 32,768 frames deep and ended, as many parked fibers fit as on a fresh host (12,287)", async () => {
    const fresh = await burst(await newHost(core), 0);
    expect(fresh.spawned).toBe(12_287); // 12 chunks of 1,024 slots, less the root task's
    const host = await newHost(core);
    expect(await deepStack(host, 1 << 15)).toBe(1 << 15);
    // Its buffers, 4 to 32,768 frames, merged back into the heap (before: 1,023 fibers fit).
    expect(await burst(host, 0)).toEqual(fresh);
    expect(await burst(host, 0)).toEqual(fresh);
  });

  it("a deep stack that ran out of memory, then a burst: the burst fits as on a fresh host", async () => {
    const fresh = await burst(await newHost(core), 1);
    const host = await newHost(core);
    expect(await deepStack(host, 1 << 17)).toBeLessThan(1 << 17); // E_OUTOFMEMORY on the way down
    const after = await burst(host, 1);
    expect(after.first).toBe("S_OK");
    expect(after.entered).toBeGreaterThanOrEqual(fresh.entered - 1_024);
    expect(await deepStack(host, 1 << 12)).toBe(1 << 12);
  });

  it("after a burst ended, one fiber can go as deep as the memory its buffers left allows, and then the burst fits again", async () => {
    const host = await newHost(core);
    const first = await burst(host, 1);
    // (Before: 4 frames, the buffers kept by the free slots out of its reach.)
    expect(await deepStack(host, 1 << 17)).toBeGreaterThanOrEqual(1 << 12);
    expect(await burst(host, 1)).toEqual({ ...first, first: "S_OK" });
  });
});

// The allocator's moves (a buffer given back from a free slot, neighbours merged, the heap's top
// lowered, a bigger buffer split, a chunk of slots placed in a merged run) must never hand out memory
// in use: tasks driven by hand under a tight budget keep exactly the frames a model says they hold.
type Step =
  | { op: "create"; stackFrames: number }
  | { op: "push"; task: number; count: number; target: number }
  | { op: "pop"; task: number; count: number }
  | { op: "exit"; task: number }
  | { op: "trace"; capacity: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant("create" as const), stackFrames: fc.constantFrom(8, 64, 4_096, 65_536) }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("push" as const),
      task: fc.nat(),
      count: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 50, max: 12_000 })),
      target: fc.integer({ min: 0, max: 0xffffffff }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant("pop" as const),
      task: fc.nat(),
      count: fc.integer({ min: 1, max: 3_000 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant("exit" as const), task: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant("trace" as const), capacity: fc.integer({ min: 1, max: 20_000 }) }),
  },
);

describe.each(CORES)("%s core: the allocator never hands out memory in use", (core) => {
  it("tasks driven by hand under a tight budget read back exactly the frames they pushed", async () => {
    let outOfMemory = 0;
    await checkProperty(
      fc.asyncProperty(fc.array(step, { minLength: 20, maxLength: 120 }), async (steps) => {
        const host = await createHost({
          clock: "virtual",
          core,
          maxMemoryBytes: 192 * KiB,
          initialMemoryBytes: 192 * KiB,
        });
        const tm = host.taskManager;
        const live: { task: Task; frames: Frame[] }[] = [];
        const on = (i: number) => live[i % live.length];
        for (const s of steps) {
          if (s.op === "create") {
            const out: Out<Task> = {};
            const hr = tm.createTask(s.stackFrames * 8, function* () {}, undefined, out);
            if (hr === S_OK) live.push({ task: out.value as Task, frames: [] });
            else expect(hresultName(hr)).toBe("E_OUTOFMEMORY");
          } else if (s.op === "trace") {
            const hr = host.trace.start(s.capacity);
            expect(["S_OK", "E_OUTOFMEMORY"]).toContain(hresultName(hr));
            host.trace.stop();
          } else if (live.length > 0) {
            const t = on(s.task);
            expect(hresultName(t.task.switchIn())).toBe("S_OK");
            if (s.op === "push") {
              for (let k = 0; k < s.count; k++) {
                // (Managed code leaves, unmanaged code reverse-enters: the frames alternate.)
                const leave = t.frames.at(-1)?.kind === "reverseEnter";
                const hr = leave ? tm.leaveRuntime((s.target + k) >>> 0) : tm.reverseEnterRuntime();
                if (hr !== S_OK) {
                  expect([E_OUTOFMEMORY, COR_E_STACKOVERFLOW].map(hresultName)).toContain(hresultName(hr));
                  if (hr === E_OUTOFMEMORY) outOfMemory++;
                  break;
                }
                t.frames.push(
                  leave ? { kind: "leave", target: (s.target + k) >>> 0 } : { kind: "reverseEnter", target: 0 },
                );
              }
            } else if (s.op === "pop") {
              for (let k = 0; k < s.count && t.frames.length > 0; k++) {
                const top = t.frames.pop() as Frame;
                expect(hresultName(top.kind === "leave" ? tm.enterRuntime() : tm.reverseLeaveRuntime())).toBe("S_OK");
              }
            }
            if (s.op === "exit") {
              expect(hresultName(t.task.exitTask())).toBe("S_OK");
              live.splice(live.indexOf(t), 1);
            } else expect(hresultName(t.task.switchOut())).toBe("S_OK");
          }
          for (const l of live) expect(l.task.frames()).toEqual(l.frames);
          expect(host.checkInvariants()).toBe(true);
        }
      }),
      runs(30),
    );
    expect(outOfMemory, "pushes that ran out of memory (so the allocator reclaimed and merged)").toBeGreaterThan(10);
  });
});
