// Node only: heap checks need the garbage collector on demand (v8 flags). The trace recorder keeps
// fibers' names and wait texts only while its ring refers to them (src/trace/recorder.ts), so a long traced
// run holds memory in proportion to the ring, not to the fibers it has seen.
import { describe, expect, it } from "vitest";
import { createHost, S_OK, type Host } from "../src/index.js";
import { heapUsed } from "./support/gc.node.js";

/** `n` cycles of a named fiber that joins a named child it spawned (a wait text naming the child each time). */
function cycles(host: Host, n: number, from: number): void {
  for (let i = from; i < from + n; i++) {
    host.spawn(
      function* (f) {
        const child = host.spawn(function* () {}, { name: `child-${i}` });
        if ((yield* f.join(child)) !== S_OK) throw new Error(`join of child-${i} failed`);
      },
      { name: `parent-${i}` },
    );
    if (i % 1000 === 999) host.runUntilIdle();
  }
  host.runUntilIdle();
}

describe("the trace recorder's memory (JS heap)", () => {
  it("100,000 spawn + join + exit cycles traced into a 16-event ring grow the heap by less than 2 MiB", async () => {
    const traced = await createHost({ clock: "virtual" });
    expect(traced.trace.start(16)).toBe(S_OK);
    // Warm up: the task tables, the rings and the recorder's maps reach their working size.
    cycles(traced, 10_000, 0);
    const before = heapUsed();
    cycles(traced, 100_000, 10_000);
    const growth = heapUsed() - before;
    expect(traced.liveTaskCount).toBe(1);
    expect(traced.trace.dropped).toBeGreaterThan(100_000);
    // Unbounded, it kept two names and a wait text per cycle: about 26 MiB.
    expect(growth, `heap growth ${growth} bytes`).toBeLessThan(2 * 1024 * 1024);
    // And what the ring holds still reads right: the last cycle's fibers by name, the wait by its child.
    cycles(traced, 1, 110_000);
    const events = traced.trace.toChromeTrace().traceEvents;
    const names = events.filter((e) => e.name === "thread_name").map((e) => e.args?.name);
    expect(names.slice(-2)).toEqual(["parent-110000", "child-110000"]);
    // (The earlier cycle's parents may still be in the ring: each by its name, never as "task N".)
    for (const name of names) expect(name).toMatch(/^(parent|child)-1(099\d\d|10000)$/);
    const waits = events.filter((e) => e.name === "wait").map((e) => e.args?.on);
    expect(waits).toEqual([expect.stringMatching(/^task \d+ \(child-110000\) to end$/)]);
  });
});
