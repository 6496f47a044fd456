// Issue 20, item 2: an abort sticks. Once delivered, the TaskAbortError is thrown again at every
// later operation outside a delay region (f.delayAbort), and the fiber ends aborted whatever its
// body does, unless it calls f.resetAbort() (Thread.ResetAbort's analogue). The CLR's cases:
// catch-and-continue, catch-and-return, finally with a wait, nested delay regions, reset.
import { describe, expect, it } from "vitest";
import {
  createHost,
  HOST_E_INVALIDOPERATION,
  S_OK,
  TaskAbortError,
  type FiberContext,
  type Host,
  type Task,
} from "../src/index.js";
import { RERAISE_LIMIT } from "../src/scheduler/requests.js";
import { expectBalanced, expectFailure, virtualHost } from "./support/fibers.js";

/** A host whose fibers' failures are collected, not reported (structured concurrency fails some on purpose). */
async function quietHost(): Promise<{ host: Host; errors: unknown[] }> {
  const errors: unknown[] = [];
  const host = await createHost({ clock: "virtual", onError: (err) => errors.push(err) });
  return { host, errors };
}

/** Spawns a fiber that aborts `victim` once it has run `after` yields (so the victim is waiting). */
function abortLater(host: Host, victim: () => Task, reason?: unknown): void {
  host.spawn(function* (f) {
    yield* f.yield();
    expect(victim().abort(reason)).toBe(S_OK);
  });
}

