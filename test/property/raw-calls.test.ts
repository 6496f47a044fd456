// Differential property: generated sequences of raw contract calls from the root task, over
// several tasks driven by hand, against the reference model (test/model/contract-model.ts). The
// steps, what is compared after each one and why: test/property/raw-calls.harness.ts.

import { describe, it } from "vitest";
import fc from "fast-check";
import { check, faultSteps, handSteps, lifeSteps, program, type Step } from "./raw-calls.harness.js";
import { checkProperty, runs, timeLimit } from "./support.js";

// numRuns per property and core: 3 properties x 2 cores x RUNS sequences per project.
const RUNS = runs(400);

describe.each(["release", "debug"] as const)("raw calls from the root task agree with the model (%s core)", (core) => {
  const prop = (steps: fc.Arbitrary<Step>[], maxLength: number) =>
    checkProperty(
      fc.asyncProperty(program(steps, maxLength), ({ maxStackSize, steps }) => check(core, maxStackSize, steps)),
      RUNS,
    );

  it("transitions, regions, requests and reads on tasks switched in by hand", () => prop(handSteps, 40), timeLimit());
  it(
    "the life cycle: Start and run, ExitTask, Reset, aborts, Join, Crsts, stale handles",
    () => prop(lifeSteps, 40),
    timeLimit(),
  );
  it("faults injected into the core and the runtime disabled", () => prop(faultSteps, 40), timeLimit());
});
