// The hostile-program property (issue 8): generated fiber programs that throw, return and yield
// exotic values, use other fibers' contexts and another host's objects, and a dispatch that
// throws, never wedge or corrupt the host; bystanders finish as always. See hostile.harness.ts.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { makeWorld, programs, runProgram } from "./hostile.harness.js";
import { checkProperty, runs, timeLimit } from "./support.js";

describe("hostile fiber programs", () => {
  it(
    "end only the fibers that misbehave: run() settles, invariants hold, transitions pair, bystanders finish, core memory stays at its baseline",
    async () => {
      const w = await makeWorld();
      // Warm up: the core's heap reaches its working size, then it must not move.
      for (const p of fc.sample(programs, { numRuns: 20, seed: 1 })) await runProgram(w, p);
      w.baseline = w.host.coreMemoryBytes;
      let count = 0;
      await checkProperty(
        fc.asyncProperty(programs, async (p) => {
          count++;
          expect(await runProgram(w, p)).toEqual([]);
        }),
        runs(300),
      );
      expect(count).toBeGreaterThanOrEqual(runs(300));
      expect(w.dispatch.failed).toBeGreaterThan(0); // the throwing dispatch was met
    },
    timeLimit(),
  );
});
