// The shared core's threads, in one JS thread: several instances of the shared build over one
// shared memory, each attach()ed, are separate threads as far as the core is concerned (a wasm
// global is per instance). Interleaving their calls at random checks what the core keeps per
// thread (current task, free slots, live count, retired sums) and what it shares (chunks, heap,
// totals), with the invariant check after every step. Real concurrency (worker_threads) is in
// core-threads.node.test.ts.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { attachCore, instantiateCore, type CoreInstance } from "../src/core/load.js";
import { E_OUTOFMEMORY } from "../src/base/hresult.js";
import { E_INVALIDARG, E_NOTIMPL, HOST_E_INVALIDOPERATION, S_FALSE, S_OK } from "./model/hresults.js";
import { checkProperty, runs } from "./property/support.js";

type Fn = (...args: number[]) => number;
interface Thread {
  x: Record<string, Fn>;
  index: number;
}
interface Core {
  threads: Thread[];
  g: Record<string, number>;
  memory: WebAssembly.Memory;
}

function exportsOf(inst: CoreInstance): { x: Record<string, Fn>; g: Record<string, number> } {
  const x: Record<string, Fn> = {};
  const g: Record<string, number> = {};
  for (const [name, v] of Object.entries(inst.exports)) {
    if (typeof v === "function") x[name] = v as Fn;
    else if (v instanceof WebAssembly.Global) g[name] = v.value as number;
  }
  return { x, g };
}

/** A shared core made by thread 0 (init, started), with `n - 1` more threads attached. */
async function sharedCore(n: number, maxPages = 256): Promise<Core> {
  const first = await instantiateCore("shared", maxPages, () => 0);
  const { x, g } = exportsOf(first);
  expect(x.init(16 * 1024, 1024 * 1024)).toBe(S_OK);
  expect(x.startRuntime()).toBe(S_OK);
  const threads: Thread[] = [{ x, index: 0 }];
  for (let i = 1; i < n; i++) {
    const other = exportsOf(await attachCore(first.memory, maxPages, () => 0)).x;
    threads.push({ x: other, index: other.threadIndex() });
  }
  return { threads, g, memory: first.memory };
}

const OP_REVERSE_ENTER = 2;
const OP_REVERSE_LEAVE = 3;
/** The core answers an HRESULT as a signed i32: unsigned here, as the model's constants are. */
const u = (hr: number): number => hr >>> 0;

function i32(c: Core): Int32Array {
  return new Int32Array(c.memory.buffer);
}
function genOf(c: Core, t: Thread, idx: number): number {
  return i32(c)[t.x.slotAddress(idx) >> 2];
}
function liveOf(c: Core, t: number): number {
  return i32(c)[(c.threads[0].x.threadAddr(t) >> 2) + c.g.R_LIVE];
}
/** The totals as the core sums them (every thread's retired sums and live tasks), by counter index. */
function totals(c: Core): number[] {
  c.threads[0].x.sumTotals();
  const f64 = new Float64Array(c.memory.buffer);
  const at = (c.threads[0].x.headerAddr() + c.g.H_TOTALS) >> 3;
  return Array.from({ length: c.g.COUNTER_COUNT }, (_, k) => f64[at + k]);
}

// A shared memory needs SharedArrayBuffer: in a browser, a cross-origin-isolated page only.
const canShare = typeof SharedArrayBuffer === "function";

