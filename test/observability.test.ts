// What a host shows of its fibers: host.dump(), task counters, and the trace recorder's Chrome
// trace-event JSON.
import { describe, it, expect } from "vitest";
import { type ChromeTraceEvent, type Host, S_OK, E_INVALIDARG } from "../src/index.js";
import { virtualHost } from "./support/fibers.js";

/** Spawns two fibers that make transitions, switches and waits; runs them to their end. */
function workload(host: Host) {
  const ev = host.createAutoEvent();
  const alpha = host.spawn(
    function* (f) {
      yield* f.managed(function* () {
        yield* f.unmanaged(12, function* () {
          yield* f.yield();
        });
        yield* ev.wait();
      });
    },
    { name: "alpha" },
  );
  const beta = host.spawn(
    function* (f) {
      yield* f.sleep(5);
      ev.set();
      yield* f.yield();
    },
    { name: "beta" },
  );
  host.runUntilIdle();
  return { alpha, beta };
}

function byTid(events: ChromeTraceEvent[]): Map<number, ChromeTraceEvent[]> {
  const m = new Map<number, ChromeTraceEvent[]>();
  for (const e of events) {
    if (!m.has(e.tid)) m.set(e.tid, []);
    m.get(e.tid)!.push(e);
  }
  return m;
}

function tidOf(events: ChromeTraceEvent[], name: string): number {
  const meta = events.filter((e) => e.ph === "M" && e.name === "thread_name" && e.args?.name === name);
  expect(meta).toHaveLength(1);
  return meta[0].tid;
}

/** B/E "running" spans of one tid: they nest properly (never below 0) and all close. */
function expectBalancedSpans(events: ChromeTraceEvent[]): number {
  let open = 0;
  let spans = 0;
  for (const e of events) {
    if (e.ph === "B") {
      expect(e.name).toBe("running");
      open++;
      spans++;
    } else if (e.ph === "E") {
      expect(e.name).toBe("running");
      open--;
      expect(open).toBeGreaterThanOrEqual(0);
    }
  }
  expect(open).toBe(0);
  return spans;
}

describe("host.trace: toChromeTrace()", () => {
  it("gives Chrome trace-event JSON that survives a JSON round trip", async () => {
    const host = await virtualHost();
    expect(host.trace.start()).toBe(S_OK);
    workload(host);
    host.trace.stop();
    const trace = host.trace.toChromeTrace();
    expect(Array.isArray(trace.traceEvents)).toBe(true);
    expect(trace.traceEvents.length).toBeGreaterThan(10);
    expect(JSON.parse(JSON.stringify(trace))).toEqual(trace);
    for (const e of trace.traceEvents) {
      expect(["B", "E", "i", "M"]).toContain(e.ph);
      expect(typeof e.ts).toBe("number");
      expect(e.pid).toBe(1);
      expect(Number.isInteger(e.tid)).toBe(true);
    }
  });

  it("names each fiber's thread once, with a thread_name metadata event before its other events", async () => {
    const host = await virtualHost();
    host.trace.start();
    workload(host);
    const { traceEvents } = host.trace.toChromeTrace();
    for (const [tid, events] of byTid(traceEvents)) {
      const meta = events.filter((e) => e.ph === "M");
      expect(meta, `tid ${tid}`).toHaveLength(1);
      expect(events[0]).toBe(meta[0]);
      expect(meta[0].name).toBe("thread_name");
    }
    const names = traceEvents.filter((e) => e.ph === "M").map((e) => e.args!.name);
    expect(names).toContain("alpha");
    expect(names).toContain("beta");
  });

  it("pairs B/E 'running' events per thread, one pair per switch-in, in time order", async () => {
    const host = await virtualHost();
    host.trace.start();
    const { alpha, beta } = workload(host);
    const { traceEvents } = host.trace.toChromeTrace();
    const threads = byTid(traceEvents);
    for (const events of threads.values()) {
      expectBalancedSpans(events);
      const ts = events.filter((e) => e.ph !== "M").map((e) => e.ts);
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
    }
    // Every switch-in the core counted is a span in the trace.
    const alphaSpans = expectBalancedSpans(threads.get(tidOf(traceEvents, "alpha"))!);
    const betaSpans = expectBalancedSpans(threads.get(tidOf(traceEvents, "beta"))!);
    expect(alphaSpans).toBeGreaterThanOrEqual(2);
    expect(alphaSpans).toBe(alpha.counters().switchIn);
    expect(betaSpans).toBe(beta.counters().switchIn);
  });

  it("records transitions, waits and wakes as instant events on the fiber's thread, in order", async () => {
    const host = await virtualHost();
    host.trace.start();
    workload(host);
    const { traceEvents } = host.trace.toChromeTrace();
    const instants = (name: string) =>
      byTid(traceEvents)
        .get(tidOf(traceEvents, name))!
        .filter((e) => e.ph === "i");
    for (const e of [...instants("alpha"), ...instants("beta")]) expect(e.s).toBe("t");
    expect(instants("alpha").map((e) => e.name)).toEqual([
      "ReverseEnterRuntime",
      "LeaveRuntime",
      "EnterRuntime",
      "wait",
      "wake",
      "ReverseLeaveRuntime",
      "ExitTask",
    ]);
    expect(instants("alpha")[1].args).toEqual({ target: 12 });
    const beta = instants("beta");
    expect(beta.map((e) => e.name)).toEqual(["wait", "wake", "ExitTask"]);
    // The clock counts ms, trace events µs: beta woke from its 5 ms sleep at 5000 µs.
    expect(beta[1].ts).toBe(5000);
  });

  it("records nothing before start() or after stop()", async () => {
    const host = await virtualHost();
    host.spawn(
      function* (f) {
        yield* f.managed(() => 1);
      },
      { name: "before" },
    );
    host.runUntilIdle();
    host.trace.start();
    host.spawn(
      function* (f) {
        yield* f.managed(() => 1);
      },
      { name: "during" },
    );
    host.runUntilIdle();
    host.trace.stop();
    host.spawn(
      function* (f) {
        yield* f.managed(() => 1);
      },
      { name: "after" },
    );
    host.runUntilIdle();
    const names = host.trace
      .toChromeTrace()
      .traceEvents.filter((e) => e.ph === "M")
      .map((e) => e.args!.name);
    expect(names).toEqual(["during"]);
  });

  it("keeps the latest `capacity` events when the ring overflows, still with balanced spans", async () => {
    const host = await virtualHost();
    expect(host.trace.start(16)).toBe(S_OK);
    for (let i = 0; i < 5; i++) {
      host.spawn(
        function* (f) {
          for (let k = 0; k < 5; k++) yield* f.managed(() => k);
        },
        { name: `f${i}` },
      );
    }
    host.runUntilIdle();
    const { traceEvents } = host.trace.toChromeTrace();
    // One ring event each, except that a fiber's exit gives both an E and an ExitTask instant.
    const ringEvents = traceEvents.filter(
      (e, i) =>
        e.ph !== "M" &&
        e.name !== "events dropped" &&
        !(e.ph === "E" && traceEvents[i + 1]?.name === "ExitTask" && traceEvents[i + 1].tid === e.tid),
    );
    expect(ringEvents.length).toBeLessThanOrEqual(16);
    expect(ringEvents.length).toBeGreaterThanOrEqual(12);
    for (const events of byTid(traceEvents).values()) expectBalancedSpans(events);
    // The newest events are kept: the last fiber's exit ends the trace.
    const last = traceEvents[traceEvents.length - 1];
    expect(last.name).toBe("ExitTask");
    expect(traceEvents.find((e) => e.ph === "M" && e.tid === last.tid)!.args!.name).toBe("f4");
  });

  it("start() with a bad capacity answers E_INVALIDARG and does not record", async () => {
    const host = await virtualHost();
    expect(host.trace.start(0)).toBe(E_INVALIDARG);
    expect(host.trace.start(-1)).toBe(E_INVALIDARG);
    expect(host.trace.on).toBe(false);
  });
});

