// Issue 20, item 1: a failure nothing observed is reported as Node reports an unhandled rejection:
// once the run() it failed in has settled and the code after it has had its turn (a macrotask
// later), not at the fiber's end; once; never when a result, a join or a parent looked at it.
import { describe, expect, it, vi } from "vitest";
import { createHost, type FiberContext, type Host, type Task } from "../src/index.js";
import { FailureReports } from "../src/scheduler/failure-reports.js";
import { reportsDue } from "./support/fibers.js";

import { EXTRA } from "../src/task/state.js";
/** A host whose reports are collected, not printed (virtual clock unless told). */
async function quietHost(clock: "virtual" | "real" = "virtual"): Promise<{ host: Host; errors: [unknown, Task][] }> {
  const errors: [unknown, Task][] = [];
  const host = await createHost({ clock, onError: (err, task) => void errors.push([err, task]) });
  return { host, errors };
}

function failing(message: string, ms = 1) {
  return function* (f: FiberContext): Generator<unknown, never> {
    yield* f.sleep(ms);
    throw new Error(message);
  };
}

/** The rejection's message, or "resolved". */
const messageOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => "resolved",
    (e: unknown) => (e as Error).message,
  );

describe("a failure nothing observed is reported after the run, as an unhandled rejection is", () => {
  it("the README's pattern (await run(), then await the result) reports nothing, on the real clock", async () => {
    const host = await createHost(); // the README's: the default clock and report
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const w = host.spawn(failing("worker broke"), { name: "worker" });
      await host.run();
      let caught: unknown;
      try {
        await w.result;
      } catch (e) {
        caught = e;
      }
      await reportsDue();
      await reportsDue();
      expect((caught as Error).message).toBe("worker broke");
      expect(printed).not.toHaveBeenCalled();
    } finally {
      printed.mockRestore();
    }
  });

  it("is held while the run goes on: a failure early in a long run is observed after it in time", async () => {
    const { host, errors } = await quietHost("real");
    const w = host.spawn(failing("early", 1), { name: "early" });
    let reportedDuringRun = -1;
    host.spawn(function* (f) {
      yield* f.sleep(20); // macrotasks pass after the failure: the old report came in them
      reportedDuringRun = errors.length;
    });
    await host.run();
    expect(await messageOf(w.result)).toBe("early");
    await reportsDue();
    await reportsDue();
    expect(reportedDuringRun).toBe(0);
    expect(errors).toEqual([]);
  });

  it("a failure nobody looks at is reported once, after run() has settled and the microtasks after it", async () => {
    const { host, errors } = await quietHost();
    const t = host.spawn(failing("lonely"), { name: "lonely" });
    const report = await host.run();
    expect(report).toEqual({ finished: 0, failed: 1, blocked: 0 });
    for (let i = 0; i < 10; i++) await Promise.resolve();
    expect(errors).toEqual([]); // the code after run() may still look at it
    await reportsDue();
    expect(errors).toHaveLength(1);
    expect((errors[0][0] as Error).message).toBe("lonely");
    expect(errors[0][1]).toBe(t);
    // Never twice: another run, a later look at its result, more macrotasks.
    await host.run();
    expect(await messageOf(t.result)).toBe("lonely");
    await reportsDue();
    await reportsDue();
    expect(errors).toHaveLength(1);
  });

  it("looked at only after a macrotask of the caller's own is too late: reported, once", async () => {
    const { host, errors } = await quietHost();
    const t = host.spawn(failing("late"));
    await host.run();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(errors).toHaveLength(1);
    expect(await messageOf(t.result)).toBe("late");
    await reportsDue();
    expect(errors).toHaveLength(1);
  });

  it("observed after the run by its result, a join, `yield* task` or waitAny, or by its parent: nothing is reported", async () => {
    const { host, errors } = await quietHost();
    const byResult = host.spawn(failing("result"));
    const byJoin = host.spawn(failing("join"));
    const byYield = host.spawn(failing("yield*"));
    const byWaitAny = host.spawn(failing("waitAny"));
    let child!: Task;
    const parent = host.spawn(function* (f) {
      child = f.spawn(failing("child"));
      yield* f.sleep(); // until the child's failure aborts it
    });
    await host.run();
    expect([byResult, byJoin, byYield, byWaitAny, child, parent].every((t) => t.done)).toBe(true);
    // Each looked at after the run settled, before a macrotask has passed: a second run joins.
    expect(await messageOf(byResult.result)).toBe("result");
    let joined = -1;
    let rethrown = "";
    let index = -1;
    host.spawn(function* (f) {
      joined = yield* f.join(byJoin);
      try {
        yield* byYield;
      } catch (e) {
        rethrown = (e as Error).message;
      }
      index = (yield* f.waitAny([byWaitAny], 0)).index;
    });
    await host.run();
    expect(await messageOf(parent.result)).toBe("child"); // the parent's failure is its child's
    await reportsDue();
    await reportsDue();
    expect([joined, rethrown, index]).toEqual([0, "yield*", 0]);
    expect(errors).toEqual([]);
  });

  it("a runUntilIdle() user with no run() pending: reported a macrotask after the failure, unless looked at first", async () => {
    const { host, errors } = await quietHost();
    const seen = host.spawn(failing("seen"));
    const unseen = host.spawn(failing("unseen"));
    host.runUntilIdle();
    expect(seen.done && unseen.done).toBe(true);
    expect(await messageOf(seen.result)).toBe("seen");
    expect(errors).toEqual([]);
    await reportsDue();
    expect(errors.map(([e, t]) => [(e as Error).message, t])).toEqual([["unseen", unseen]]);
  });

  it("a run() that starts before the check holds it back until that run settles", async () => {
    const { host, errors } = await quietHost();
    const t = host.spawn(failing("held"));
    host.runUntilIdle(); // it failed: its check is a macrotask away
    host.spawn(function* (f) {
      yield* f.await(new Promise((resolve) => setTimeout(resolve, 5))); // the run stays pending past it
    });
    await host.run();
    expect(await messageOf(t.result)).toBe("held");
    await reportsDue();
    expect(errors).toEqual([]);
  });

  it("onError is the observer: it is called once, and what it throws is logged, not thrown", async () => {
    let calls = 0;
    const host = await createHost({
      clock: "virtual",
      onError: () => {
        calls++;
        throw new Error("handler broke");
      },
    });
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      host.spawn(failing("once"));
      await host.run();
      await reportsDue();
      await host.run();
      await reportsDue();
      expect(calls).toBe(1);
      expect(logged).toHaveBeenCalledTimes(1);
      expect(String(logged.mock.calls[0][0])).toBe("fiberhost: the host's onError threw");
    } finally {
      logged.mockRestore();
    }
  });

  it("the default report names the fiber and its task, shows the error, and says what to do", async () => {
    const host = await createHost({ clock: "virtual" });
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      host.spawn(failing("worker broke"), { name: "worker" });
      await host.run();
      await reportsDue();
      expect(printed).toHaveBeenCalledTimes(1);
      const [head, err, advice] = printed.mock.calls[0] as [string, Error, string];
      expect(head).toBe('fiberhost: fiber "worker" (task #1) failed and nothing observed its error:');
      expect(err.message).toBe("worker broke");
      expect(advice).toMatch(/task\.result, joined it \(f\.join, yield\* task\) or was its parent \(f\.spawn\)/);
      expect(advice).toMatch(/createHost\(\{ onError \}\)/);
    } finally {
      printed.mockRestore();
    }
  });
});

describe("FailureReports, the held list", () => {
  const task = (): Task & { [EXTRA]: { observed: boolean } } => ({ [EXTRA]: { observed: false } }) as never;

  it("lets go of failures observed during a long run before it ends, and reports only the rest", async () => {
    const reported: Task[] = [];
    const reports = new FailureReports((_, t) => void reported.push(t));
    const release = reports.hold();
    const lonely = task();
    reports.add(lonely, "e");
    for (let i = 0; i < 1000; i++) {
      const t = task();
      reports.add(t, "e");
      t[EXTRA].observed = true; // its result was asked for
    }
    expect(reports.size).toBeLessThan(130); // swept as it grew: not 1,001
    await reportsDue();
    expect(reported).toEqual([]); // held while the run is pending
    release();
    release(); // (once)
    await reportsDue();
    expect(reported).toEqual([lonely]);
    expect(reports.size).toBe(0);
  });
});