describe.runIf(canShare)("the shared core, several threads in one JS thread", () => {
  it("each attach() claims the next thread with a root task of its own; the 33rd is refused and claims nothing", async () => {
    const c = await sharedCore(3);
    expect(c.threads.map((t) => t.index)).toEqual([0, 1, 2]);
    const roots = c.threads.map((t) => t.x.rootIndex());
    expect(roots[0]).toBe(0);
    expect(new Set(roots).size).toBe(3);
    for (const t of c.threads) {
      expect(t.x.ownerOf(t.x.rootIndex())).toBe(t.index);
      // Its root task is switched in on its thread: its record's current task.
      expect(i32(c)[(t.x.threadAddr(t.index) >> 2) + c.g.R_CURRENT]).toBe(t.x.rootIndex());
    }
    expect(c.threads[0].x.liveCount()).toBe(3);
    expect(u(c.threads[1].x.attach())).toBe(HOST_E_INVALIDOPERATION); // already a thread
    for (let i = 3; i < c.g.MAX_THREADS; i++) await attachCore(c.memory, 256, () => 0);
    await expect(attachCore(c.memory, 256, () => 0)).rejects.toThrow(
      `attach() answered 0x${E_OUTOFMEMORY.toString(16)}`,
    );
    const threads = i32(c)[(c.threads[0].x.headerAddr() >> 2) + c.g.H_THREADS];
    expect(threads).toBe(c.g.MAX_THREADS);
    expect(c.threads[0].x.liveCount()).toBe(c.g.MAX_THREADS);
    expect(c.threads[0].x.checkInvariants()).toBe(1);
  });

  it("a thread switches in only its own tasks, and exits only its current one", async () => {
    const c = await sharedCore(2);
    const [a, b] = c.threads;
    const idx = a.x.createStarted(0);
    expect(idx).toBeGreaterThanOrEqual(0);
    expect(a.x.ownerOf(idx)).toBe(0);
    const gen = genOf(c, a, idx);
    expect(u(b.x.switchIn(idx, gen))).toBe(HOST_E_INVALIDOPERATION);
    expect(u(b.x.switchIn(b.x.rootIndex(), genOf(c, b, b.x.rootIndex())))).toBe(HOST_E_INVALIDOPERATION);
    expect(a.x.switchIn(idx, gen)).toBe(S_OK);
    expect(u(b.x.exitTask(idx, gen))).toBe(HOST_E_INVALIDOPERATION);
    expect(a.x.exitTask(idx, gen)).toBe(S_OK);
    expect(a.x.ownerOf(-1)).toBe(-1);
    expect(a.x.ownerOf(1 << 22)).toBe(-1);
    expect(a.x.checkInvariants()).toBe(1);
  });

  it("of two threads suspending at once exactly one gets S_OK; the control word is one for all", async () => {
    const c = await sharedCore(2);
    const [a, b] = c.threads;
    expect(a.x.suspend(1)).toBe(S_OK);
    expect(b.x.suspend(1)).toBe(S_FALSE);
    expect(b.x.suspend(0)).toBe(S_OK);
    expect(a.x.suspend(0)).toBe(S_FALSE);
  });

  it("reapThread ends a dead thread's tasks into its retired sums: the totals stay, its handles go stale", async () => {
    const c = await sharedCore(3);
    const [a, b] = c.threads;
    const made: [number, number][] = [];
    for (let i = 0; i < 5; i++) {
      const idx = b.x.createStarted(0);
      made.push([idx, genOf(c, b, idx)]);
    }
    const [idx, gen] = made[0];
    expect(b.x.switchIn(idx, gen)).toBe(S_OK);
    expect(b.x.transition(OP_REVERSE_ENTER, 0)).toBe(S_OK);
    const before = totals(c);
    expect(a.x.liveCount()).toBe(3 + 5);
    expect(a.x.reapThread(1)).toBe(6); // its five tasks and its root task
    // Nothing is lost; the open reverse enter is counted unmatched, as at an ExitTask.
    before[c.g.C_UNMATCHED_REVERSE_ENTER]++;
    expect(totals(c)).toEqual(before);
    expect(a.x.liveCount()).toBe(2);
    expect(liveOf(c, 1)).toBe(0);
    expect(i32(c)[(a.x.threadAddr(1) >> 2) + c.g.R_STATE]).toBe(c.g.THREAD_REAPED);
    for (const [i, g] of made) expect(u(a.x.check(i, g))).toBe(E_INVALIDARG);
    expect(a.x.checkInvariants()).toBe(1);
    expect(a.x.reapThread(1)).toBe(0); // already reaped
    expect(u(a.x.reapThread(3))).toBe(E_INVALIDARG); // never attached
    expect(u(a.x.reapThread(-1))).toBe(E_INVALIDARG);
    expect(u(a.x.reapThread(0))).toBe(HOST_E_INVALIDOPERATION); // its own thread
    // The dead thread's chunk is not handed to the others: a new task of the third thread's is in its own.
    const idx2 = c.threads[2].x.createStarted(0);
    expect(a.x.ownerOf(idx2)).toBe(2);
  });

  it("the invariant check catches two chunks at one address (the two-heap-tops bug)", async () => {
    const c = await sharedCore(2);
    const [a] = c.threads;
    const view = i32(c);
    const chunks = a.x.chunksAddr() >> 2;
    expect(view[(a.x.headerAddr() >> 2) + c.g.H_CHUNKS]).toBe(2);
    expect(view[chunks]).not.toBe(view[chunks + 1]);
    expect(a.x.checkInvariants()).toBe(1);
    const kept = view[chunks + 1];
    view[chunks + 1] = view[chunks];
    expect(a.x.checkInvariants()).toBe(0);
    // Overlapping by one slot is caught as well.
    view[chunks + 1] = view[chunks] + c.g.CHUNK_SLOTS * c.g.SLOT_SIZE - 64;
    expect(a.x.checkInvariants()).toBe(0);
    view[chunks + 1] = kept;
    expect(a.x.checkInvariants()).toBe(1);
  });

  // The property: random calls of random threads. The model keeps each thread's live tasks and the
  // counters every call adds; after every step the invariants hold, no two live handles share a
  // slot, each thread's live count and the live total match the model, and so do the totals.
  type Step =
    | { op: "create"; t: number }
    | { op: "visit" | "exit"; t: number; pick: number; enter: boolean }
    | { op: "foreign"; t: number; pick: number };
  const step = (threads: number): fc.Arbitrary<Step> =>
    fc.oneof(
      fc.record({ op: fc.constant("create" as const), t: fc.nat(threads - 1) }),
      fc.record({
        op: fc.constantFrom("visit" as const, "exit" as const),
        t: fc.nat(threads - 1),
        pick: fc.nat(),
        enter: fc.boolean(),
      }),
      fc.record({ op: fc.constant("foreign" as const), t: fc.nat(threads - 1), pick: fc.nat() }),
    );

  it("interleaved createStarted / switch / transitions / exit of 2-4 threads keep every invariant", async () => {
    await checkProperty(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 4 }).chain((n) => fc.tuple(fc.constant(n), fc.array(step(n), { maxLength: 120 }))),
        async ([n, steps]) => {
          const c = await sharedCore(n, 64);
          const live: [number, number][][] = c.threads.map(() => []);
          // Counters by index: C_REVERSE_ENTER 2, C_REVERSE_LEAVE 3, C_UNMATCHED 4, C_SWITCH_IN 5, C_SWITCH_OUT 6.
          const want = new Array<number>(c.g.COUNTER_COUNT).fill(0);
          for (const s of steps) {
            const th = c.threads[s.t];
            const mine = live[s.t];
            if (s.op === "create") {
              const idx = th.x.createStarted(0);
              expect(idx).toBeGreaterThanOrEqual(0);
              expect(th.x.ownerOf(idx)).toBe(th.index);
              expect(live.some((l) => l.some(([i]) => i === idx))).toBe(false);
              mine.push([idx, genOf(c, th, idx)]);
            } else if (s.op === "foreign") {
              const others = live.filter((_, i) => i !== s.t).flat();
              if (others.length === 0) continue;
              const [idx, gen] = others[s.pick % others.length];
              expect(u(th.x.switchIn(idx, gen))).toBe(HOST_E_INVALIDOPERATION);
            } else {
              if (mine.length === 0) continue;
              const k = s.pick % mine.length;
              const [idx, gen] = mine[k];
              expect(th.x.switchIn(idx, gen)).toBe(S_OK);
              want[c.g.C_SWITCH_IN]++;
              if (s.enter) {
                expect(th.x.transition(OP_REVERSE_ENTER, 0)).toBe(S_OK);
                want[c.g.C_REVERSE_ENTER]++;
              }
              if (s.op === "exit") {
                expect(th.x.exitTask(idx, gen)).toBe(S_OK);
                if (s.enter) want[c.g.C_UNMATCHED_REVERSE_ENTER]++;
                mine.splice(k, 1);
              } else {
                if (s.enter) {
                  expect(th.x.transition(OP_REVERSE_LEAVE, 0)).toBe(S_OK);
                  want[c.g.C_REVERSE_LEAVE]++;
                }
                expect(th.x.switchOut(idx, gen)).toBe(S_OK);
                want[c.g.C_SWITCH_OUT]++;
              }
            }
            expect(c.threads[s.t].x.checkInvariants()).toBe(1);
            // Slot handles never overlap: distinct indices, and distinct slot addresses.
            const all = live.flat();
            expect(new Set(all.map(([i]) => i)).size).toBe(all.length);
            expect(new Set(all.map(([i]) => th.x.slotAddress(i))).size).toBe(all.length);
            for (let t = 0; t < n; t++) expect(liveOf(c, t)).toBe(live[t].length + 1); // (+ its root)
            expect(th.x.liveCount()).toBe(all.length + n);
          }
          expect(totals(c)).toEqual(want);
        },
      ),
      runs(40),
    );
  });
});

describe("the plain core is one thread", () => {
  it("attach() answers E_NOTIMPL; thread 0, root task 0, the live count from its record", async () => {
    const inst = await instantiateCore("release", 16, () => 0);
    const { x } = exportsOf(inst);
    expect(x.init(16 * 1024, 1024 * 1024)).toBe(S_OK);
    expect(u(x.attach())).toBe(E_NOTIMPL);
    expect(x.threadIndex()).toBe(0);
    expect(x.rootIndex()).toBe(0);
    expect(x.ownerOf(0)).toBe(0);
    expect(x.liveCount()).toBe(1);
    expect(u(x.reapThread(0))).toBe(HOST_E_INVALIDOPERATION);
    expect(x.checkInvariants()).toBe(1);
  });
});