describe("an abort sticks", () => {
  it("catch-and-continue: the next operation throws the same TaskAbortError; the fiber ends aborted", async () => {
    const host = await virtualHost();
    const seen: unknown[] = [];
    let after = "not reached";
    const victim = host.spawn(function* (f) {
      try {
        yield* f.sleep(1000);
      } catch (e) {
        seen.push(e);
      }
      try {
        yield* f.yield(); // the next operation: thrown again
        after = "the yield went on";
      } catch (e) {
        seen.push(e);
      }
      try {
        yield* f.sleep(5); // and the one after
        after = "the sleep went on";
      } catch (e) {
        seen.push(e);
      }
      return "carried on";
    });
    abortLater(host, () => victim, "stop");
    host.runUntilIdle();
    expect(seen).toHaveLength(3);
    expect(seen[0]).toBeInstanceOf(TaskAbortError);
    expect(seen[1]).toBe(seen[0]);
    expect(seen[2]).toBe(seen[0]);
    expect(after).toBe("not reached");
    expect((seen[0] as TaskAbortError).cause).toBe("stop");
    expect(await expectFailure(victim)).toBe(seen[0]);
    expect(host.now()).toBe(0); // nothing slept
  });

  it("catch-and-return: the fiber ends aborted, its result rejects with the TaskAbortError", async () => {
    const host = await virtualHost();
    let caught: unknown;
    const victim = host.spawn(function* (f) {
      try {
        yield* f.sleep();
      } catch (e) {
        caught = e;
      }
      return 42;
    });
    abortLater(host, () => victim);
    host.runUntilIdle();
    expect(caught).toBeInstanceOf(TaskAbortError);
    expect(await expectFailure(victim)).toBe(caught);
    expect(victim.done).toBe(true);
  });

  it("catch-and-throw-another: the fiber ends aborted, the other error kept as the abort's suppressed", async () => {
    const host = await virtualHost();
    const other = new Error("cleanup broke");
    const victim = host.spawn(function* (f) {
      try {
        yield* f.sleep();
      } catch {
        throw other;
      }
    });
    abortLater(host, () => victim);
    host.runUntilIdle();
    const err = (await expectFailure(victim)) as TaskAbortError;
    expect(err).toBeInstanceOf(TaskAbortError);
    expect(err.suppressed).toBe(other);
  });

  it("finally with a wait: inside f.delayAbort the wait runs to completion; outside it, it throws at once", async () => {
    const host = await virtualHost();
    const log: string[] = [];
    const victim = host.spawn(function* (f) {
      try {
        yield* f.sleep();
      } finally {
        const answer = yield* f.delayAbort(function* () {
          const hr = yield* f.sleep(10);
          log.push(`in the region: slept ${hr} until ${host.now()}`);
          return "cleaned";
        });
        log.push(`region answered ${answer}`);
        try {
          yield* f.sleep(10);
          log.push("outside: slept");
        } catch (e) {
          log.push(`outside: ${(e as Error).name} at ${host.now()}`);
        }
      }
    });
    abortLater(host, () => victim);
    host.runUntilIdle();
    expect(log).toEqual([
      `in the region: slept ${S_OK} until 10`,
      "region answered cleaned",
      "outside: TaskAbortError at 10",
    ]);
    expect(await expectFailure(victim)).toBeInstanceOf(TaskAbortError);
    expectBalanced(host);
  });

  it("nested delay regions: an abort requested inside is delivered only after the outermost closes", async () => {
    const host = await virtualHost();
    const log: string[] = [];
    const victim = host.spawn(function* (f) {
      yield* f.delayAbort(function* () {
        yield* f.delayAbort(function* () {
          log.push(`inner ${yield* f.sleep(5)}`); // aborted at 1 (by another fiber: a fiber's own abort is not held)
        });
        log.push(`outer ${yield* f.sleep(5)}`); // the inner region closed: still held
      });
      log.push("after the regions, before an operation");
      yield* f.yield(); // the first safe point after the outermost close: thrown here
      log.push("not reached");
    });
    host.spawn(function* (f) {
      yield* f.sleep(1);
      expect(victim.abort("later")).toBe(S_OK);
    });
    host.runUntilIdle();
    expect(log).toEqual([`inner ${S_OK}`, `outer ${S_OK}`, "after the regions, before an operation"]);
    const err = (await expectFailure(victim)) as TaskAbortError;
    expect(err).toBeInstanceOf(TaskAbortError);
    expect(err.cause).toBe("later");
    expect(host.now()).toBe(10);
  });

  it("a region closes when its body throws (the next operation outside it throws the abort)", async () => {
    const host = await virtualHost();
    const log: string[] = [];
    const victim = host.spawn(function* (f) {
      try {
        yield* f.sleep();
      } catch {
        try {
          yield* f.delayAbort(function* () {
            yield* f.sleep(1);
            throw new Error("region body broke");
          });
        } catch (e) {
          log.push((e as Error).message);
        }
        try {
          yield* f.sleep(1);
        } catch (e) {
          log.push((e as Error).name);
        }
      }
    });
    abortLater(host, () => victim);
    host.runUntilIdle();
    expect(log).toEqual(["region body broke", "TaskAbortError"]);
    expect(await expectFailure(victim)).toBeInstanceOf(TaskAbortError);
  });

  it("reset: f.resetAbort() in the catch answers S_OK; the fiber goes on and ends normally; a later abort is a new one", async () => {
    const host = await virtualHost();
    const answers: number[] = [];
    const errors: unknown[] = [];
    let victim!: Task;
    victim = host.spawn(function* (f) {
      answers.push(f.resetAbort()); // no abort: HOST_E_INVALIDOPERATION
      try {
        yield* f.sleep();
      } catch (e) {
        errors.push(e);
        answers.push(f.resetAbort());
        answers.push(f.resetAbort()); // reset already
      }
      answers.push(yield* f.sleep(5)); // it waits again
      try {
        expect(victim.abort("again")).toBe(S_OK);
        yield* f.yield();
      } catch (e) {
        errors.push(e);
        f.resetAbort();
      }
      return "recovered";
    });
    abortLater(host, () => victim, "first");
    host.runUntilIdle();
    expect(answers).toEqual([HOST_E_INVALIDOPERATION, S_OK, HOST_E_INVALIDOPERATION, S_OK]);
    expect(await victim.result).toBe("recovered");
    expect(errors).toHaveLength(2);
    expect(errors[1]).not.toBe(errors[0]);
    expect((errors[0] as TaskAbortError).cause).toBe("first");
    expect((errors[1] as TaskAbortError).cause).toBe("again");
  });

  it("resetAbort from outside the fiber (its context kept, called from another fiber) answers HOST_E_INVALIDOPERATION", async () => {
    const host = await virtualHost();
    let ctx!: FiberContext;
    let answer = -1;
    const victim = host.spawn(function* (f) {
      ctx = f;
      try {
        yield* f.sleep();
      } catch {
        yield* f.delayAbort(function* () {
          yield* f.sleep(5); // held here while the other fiber tries to reset it
        });
      }
    });
    host.spawn(function* (f) {
      yield* f.yield();
      victim.abort();
      yield* f.sleep(1);
      answer = ctx.resetAbort();
    });
    host.runUntilIdle();
    expect(answer).toBe(HOST_E_INVALIDOPERATION);
    expect(await expectFailure(victim)).toBeInstanceOf(TaskAbortError);
  });

  it("a second abort of a fiber whose abort is delivered coalesces into it", async () => {
    const host = await virtualHost();
    const seen: unknown[] = [];
    let victim!: Task;
    victim = host.spawn(function* (f) {
      try {
        yield* f.sleep();
      } catch (e) {
        seen.push(e);
      }
      expect(victim.abort("second")).toBe(S_OK);
      try {
        yield* f.yield();
      } catch (e) {
        seen.push(e);
      }
    });
    abortLater(host, () => victim, "first");
    host.runUntilIdle();
    expect(seen[1]).toBe(seen[0]);
    expect((seen[0] as TaskAbortError).cause).toBe("first");
  });
});

