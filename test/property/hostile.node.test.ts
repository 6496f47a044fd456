// Node only: the JS heap after hostile programs (needs gc() on demand). Whatever the hostile fibers
// threw, returned or yielded, and whatever they captured, is let go once they end: after a
// warm-up, hundreds more programs on the same hosts leave the heap where it was.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { makeWorld, programs, runProgram } from "./hostile.harness.js";
import { runs, timeLimit } from "./support.js";
import { heapUsed } from "../support/gc.node.js";

describe("hostile fiber programs (JS heap)", () => {
  it(
    "leave the JS heap and the core's memory at their baselines once their fibers end",
    async () => {
      const w = await makeWorld();
      const n = runs(400);
      // Each program holds on to 16 KiB through its fibers: a program kept alive shows at once.
      const ballast = () => new Array<number>(2048).fill(0.5); // 16 KiB of doubles, on the JS heap
      const play = async (seed: number) => {
        for (const p of fc.sample(programs, { numRuns: n, seed })) {
          const held = ballast();
          w.host.spawn(function* (f) {
            yield* f.yield();
            return held.length;
          });
          expect(await runProgram(w, p)).toEqual([]);
        }
      };
      await play(1); // warm-up: tables, rings and the core's heap reach their working size
      w.baseline = w.host.coreMemoryBytes;
      const before = heapUsed();
      await play(2);
      const growth = heapUsed() - before;
      expect(w.host.coreMemoryBytes).toBe(w.baseline);
      // Kept alive, n programs' ballast alone would be n × 16 KiB (6.4 MiB for 400).
      expect(growth).toBeLessThan(1024 * 1024);
    },
    timeLimit(),
  );
});
