// The trace tells the whole story: refused transitions with their HRESULT, abort requests and
// their delivery, what each wait waits on, and how many events the ring dropped when it overflowed.
import { describe, expect, it } from "vitest";
import {
  createHost,
  hresultName,
  COR_E_STACKOVERFLOW,
  HOST_E_INVALIDOPERATION,
  S_OK,
  type ChromeTraceEvent,
  type Host,
} from "../src/index.js";

const CORES = ["release", "debug"] as const;

const host = (core: (typeof CORES)[number]): Promise<Host> => createHost({ clock: "virtual", core });

/** The instant events on the thread named `name`, as [name, args] pairs. */
function instants(events: ChromeTraceEvent[], name: string): [string, unknown][] {
  const meta = events.filter((e) => e.ph === "M" && e.args?.name === name);
  expect(meta, `one thread named ${name}`).toHaveLength(1);
  return events.filter((e) => e.tid === meta[0].tid && e.ph === "i").map((e) => [e.name, e.args]);
}

for (const core of CORES) {
  describe(`${core} core: a refused transition is traced with its HRESULT`, () => {
    it("EnterRuntime without an outstanding LeaveRuntime: 'EnterRuntime failed' with HOST_E_INVALIDOPERATION", async () => {
      const h = await host(core);
      expect(h.trace.start()).toBe(S_OK);
      let hr = -1;
      h.spawn(
        function* (f) {
          yield* f.managed(function* () {
            hr = yield* f.enterRuntime();
          });
        },
        { name: "slip" },
      );
      h.runUntilIdle();
      expect(hresultName(hr)).toBe("HOST_E_INVALIDOPERATION");
      expect(instants(h.trace.toChromeTrace().traceEvents, "slip")).toEqual([
        ["ReverseEnterRuntime", undefined],
        ["EnterRuntime failed", { hr: "HOST_E_INVALIDOPERATION", code: HOST_E_INVALIDOPERATION >>> 0 }],
        ["ReverseLeaveRuntime", undefined],
        ["ExitTask", undefined],
      ]);
    });

    it("a push past the task's stack: 'ReverseEnterRuntime failed' with COR_E_STACKOVERFLOW, nothing pushed", async () => {
      const h = await host(core);
      h.trace.start();
      const answers: number[] = [];
      const t = h.spawn(
        function* (f) {
          for (let i = 0; i < 3; i++) answers.push(yield* f.reverseEnterRuntime());
          while (f.task.depth > 0) yield* f.reverseLeaveRuntime();
        },
        { name: "deep", stackSize: 16 },
      ); // 16 bytes: room for two frames
      h.runUntilIdle();
      expect(answers.map(hresultName)).toEqual(["S_OK", "S_OK", "COR_E_STACKOVERFLOW"]);
      expect(t.counters().reverseEnterRuntime).toBe(2);
      const story = instants(h.trace.toChromeTrace().traceEvents, "deep").map(([n, a]) => `${n} ${JSON.stringify(a)}`);
      expect(story).toEqual([
        "ReverseEnterRuntime undefined",
        "ReverseEnterRuntime undefined",
        `ReverseEnterRuntime failed {"hr":"COR_E_STACKOVERFLOW","code":${COR_E_STACKOVERFLOW >>> 0}}`,
        "ReverseLeaveRuntime undefined",
        "ReverseLeaveRuntime undefined",
        "ExitTask undefined",
      ]);
    });

    it("records nothing while the trace is off (a refusal before start and after stop)", async () => {
      const h = await host(core);
      const slip = () =>
        h.spawn(function* (f) {
          yield* f.leaveRuntime(1); // unmanaged code cannot leave the runtime
        });
      slip();
      h.runUntilIdle();
      h.trace.start();
      h.trace.stop();
      slip();
      h.runUntilIdle();
      expect(h.trace.toChromeTrace().traceEvents).toEqual([]);
    });
  });

  describe(`${core} core: aborts are traced when requested and when delivered`, () => {
    it("an abort of a waiting fiber: 'abort requested' (not rude), then 'abort delivered', then its exit", async () => {
      const h = await host(core);
      h.trace.start();
      const ev = h.createManualEvent(false);
      const victim = h.spawn(
        function* () {
          yield* ev.wait();
        },
        { name: "victim" },
      );
      h.runUntilIdle();
      expect(victim.abort()).toBe(S_OK);
      h.runUntilIdle();
      expect(victim.done).toBe(true);
      const story = instants(h.trace.toChromeTrace().traceEvents, "victim").map(([n]) => n);
      // The abort is delivered as it wakes the fiber (thrown into its wait).
      expect(story).toEqual(["wait", "abort requested", "abort delivered", "wake", "ExitTask"]);
      const args = instants(h.trace.toChromeTrace().traceEvents, "victim").map(([, a]) => a);
      expect(args[1]).toEqual({ rude: false });
      expect(args[2]).toEqual({ rude: false });
    });

    it("a rude abort is marked rude", async () => {
      const h = await host(core);
      h.trace.start();
      const ev = h.createManualEvent(false);
      const victim = h.spawn(
        function* () {
          yield* ev.wait();
        },
        { name: "victim" },
      );
      h.runUntilIdle();
      expect(victim.rudeAbort()).toBe(S_OK);
      h.runUntilIdle();
      const story = instants(h.trace.toChromeTrace().traceEvents, "victim");
      expect(story.find(([n]) => n === "abort requested")).toEqual(["abort requested", { rude: true }]);
      // Delivered by ending the fiber: none of its handlers run.
      expect(story.slice(-2)).toEqual([
        ["abort delivered", { rude: true }],
        ["ExitTask", undefined],
      ]);
    });

    it("an abort held by a delay-abort region is requested at once and delivered only after the region", async () => {
      const h = await host(core);
      h.trace.start();
      const ev = h.createManualEvent(false);
      const victim = h.spawn(
        function* (f) {
          h.taskManager.beginDelayAbort();
          yield* ev.wait();
          yield* f.yield();
          h.taskManager.endDelayAbort();
          yield* f.yield();
        },
        { name: "victim" },
      );
      h.runUntilIdle();
      victim.abort();
      h.runUntilIdle();
      expect(victim.done).toBe(false); // still waiting, inside its region
      ev.set();
      h.runUntilIdle();
      expect(victim.done).toBe(true);
      const story = instants(h.trace.toChromeTrace().traceEvents, "victim").map(([n]) => n);
      expect(story.indexOf("abort requested")).toBeLessThan(story.indexOf("wake"));
      expect(story.indexOf("abort delivered")).toBeGreaterThan(story.indexOf("wake"));
      expect(story.filter((n) => n === "abort delivered")).toHaveLength(1);
    });
  });

  describe(`${core} core: each wait says what it waits on`, () => {
    it("an event, a Crst (with its owner), a join, a sleep and a promise", async () => {
      const h = await host(core);
      h.trace.start();
      const ev = h.createAutoEvent();
      const lock = h.createCrst();
      const owner = h.spawn(
        function* (f) {
          yield* lock.enter();
          yield* f.sleep(5);
          lock.leave();
          yield* f.sleep(5);
        },
        { name: "owner" },
      );
      h.spawn(
        function* (f) {
          yield* ev.wait();
          yield* lock.enter();
          lock.leave();
          yield* f.join(owner);
          yield* f.sleep(1);
          yield* f.await(Promise.resolve(7));
        },
        { name: "waiter" },
      );
      h.spawn(function* () {
        ev.set();
      });
      await h.run();
      const waits = instants(h.trace.toChromeTrace().traceEvents, "waiter").filter(([n]) => n === "wait");
      expect(waits.map(([, a]) => (a as { on: string }).on)).toEqual([
        "autoEvent",
        `crst owned by task ${owner.id} (owner)`,
        `task ${owner.id} (owner) to end`,
        "a timer (sleep)",
        "a promise",
      ]);
    });
  });

  describe(`${core} core: an overflowing ring says how many events it dropped`, () => {
    async function overflowed(capacity: number) {
      const h = await host(core);
      expect(h.trace.start(capacity)).toBe(S_OK);
      for (let i = 0; i < 4; i++) {
        h.spawn(
          function* (f) {
            for (let k = 0; k < 5; k++) yield* f.managed(() => k);
          },
          { name: `f${i}` },
        );
      }
      h.runUntilIdle();
      return h;
    }

    it("host.trace.dropped and otherData count the lost events; a global instant marks where the kept ones begin", async () => {
      const big = await overflowed(1 << 12);
      const all = big.trace.toChromeTrace();
      expect(big.trace.dropped).toBe(0);
      expect(all.otherData).toEqual({ recordedEvents: all.otherData.recordedEvents, droppedEvents: 0 });
      expect(all.traceEvents.some((e) => e.name === "events dropped")).toBe(false);
      const recorded = all.otherData.recordedEvents;
      expect(recorded).toBeGreaterThan(40);

      const small = await overflowed(16);
      const kept = small.trace.toChromeTrace();
      // The same deterministic run: it recorded as many events, and kept 16 of them.
      expect(small.trace.dropped).toBe(recorded - 16);
      expect(kept.otherData).toEqual({ recordedEvents: recorded, droppedEvents: recorded - 16 });
      const marker = kept.traceEvents[0];
      expect(marker).toMatchObject({ name: "events dropped", ph: "i", s: "g", args: { dropped: recorded - 16 } });
      const firstKept = kept.traceEvents.find((e) => e.ph !== "M" && e !== marker)!;
      expect(marker.ts).toBe(firstKept.ts);
      expect(JSON.parse(JSON.stringify(kept))).toEqual(kept);
    });

    it("a restart forgets what was dropped", async () => {
      const h = await overflowed(16);
      expect(h.trace.dropped).toBeGreaterThan(0);
      h.trace.start(16);
      expect(h.trace.dropped).toBe(0);
      expect(h.trace.toChromeTrace().otherData.droppedEvents).toBe(0);
    });
  });
}
