// Several hosts in one process: once a second door exists, every door's four transitions are one
// shared function each (src/core/transitions.ts), so that a call site seeing several hosts stays
// monomorphic. Each host's transitions must still be its own: its frames, its counters, its
// control word and its slow paths.
import { describe, expect, it } from "vitest";
import {
  createHost,
  COR_E_STACKOVERFLOW,
  HOST_E_INVALIDOPERATION,
  HOST_E_TIMEOUT,
  S_OK,
  type Host,
  type Task,
} from "../src/index.js";

/** One call site for every host, as an application with a host per tenant would have. */
function pair(host: Host): number {
  return host.taskManager.reverseEnterRuntime() + host.taskManager.reverseLeaveRuntime();
}

describe("hosts sharing the transitions' fast paths", () => {
  it("every door's transitions are the same functions once two hosts exist", async () => {
    const a = await createHost({ clock: "virtual" });
    const b = await createHost({ clock: "virtual" });
    expect(a.door.reverseEnter).toBe(b.door.reverseEnter);
    expect(a.door.reverseLeave).toBe(b.door.reverseLeave);
    expect(a.door.leave).toBe(b.door.leave);
    expect(a.door.enter).toBe(b.door.enter);
  });

  it("through one call site, each host's counters and frames are its own", async () => {
    const hosts = [];
    for (let i = 0; i < 4; i++) hosts.push(await createHost({ clock: "virtual" }));
    for (let round = 0; round < 100; round++) {
      for (let k = 0; k < hosts.length; k++) for (let i = 0; i <= k; i++) expect(pair(hosts[k])).toBe(S_OK);
    }
    hosts.forEach((h, k) => {
      expect(h.rootTask.counters().reverseEnterRuntime).toBe(100 * (k + 1));
      expect(h.rootTask.counters().reverseLeaveRuntime).toBe(100 * (k + 1));
      expect(h.rootTask.depth).toBe(0);
      expect(h.checkInvariants()).toBe(true);
    });
    // A frame left open in one host is not another's: the second host cannot leave it.
    expect(hosts[0].taskManager.reverseEnterRuntime()).toBe(S_OK);
    expect(hosts[1].taskManager.reverseLeaveRuntime()).toBe(HOST_E_INVALIDOPERATION);
    expect(hosts[0].taskManager.leaveRuntime(7)).toBe(S_OK);
    expect(hosts[1].taskManager.enterRuntime()).toBe(HOST_E_INVALIDOPERATION);
    expect(hosts[0].taskManager.enterRuntime()).toBe(S_OK);
    expect(hosts[0].taskManager.reverseLeaveRuntime()).toBe(S_OK);
  });

  it("one host's suspended runtime, stack limit and counter carry leave the others on their fast paths", async () => {
    const a = await createHost({ clock: "virtual" });
    const b = await createHost({ clock: "virtual" });
    expect(a.door.suspend(true)).toBe(S_OK);
    expect(a.taskManager.reverseEnterRuntime()).toBe(HOST_E_TIMEOUT); // must wait: synchronous code cannot
    expect(pair(b)).toBe(S_OK);
    expect(a.door.suspend(false)).toBe(S_OK);
    expect(pair(a)).toBe(S_OK);
    // A counter carried past 2^32 in one host (the core does the carry)...
    expect(a.door.presetCounter(a.rootTask, "reverseEnterRuntime", 2 ** 32 - 1)).toBe(S_OK);
    expect(a.door.presetCounter(a.rootTask, "reverseLeaveRuntime", 2 ** 32 - 1)).toBe(S_OK);
    for (let i = 0; i < 3; i++) {
      expect(pair(a)).toBe(S_OK);
      expect(pair(b)).toBe(S_OK);
    }
    expect(a.rootTask.counters().reverseEnterRuntime).toBe(2 ** 32 + 2);
    expect(b.rootTask.counters().reverseEnterRuntime).toBe(4);
    // ...and a task at its stack limit in the other.
    const out: { value?: Task } = {};
    expect(b.taskManager.createTask(16, function* () {}, undefined, out)).toBe(S_OK);
    expect(b.door.switchIn(out.value!)).toBe(S_OK);
    expect(b.taskManager.reverseEnterRuntime()).toBe(S_OK);
    expect(b.taskManager.reverseEnterRuntime()).toBe(S_OK);
    expect(b.taskManager.reverseEnterRuntime()).toBe(COR_E_STACKOVERFLOW);
    expect(pair(a)).toBe(S_OK);
    expect(a.checkInvariants()).toBe(true);
    expect(b.checkInvariants()).toBe(true);
  });
});
