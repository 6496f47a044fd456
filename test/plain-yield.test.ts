// A plain `yield op`: the operation runs as `yield* op` would, its answer the yield's value; the
// fiber's own f.yield() token is the switch's fast path. And the ready levels around the default one.
import { describe, it, expect } from "vitest";
import {
  HResultError,
  TaskAbortError,
  S_OK,
  E_INVALIDARG,
  HOST_E_TIMEOUT,
  THREAD_PRIORITY_HIGHEST,
  THREAD_PRIORITY_LOWEST,
  type FiberContext,
} from "../src/index.js";
import { virtualHost, expectBalanced, rejection } from "./support/fibers.js";

describe("a plain yield of an operation", () => {
  it("yield f.yield() switches like yield* f.yield() and answers S_OK", async () => {
    const host = await virtualHost();
    const log: string[] = [];
    const answers: unknown[] = [];
    for (const name of ["a", "b"]) {
      host.spawn(function* (f) {
        for (let i = 0; i < 3; i++) {
          log.push(`${name}${i}`);
          answers.push(yield f.yield());
        }
      });
    }
    host.runUntilIdle();
    expect(log).toEqual(["a0", "b0", "a1", "b1", "a2", "b2"]);
    expect(answers).toEqual([S_OK, S_OK, S_OK, S_OK, S_OK, S_OK]);
    expectBalanced(host);
  });

  it("runs any operation: a sleep, a join, a wait with a timeout, a managed scope's value and error", async () => {
    const host = await virtualHost();
    const ev = host.createManualEvent(false);
    const got: unknown[] = [];
    const t = host.spawn(function* (f) {
      const t0 = host.now();
      got.push(yield f.sleep(10), host.now() - t0);
      got.push(yield f.wait(ev, 5));
      got.push(
        yield f.managed(function* () {
          yield f.yield();
          return "inside";
        }),
      );
      try {
        yield f.managed(() => {
          throw new Error("boom");
        });
      } catch (e) {
        got.push((e as Error).message);
      }
      return "end";
    });
    const joiner = host.spawn(function* (f): Generator<unknown, unknown, number> {
      return yield f.join(t);
    });
    await host.run();
    expect(got).toEqual([S_OK, 10, HOST_E_TIMEOUT, "inside", "boom"]);
    expect(await t.result).toBe("end");
    expect(await joiner.result).toBe(S_OK);
    expectBalanced(host);
  });

  it("a pending abort is thrown at a plain yield of the token; the fiber's frames stay balanced", async () => {
    const host = await virtualHost();
    let caught: unknown;
    const t = host.spawn(function* (f) {
      try {
        for (let i = 0; i < 10_000; i++) yield f.yield();
        return "not aborted after 10,000 yields";
      } catch (e) {
        caught = e;
      }
      yield f.yield(); // (an abort sticks: a plain yield of the token throws it again)
      return "not reached";
    });
    host.spawn(function* (f) {
      yield f.yield();
      expect(t.abort()).toBe(S_OK);
    });
    host.runUntilIdle();
    expect(caught).toBeInstanceOf(TaskAbortError);
    expect(await rejection(t.result)).toBe(caught);
    expectBalanced(host);
  });

  it("another fiber's f.yield() yielded plainly yields the fiber that yields it; its other operations are refused", async () => {
    const host = await virtualHost();
    let ownerF!: FiberContext;
    const ev = host.createManualEvent(false);
    host.spawn(
      function* (f) {
        ownerF = f;
        yield f.wait(ev);
      },
      { name: "owner" },
    );
    host.runUntilIdle();
    const log: unknown[] = [];
    const other = host.spawn(function* () {
      log.push(yield ownerF.yield());
      try {
        yield ownerF.sleep(1);
      } catch (e) {
        log.push(e instanceof HResultError && e.hr === E_INVALIDARG && /owner/.test(e.message));
      }
    });
    host.spawn(function* () {
      log.push("bystander");
    });
    host.runUntilIdle();
    expect(log).toEqual(["bystander", S_OK, true]);
    await other.result;
    ev.set();
    host.runUntilIdle();
    expectBalanced(host);
  });

  it("yielding what is not an operation still throws E_INVALIDARG into the fiber, a revoked Proxy included", async () => {
    const host = await virtualHost();
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const seen: unknown[] = [];
    host.spawn(function* () {
      for (const v of [42, proxy, { next() {} }]) {
        try {
          yield v;
        } catch (e) {
          seen.push(e instanceof HResultError && e.hr === E_INVALIDARG);
        }
      }
    });
    host.runUntilIdle();
    expect(seen).toEqual([true, true, true]);
  });
});

describe("the ready levels around the default priority", () => {
  it("a higher level runs before the default ring, a lower one after it, FIFO within each", async () => {
    const host = await virtualHost();
    const log: string[] = [];
    const spawn = (name: string, priority: number) =>
      host.spawn(
        function* (f) {
          log.push(`${name}1`);
          yield f.yield();
          log.push(`${name}2`);
        },
        { priority },
      );
    spawn("low", THREAD_PRIORITY_LOWEST);
    spawn("d1", 0);
    spawn("high", THREAD_PRIORITY_HIGHEST);
    spawn("d2", 0);
    host.runUntilIdle();
    expect(log).toEqual(["high1", "high2", "d11", "d21", "d12", "d22", "low1", "low2"]);
  });
});
