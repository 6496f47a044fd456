// The shared core under real concurrency: Node worker_threads, each an instance of the shared
// build over one shared memory (attach()ed), all making and ending thousands of tasks at once.
// Every slot a worker is handed is claimed in a shared table, by its index and by its address,
// with a compare-and-swap: two threads holding one slot at once (the duplicate-chunk bug: two
// heap tops handing out the same memory) fail the claim. Node only: worker_threads.

import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { compileCore, instantiateCore } from "../src/core/load.js";
import { S_OK } from "./model/hresults.js";

// The worker's body: CommonJS, evaluated (eval: true), so it needs no library code.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { module, memory, byIdx, byAddr, go, rounds, batch } = workerData;
const x = new WebAssembly.Instance(module, { env: { memory, now: () => 0 } }).exports;
const t = x.attach();
const i32 = new Int32Array(memory.buffer);
const errors = [];
let made = 0;
let switchIns = 0;
let enters = 0;
const fail = (what) => { if (errors.length < 10) errors.push(what); };
if (t < 0) fail("attach answered " + (t >>> 0).toString(16));
// Everyone starts at once: the main thread releases them together.
Atomics.add(go, 1, 1);
Atomics.wait(go, 0, 0);
for (let r = 0; t >= 0 && r < rounds; r++) {
  const live = [];
  // A bigger batch each round: new chunks are made in later rounds too, while the others allocate.
  for (let b = 0; b < batch * (r + 1); b++) {
    const idx = x.createStarted(0);
    if (idx < 0) { fail("createStarted answered " + (idx >>> 0).toString(16)); break; }
    made++;
    if (x.ownerOf(idx) !== t) fail("slot " + idx + " is owned by " + x.ownerOf(idx) + ", not " + t);
    const at = x.slotAddress(idx);
    if (Atomics.compareExchange(byIdx, idx, 0, t + 1) !== 0) fail("slot " + idx + " handed out twice");
    if (Atomics.compareExchange(byAddr, at >> 3, 0, t + 1) !== 0) fail("slot address " + at + " handed out twice");
    live.push(idx, i32[at >> 2], at);
  }
  // Each task opens 0-99 frames before it ends: its buffer grows class by class (each growth
  // an allocation and a free in the shared allocator), and one past 64 frames is freed at its end.
  for (let k = 0; k < live.length; k += 3) {
    const idx = live[k], gen = live[k + 1], at = live[k + 2];
    if (x.switchIn(idx, gen) !== 0) fail("switchIn " + idx);
    switchIns++;
    const depth = (idx * 7 + r * 13) % 100;
    for (let d = 0; d < depth; d++) if (x.transition(2, 0) !== 0) fail("reverse enter " + idx);
    enters += depth;
    Atomics.store(byIdx, idx, 0);
    Atomics.store(byAddr, at >> 3, 0);
    if (x.exitTask(idx, gen) !== 0) fail("exitTask " + idx);
  }
}
parentPort.postMessage({ t, errors, made, switchIns, enters });
`;

interface Report {
  t: number;
  errors: string[];
  made: number;
  switchIns: number;
  enters: number;
}

describe("the shared core, from several worker threads at once", () => {
  it.each([2, 4])(
    "%i workers make and end thousands of tasks each: no slot is handed twice, the invariants and totals hold",
    async (workers) => {
      const maxPages = 512; // 32 MiB, reserved whole (a shared memory does not grow for other threads)
      const core = await instantiateCore("shared", maxPages, () => 0);
      const x = core.exports as unknown as Record<string, (...a: number[]) => number>;
      expect(x.init(16 * 1024, 1024 * 1024)).toBe(S_OK);
      expect(x.startRuntime()).toBe(S_OK);
      const module = await compileCore("shared");
      const byIdx = new Int32Array(new SharedArrayBuffer(4 * 64 * 1024));
      const byAddr = new Int32Array(new SharedArrayBuffer(((maxPages * 65536) >> 3) * 4));
      const go = new Int32Array(new SharedArrayBuffer(8));
      const rounds = 4;
      const batch = 600; // 600 to 2,400 a round: each worker makes chunks while the others do
      const reports = Promise.all(
        Array.from(
          { length: workers },
          () =>
            new Promise<Report>((resolve, reject) => {
              const w = new Worker(WORKER, {
                eval: true,
                workerData: { module, memory: core.memory, byIdx, byAddr, go, rounds, batch },
              });
              w.once("message", (m: Report) => resolve(m));
              w.once("error", reject);
              w.once("exit", (code) => {
                if (code !== 0) reject(new Error(`a worker exited with ${code}`));
              });
            }),
        ),
      );
      while (Atomics.load(go, 1) < workers) await new Promise((r) => setTimeout(r, 5));
      Atomics.store(go, 0, 1);
      Atomics.notify(go, 0);
      const done = await reports;

      expect(done.flatMap((r) => r.errors)).toEqual([]);
      expect(new Set(done.map((r) => r.t))).toEqual(new Set(Array.from({ length: workers }, (_, i) => i + 1)));
      for (const r of done) expect(r.made).toBe((batch * rounds * (rounds + 1)) / 2);
      expect(x.checkInvariants()).toBe(1);
      // Every worker ended its tasks; each thread's root task stays until the thread is reaped.
      expect(x.liveCount()).toBe(1 + workers);
      x.sumTotals();
      const f64 = new Float64Array(core.memory.buffer);
      const g = (name: string): number => (core.exports[name] as WebAssembly.Global).value as number;
      const totals = (c: string): number => f64[((x.headerAddr() + g("H_TOTALS")) >> 3) + g(c)];
      expect(totals("C_SWITCH_IN")).toBe(done.reduce((n, r) => n + r.switchIns, 0));
      expect(totals("C_REVERSE_ENTER")).toBe(done.reduce((n, r) => n + r.enters, 0));
      expect(totals("C_UNMATCHED_REVERSE_ENTER")).toBe(done.reduce((n, r) => n + r.enters, 0));
      for (const r of done) expect(x.reapThread(r.t)).toBe(1); // its root task
      expect(x.liveCount()).toBe(1);
      expect(x.checkInvariants()).toBe(1);

      // The duplicate-chunk bug, made by hand: two entries of the chunk table at one address.
      const i32 = new Int32Array(core.memory.buffer);
      const chunks = x.chunksAddr() >> 2;
      const kept = i32[chunks + 2];
      i32[chunks + 2] = i32[chunks + 1];
      expect(x.checkInvariants()).toBe(0);
      i32[chunks + 2] = kept;
      expect(x.checkInvariants()).toBe(1);
    },
    60_000,
  );
});
