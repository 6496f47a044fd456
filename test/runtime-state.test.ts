// The runtime's availability (docs/contract.md §2 and §4): a trap inside the core answers E_FAIL once and
// disables the runtime; a disabled runtime answers HOST_E_CLRNOTAVAILABLE to every later call, for
// good; a runtime not started yet answers HOST_E_CLRNOTAVAILABLE until it is.

import { describe, expect, it } from "vitest";
import {
  E_FAIL,
  HOST_E_CLRNOTAVAILABLE,
  HResultError,
  S_FALSE,
  S_OK,
  type FiberContext,
  type Host,
  type Out,
  type Task,
} from "../src/index.js";
import { CORES, H, createTask, newHost } from "./support/core.js";

/** A host, a created task and a fiber task that ended, for the calls below to act on. */
interface World {
  host: Host;
  t: Task;
}

/**
 * Every hosting call, each as the call a host would make in the common case. Each is made on a
 * fresh world, so the call's own rules (a task to switch in, a frame to pop) do not matter: the
 * runtime's state decides first.
 */
const CALLS: [string, (w: World) => number][] = [
  // IHostTaskManager
  ["taskManager.getCurrentTask", ({ host }) => host.taskManager.getCurrentTask({})],
  ["taskManager.createTask", ({ host }) => host.taskManager.createTask(0, function* () {}, undefined, {})],
  ["taskManager.sleep", ({ host }) => host.taskManager.sleep(10)],
  ["taskManager.switchToTask", ({ host }) => host.taskManager.switchToTask(0)],
  ["taskManager.setUILocale", ({ host }) => host.taskManager.setUILocale(1033)],
  ["taskManager.setLocale", ({ host }) => host.taskManager.setLocale(1033)],
  ["taskManager.callNeedsHostHook", ({ host }) => host.taskManager.callNeedsHostHook(5, {})],
  ["taskManager.leaveRuntime", ({ host }) => host.taskManager.leaveRuntime(5)],
  ["taskManager.enterRuntime", ({ host }) => host.taskManager.enterRuntime()],
  ["taskManager.reverseEnterRuntime", ({ host }) => host.taskManager.reverseEnterRuntime()],
  ["taskManager.reverseLeaveRuntime", ({ host }) => host.taskManager.reverseLeaveRuntime()],
  ["taskManager.beginDelayAbort", ({ host }) => host.taskManager.beginDelayAbort()],
  ["taskManager.endDelayAbort", ({ host }) => host.taskManager.endDelayAbort()],
  ["taskManager.beginThreadAffinity", ({ host }) => host.taskManager.beginThreadAffinity()],
  ["taskManager.endThreadAffinity", ({ host }) => host.taskManager.endThreadAffinity()],
  ["taskManager.setStackGuarantee", ({ host }) => host.taskManager.setStackGuarantee(4096)],
  ["taskManager.getStackGuarantee", ({ host }) => host.taskManager.getStackGuarantee({})],
  // IHostTask
  ["task.start", ({ t }) => t.start()],
  ["task.alert", ({ t }) => t.alert()],
  ["task.join", ({ t }) => t.join(0)],
  ["task.setPriority", ({ t }) => t.setPriority(1)],
  ["task.getPriority", ({ t }) => t.getPriority({})],
  // ICLRTask / ICLRTask2
  ["task.switchIn", ({ t }) => t.switchIn()],
  ["task.switchOut", ({ t }) => t.switchOut()],
  ["task.reset", ({ t }) => t.reset()],
  ["task.exitTask", ({ t }) => t.exitTask()],
  ["task.abort", ({ t }) => t.abort()],
  ["task.rudeAbort", ({ t }) => t.rudeAbort()],
  ["task.needsPriorityScheduling", ({ t }) => t.needsPriorityScheduling({})],
  ["task.yieldTask", ({ t }) => t.yieldTask()],
  ["task.locksHeld", ({ t }) => t.locksHeld({})],
  ["task.setTaskIdentifier", ({ t }) => t.setTaskIdentifier(7n)],
  ["task.beginPreventAsyncAbort", ({ t }) => t.beginPreventAsyncAbort()],
  ["task.endPreventAsyncAbort", ({ t }) => t.endPreventAsyncAbort()],
  ["rootTask.getPriority", ({ host }) => host.rootTask.getPriority({})],
  // The runtime
  ["host.suspendRuntime", ({ host }) => host.suspendRuntime()],
  ["host.resumeRuntime", ({ host }) => host.resumeRuntime()],
];

async function world(core: (typeof CORES)[number]): Promise<World> {
  const host = await newHost(core);
  return { host, t: createTask(host) };
}

