// Sequences the raw-call properties found (shrunk, then cut by hand to their minimum), replayed on
// every run so that none depends on fast-check meeting it again. Each must agree with the model
// at every step, like any generated sequence. A step names a task by recency: t: 0 is the root
// task, t: 1 the task made last (test/property/raw-calls.harness.ts, pick).

import { describe, it } from "vitest";
import { check, type Step } from "./raw-calls.harness.js";

const SEQUENCES: Record<string, Step[]> = {
  "a task started while switched in by hand can still be switched out (else the thread never gets the root task back)":
    [
      { k: "createTask", size: 0 },
      { k: "switchIn", t: 1 },
      { k: "start", t: 1 },
      { k: "switchOut", t: 1 },
    ],
  "a Crst entered while a task is switched in by hand is owned by that task, the current one": [
    { k: "createTask", size: 0 },
    { k: "crstTryEnter", c: 0 },
    { k: "switchIn", t: 1 },
    { k: "crstTryEnter", c: 0 },
  ],
  "Crst TryEnter once the runtime is disabled answers HOST_E_CLRNOTAVAILABLE": [
    { k: "disable" },
    { k: "crstTryEnter", c: 0 },
  ],
  "Crst TryEnter that meets an injected fault answers E_FAIL": [{ k: "injectCoreFault" }, { k: "crstTryEnter", c: 0 }],
  "SwitchIn of the root task once the runtime is disabled answers HOST_E_CLRNOTAVAILABLE": [
    { k: "disable" },
    { k: "switchIn", t: 0 },
  ],
  "LeaveRuntime with a bad target once the runtime is disabled answers HOST_E_CLRNOTAVAILABLE": [
    { k: "disable" },
    { k: "transition", op: "leave", target: -1 },
  ],
  "SetTaskIdentifier with a bad id once the runtime is disabled answers HOST_E_CLRNOTAVAILABLE": [
    { k: "disable" },
    { k: "setTaskIdentifier", t: 0, id: 2n ** 64n },
  ],
  "a fault injected after the runtime is disabled changes nothing: HOST_E_CLRNOTAVAILABLE": [
    { k: "disable" },
    { k: "injectCoreFault" },
    { k: "transition", op: "leave", target: 0 },
  ],
  "E_FAIL comes once: a second injected fault changes nothing": [
    { k: "injectCoreFault" },
    { k: "transition", op: "leave", target: 0 },
    { k: "injectCoreFault" },
    { k: "transition", op: "leave", target: 0 },
  ],
  "Reset cancels a rude abort: the started task then runs and returns": [
    { k: "createTask", size: 0 },
    { k: "abort", t: 1, rude: true },
    { k: "reset", t: 1, full: true },
    { k: "start", t: 1 },
    { k: "run" },
  ],
  "Reset(full) puts the task back at THREAD_PRIORITY_NORMAL for the scheduler too": [
    { k: "createTask", size: 0 },
    { k: "setPriority", t: 1, p: 2 },
    { k: "reset", t: 1, full: true },
    { k: "createTask", size: 0 },
    { k: "yieldTask", t: 1 },
    { k: "start", t: 1 },
    { k: "start", t: 2 },
    { k: "run" },
  ],
  "a started task ended by ExitTask is not run again, and keeps its counters when its slot is reused": [
    { k: "createTask", size: 0 },
    { k: "switchIn", t: 1 },
    { k: "start", t: 1 },
    { k: "exitTask", t: 1 },
    { k: "createTask", size: 0 },
    { k: "run" },
  ],
  "a trap while the runtime is suspended releases the fibers held for the collector, as host.disable() does": [
    { k: "createTask", size: 0 },
    { k: "switchIn", t: 1 },
    { k: "transition", op: "reverseEnter", target: 0 },
    { k: "switchOut", t: 1 },
    { k: "start", t: 1 },
    { k: "suspend" },
    { k: "run" },
    { k: "injectCoreFault" },
    { k: "transition", op: "leave", target: 0 },
    { k: "run" },
  ],
};

describe.each(["release", "debug"] as const)("sequences found by the raw-call properties (%s core)", (core) => {
  for (const [name, steps] of Object.entries(SEQUENCES)) {
    it(name, () => check(core, undefined, steps));
  }
});