describe("structured concurrency with sticky aborts", () => {
  it("a parent whose child swallows its abort ends (the child's end is an abort), without waiting forever", async () => {
    const { host } = await quietHost();
    let child!: Task;
    let swallowed = 0;
    const parent = host.spawn(function* (f) {
      child = f.spawn(
        function* (g) {
          for (let i = 0; i < 1000; i++) {
            try {
              yield* g.sleep(); // aborted: thrown, then thrown again at once
            } catch {
              swallowed++;
            }
          }
          return "the child outlived its abort";
        },
        { name: "kid" },
      );
      yield* f.yield();
      return "parent";
    });
    const report = await host.run();
    expect(await parent.result).toBe("parent");
    expect(await expectFailure(child)).toBeInstanceOf(TaskAbortError);
    expect(swallowed).toBe(1000); // every sleep threw: none waited
    expect(host.now()).toBe(0);
    expect(report.blocked).toBe(0);
  });

  it("a child that swallows its abort in an endless loop is escalated to a rude abort: the host is not held up", async () => {
    const { host } = await quietHost();
    let child!: Task;
    let swallowed = 0;
    const parent = host.spawn(function* (f) {
      child = f.spawn(function* (g) {
        for (;;) {
          try {
            yield* g.sleep(100);
          } catch {
            swallowed++;
          }
        }
      });
      yield* f.yield();
      return "parent";
    });
    await host.run();
    expect(await parent.result).toBe("parent");
    const err = (await expectFailure(child)) as TaskAbortError;
    expect(err).toBeInstanceOf(TaskAbortError);
    expect(err.rude).toBe(true);
    // Delivered once, thrown again about RERAISE_LIMIT times (the wake that delivered it counts or not).
    expect(swallowed).toBeGreaterThanOrEqual(RERAISE_LIMIT);
    expect(swallowed).toBeLessThanOrEqual(RERAISE_LIMIT + 1);
    expect(host.now()).toBe(0);
  });

  it("a child that catches its abort and sleeps on ends at that sleep; the parent's end does not wait for it", async () => {
    const { host } = await quietHost();
    let child!: Task;
    const parent = host.spawn(function* (f) {
      child = f.spawn(function* (g) {
        try {
          yield* g.sleep();
        } catch {
          // swallowed
        }
        yield* g.sleep(1_000_000);
        return "slept";
      });
      yield* f.yield();
      return 1;
    });
    await host.run();
    expect(await parent.result).toBe(1);
    expect(await expectFailure(child)).toBeInstanceOf(TaskAbortError);
    expect(host.now()).toBe(0);
  });

  it("sibling aborts still carry their causes, and a sibling that swallows its abort ends aborted with it", async () => {
    const { host } = await quietHost();
    const boom = new Error("boom");
    let b!: Task;
    let c!: Task;
    const parent = host.spawn(function* (f) {
      b = f.spawn(
        function* (g) {
          yield* g.sleep(1);
          throw boom;
        },
        { name: "b" },
      );
      c = f.spawn(
        function* (g) {
          try {
            yield* g.sleep();
          } catch {
            // swallowed: it still ends aborted
          }
          return "c";
        },
        { name: "c" },
      );
      yield* f.sleep();
    });
    await host.run();
    expect(await expectFailure(parent)).toBe(boom);
    const err = (await expectFailure(c)) as TaskAbortError;
    expect(err).toBeInstanceOf(TaskAbortError);
    expect(err.message).toBe("fiber c was aborted: sibling b failed");
    expect(err.cause).toBe(boom);
    expect(b.done).toBe(true);
  });
});

describe("scopes unwind balanced under a sticky abort", () => {
  it("f.managed and f.unmanaged scopes close their frames when the abort is swallowed and thrown again", async () => {
    const host = await virtualHost();
    const depths: number[] = [];
    const victim = host.spawn(function* (f) {
      yield* f.managed(function* () {
        yield* f.unmanaged(7, function* () {
          try {
            yield* f.sleep();
          } catch {
            depths.push(f.task.depth); // swallowed inside both scopes
          }
          yield* f.managed(function* () {
            depths.push(-1); // not reached: its opening is a safe point
          });
        });
      });
    });
    abortLater(host, () => victim);
    host.runUntilIdle();
    expect(depths).toEqual([2]);
    expect(await expectFailure(victim)).toBeInstanceOf(TaskAbortError);
    expectBalanced(host);
  });

  it("a scope's body that catches the abort and returns still unwinds the scope with the abort", async () => {
    const host = await virtualHost();
    let afterScope = false;
    const victim = host.spawn(function* (f) {
      yield* f.managed(function* () {
        try {
          yield* f.sleep();
        } catch {
          return "swallowed in the scope";
        }
      });
      afterScope = true;
      yield* f.yield(); // thrown here
      return "not reached";
    });
    abortLater(host, () => victim);
    host.runUntilIdle();
    expect(afterScope).toBe(true);
    expect(await expectFailure(victim)).toBeInstanceOf(TaskAbortError);
    expectBalanced(host);
  });
});