describe.each(CORES)("%s core", (core) => {
  describe("a trap inside the core (host.injectCoreFault())", () => {
    it.each(CALLS)(
      "%s answers E_FAIL once, then the runtime is disabled and it answers HOST_E_CLRNOTAVAILABLE",
      async (_, call) => {
        const w = await world(core);
        w.host.injectCoreFault();
        expect(H(call(w))).toBe(H(E_FAIL));
        expect(w.host.runtimeState).toBe("disabled");
        expect(w.host.disabledReason).toBeInstanceOf(WebAssembly.RuntimeError); // the core's trap
        expect(H(call(w))).toBe(H(HOST_E_CLRNOTAVAILABLE));
        expect(H(w.host.taskManager.reverseEnterRuntime())).toBe(H(HOST_E_CLRNOTAVAILABLE));
      },
    );

    it("answers E_FAIL to the first call only: the next call of another kind answers HOST_E_CLRNOTAVAILABLE", async () => {
      const w = await world(core);
      w.host.injectCoreFault();
      expect(H(w.host.taskManager.leaveRuntime(1))).toBe(H(E_FAIL));
      expect(H(w.t.setPriority(1))).toBe(H(HOST_E_CLRNOTAVAILABLE));
      expect(H(w.host.taskManager.createTask(0, function* () {}, undefined, {}))).toBe(H(HOST_E_CLRNOTAVAILABLE));
      expect(w.host.runtimeState).toBe("disabled");
    });

    it("in a fiber: the transition answers E_FAIL, f.managed then throws HOST_E_CLRNOTAVAILABLE", async () => {
      const host = await newHost(core);
      const fiber = host.spawn(function* (f: FiberContext) {
        host.injectCoreFault();
        const hr = yield* f.reverseEnterRuntime();
        let thrown: unknown;
        try {
          yield* f.managed(() => 1);
        } catch (err) {
          thrown = err;
        }
        return { hr, thrown };
      });
      host.runUntilIdle();
      const r = (await fiber.result) as { hr: number; thrown: unknown };
      expect(H(r.hr)).toBe(H(E_FAIL));
      expect(r.thrown).toBeInstanceOf(HResultError);
      expect(H((r.thrown as HResultError).hr)).toBe(H(HOST_E_CLRNOTAVAILABLE));
      expect(host.runtimeState).toBe("disabled");
    });
  });

  const disablers: [string, (w: World) => void][] = [
    ["host.disable(reason)", (w) => w.host.disable(new Error("test"))],
    [
      "a trap (E_FAIL)",
      (w) => {
        w.host.injectCoreFault();
        expect(H(w.host.taskManager.reverseEnterRuntime())).toBe(H(E_FAIL));
      },
    ],
  ];

  describe.each(disablers)("a runtime disabled by %s", (_, disable) => {
    it.each(CALLS)("%s answers HOST_E_CLRNOTAVAILABLE, for good", async (_, call) => {
      const w = await world(core);
      disable(w);
      expect(w.host.runtimeState).toBe("disabled");
      expect(H(call(w))).toBe(H(HOST_E_CLRNOTAVAILABLE));
      // Starting it again does not bring it back.
      expect(H(w.host.startRuntime())).toBe(H(HOST_E_CLRNOTAVAILABLE));
      expect(w.host.runtimeState).toBe("disabled");
      expect(H(call(w))).toBe(H(HOST_E_CLRNOTAVAILABLE));
    });

    it("host.spawn throws an HResultError carrying HOST_E_CLRNOTAVAILABLE", async () => {
      const w = await world(core);
      disable(w);
      let thrown: unknown;
      try {
        w.host.spawn(function* () {});
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(HResultError);
      expect(H((thrown as HResultError).hr)).toBe(H(HOST_E_CLRNOTAVAILABLE));
    });

    it("a fiber's transitions answer HOST_E_CLRNOTAVAILABLE", async () => {
      const w = await world(core);
      const seen: number[] = [];
      w.host.spawn(function* (f: FiberContext) {
        yield* f.yield(); // the other fiber disables the runtime here
        seen.push((yield* f.reverseEnterRuntime()) as number);
        seen.push((yield* f.leaveRuntime(1)) as number);
      });
      w.host.spawn(function* () {
        disable(w);
      });
      w.host.runUntilIdle();
      expect(seen.map(H)).toEqual([H(HOST_E_CLRNOTAVAILABLE), H(HOST_E_CLRNOTAVAILABLE)]);
    });

    it("bad arguments answer HOST_E_CLRNOTAVAILABLE too: the runtime's state comes first", async () => {
      const w = await world(core);
      disable(w);
      expect(H(w.host.taskManager.leaveRuntime(-1))).toBe(H(HOST_E_CLRNOTAVAILABLE));
      expect(H(w.host.taskManager.sleep(-1))).toBe(H(HOST_E_CLRNOTAVAILABLE));
    });
  });

  it("host.disable keeps its reason", async () => {
    const host = await newHost(core);
    const reason = new Error("shutting down");
    host.disable(reason);
    expect(host.disabledReason).toBe(reason);
  });

  describe("a runtime not started yet (createHost({ startRuntime: false }))", () => {
    it("answers HOST_E_CLRNOTAVAILABLE until host.startRuntime(), then S_OK; a second start answers S_FALSE", async () => {
      const host = await newHost(core, { startRuntime: false });
      const tm = host.taskManager;
      expect(host.runtimeState).toBe("notStarted");
      const out: Out<Task> = {};
      expect(H(tm.getCurrentTask(out))).toBe(H(HOST_E_CLRNOTAVAILABLE));
      expect(H(tm.reverseEnterRuntime())).toBe(H(HOST_E_CLRNOTAVAILABLE));
      expect(H(tm.createTask(0, function* () {}, undefined, {}))).toBe(H(HOST_E_CLRNOTAVAILABLE));
      expect(host.rootTask.frames()).toEqual([]);
      expect(H(host.startRuntime())).toBe(H(S_OK));
      expect(host.runtimeState).toBe("started");
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(H(tm.getCurrentTask(out))).toBe(H(S_OK));
      expect(out.value).toBe(host.rootTask);
      expect(H(host.startRuntime())).toBe(H(S_FALSE));
    });
  });
});