describe("host.dump()", () => {
  it("describes each live task: id, name, state, mode, depth, frames, counters, what it waits on", async () => {
    const host = await virtualHost();
    const ev = host.createManualEvent(false);
    const waiter = host.spawn(
      function* (f) {
        yield* f.managed(function* () {
          yield* f.unmanaged(3, function* () {
            yield* f.managed(function* () {
              yield* ev.wait();
            });
          });
        });
      },
      { name: "waiter" },
    );
    const ready = host.spawn(function* () {}, { name: "ready" });
    const before = host.dump();
    expect(before.map((d) => [d.name, d.state])).toEqual([
      ["root", "running"],
      ["waiter", "ready"],
      ["ready", "ready"],
    ]);
    host.runUntilIdle();
    const dump = host.dump();
    expect(dump.map((d) => d.name)).toEqual(["root", "waiter"]);
    const w = dump[1];
    expect(w).toMatchObject({
      id: waiter.id,
      name: "waiter",
      state: "waiting",
      mode: "managed",
      depth: 3,
      frames: [
        { kind: "reverseEnter", target: 0 },
        { kind: "leave", target: 3 },
        { kind: "reverseEnter", target: 0 },
      ],
      waitingOn: "manualEvent",
    });
    expect(w.counters).toMatchObject({
      reverseEnterRuntime: 2,
      leaveRuntime: 1,
      enterRuntime: 0,
      switchIn: 1,
      switchOut: 1,
    });
    expect(ready.done).toBe(true);
    ev.set();
    host.runUntilIdle();
    expect(host.dump().map((d) => d.name)).toEqual(["root"]);
  });

  it("host.counters() sums every task's counters, ended tasks included", async () => {
    const host = await virtualHost();
    for (let i = 0; i < 4; i++) {
      host.spawn(function* (f) {
        yield* f.managed(function* () {
          yield* f.unmanaged(i, () => i);
        });
      });
    }
    host.runUntilIdle();
    expect(host.counters()).toMatchObject({
      reverseEnterRuntime: 4,
      reverseLeaveRuntime: 4,
      leaveRuntime: 4,
      enterRuntime: 4,
      unmatchedReverseEnter: 0,
    });
  });
});
