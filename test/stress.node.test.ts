// Node only: these need the garbage collector on demand (v8 flags) and a process of their own
// size; the browser project runs the same code paths at smaller scale elsewhere.
import { describe, expect, it } from "vitest";
import * as fiberhost from "../src/index.js";
import { runScenario } from "../examples/scenario.mjs";
import { gc } from "./support/gc.node.js";

describe("a million spawn/exit cycles", () => {
  it("leave the core's memory and the JS heap flat", async () => {
    const host = await fiberhost.createHost({ clock: "virtual" });
    const body = function* (f: fiberhost.FiberContext) {
      yield* f.managed(function* () {
        yield* f.yield();
      });
    };
    const cycle = (n: number) => {
      for (let i = 0; i < n / 1000; i++) {
        for (let j = 0; j < 1000; j++) host.spawn(body);
        host.runUntilIdle();
      }
    };
    cycle(100_000); // warm up: the slots, the rings and the JIT reach their working size
    gc();
    const core0 = host.coreMemoryBytes;
    const heap0 = process.memoryUsage().heapUsed;
    cycle(1_000_000);
    gc();
    const heapGrowth = process.memoryUsage().heapUsed - heap0;
    expect(host.coreMemoryBytes).toBe(core0);
    expect(heapGrowth).toBeLessThan(4 * 1024 * 1024);
    expect(host.liveTaskCount).toBe(1);
    const c = host.counters();
    expect(c.reverseEnterRuntime).toBe(1_100_000);
    expect(c.reverseLeaveRuntime).toBe(1_100_000);
    expect(host.checkInvariants()).toBe(true);
  }, 120_000);
});

describe("a soak of the demo scenario", () => {
  const jobs = Number(process.env.FIBERHOST_SOAK_JOBS ?? 2000);
  it(`${jobs} jobs: every finished worker's counters match its own tally, and the totals balance`, async () => {
    const r = await runScenario(fiberhost, { jobs, host: { core: "debug" } });
    expect(r.workers.filter((w) => w.outcome === "failed")).toEqual([]);
    expect(r.workers.filter((w) => w.outcome === "aborted")).toHaveLength(1);
    expect(r.tallied).toBe(true);
    expect(r.balanced).toBe(true);
    expect(r.stats.processed).toBeGreaterThanOrEqual(jobs - 1);
    expect(r.host.checkInvariants()).toBe(true);
  }, 600_000);
});
