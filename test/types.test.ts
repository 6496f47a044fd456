// The published types refuse what the scheduler refuses at run time: an async body (host.spawn,
// f.spawn, f.managed, f.unmanaged, crst.lock, sem.acquire) and a guest export called with the
// wrong arguments (f.call, typed by the export's own signature). Each `@ts-expect-error` line is
// checked by `tsc -p tsconfig.json --noEmit` (test/ is in its include: a line that compiles fails
// the typecheck), and each also runs here, so that the run-time refusal behind it is tested too.
// The types that must still be inferred (a body's result through `yield*`) are checked with
// expectTypeOf.
import { describe, expect, expectTypeOf, it } from "vitest";
import { E_INVALIDARG, type FiberContext, type FiberStart, HResultError, type Task } from "../src/index.js";
import { loadGuest } from "./support/guest.js";
import { EXTRA } from "../src/task/state.js";
import { expectFailure, virtualHost } from "./support/fibers.js";

describe("the body types", () => {
  it("infer a body's result through yield*, for generator and plain bodies, with a param", async () => {
    const host = await virtualHost();
    const slept = host.spawn(function* (f) {
      const hr = yield* f.sleep(1);
      return `slept ${hr}`;
    });
    expectTypeOf(slept).toEqualTypeOf<Task<string>>();
    const plain = host.spawn(() => 42);
    expectTypeOf(plain).toEqualTypeOf<Task<number>>();
    const withParam = host.spawn((_f: FiberContext, n: number) => n * 2, { param: 21 });
    expectTypeOf(withParam).toEqualTypeOf<Task<number>>();
    const throws = host.spawn(function* (f) {
      yield* f.yield();
      throw new Error("always");
    });
    expectTypeOf(throws).toEqualTypeOf<Task<never>>();
    const parent = host.spawn(function* (f) {
      const child = f.spawn(function* (g) {
        return (yield* g.sleep(1)) === 0;
      });
      expectTypeOf(child).toEqualTypeOf<Task<boolean>>();
      const inManaged = yield* f.managed(function* () {
        return yield* child;
      });
      expectTypeOf(inManaged).toEqualTypeOf<boolean>();
      return inManaged;
    });
    host.runUntilIdle();
    expect(await slept.result).toBe("slept 0");
    expect(await plain.result).toBe(42);
    expect(await withParam.result).toBe(42);
    expect(await parent.result).toBe(true);
    expect(((await expectFailure(throws)) as Error).message).toBe("always");
  });

  it("refuse an async function or an async generator as host.spawn's body (and so does spawn, at run time)", async () => {
    const host = await virtualHost();
    // @ts-expect-error an async function: a fiber body is a generator function or a plain function
    expect(() => host.spawn(async () => 42)).toThrow(HResultError);
    // @ts-expect-error an async generator function
    expect(() => host.spawn(async function* () {})).toThrow(/async generator/);
    // @ts-expect-error a generator whose result is a promise: a Task<Promise<number>>
    const promised = host.spawn(function* () {
      return Promise.resolve(1);
    });
    host.runUntilIdle();
    expect(await promised.result).toBe(1);
  });

  it("refuse an async body in f.spawn, f.managed, f.unmanaged, crst.lock and sem.acquire", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const sem = host.createSemaphore(1, 1);
    const refused: unknown[] = [];
    const t = host.spawn(function* (f) {
      const attempts = [
        // @ts-expect-error an async child body
        () => f.spawn(async () => 1),
        // @ts-expect-error an async function as f.managed's body
        () => f.managed(async () => 1),
        // @ts-expect-error an async generator as f.unmanaged's body
        () => f.unmanaged(1, async function* () {}),
        // @ts-expect-error an async function as crst.lock's body
        () => crst.lock(async () => 1),
        // @ts-expect-error an async generator as sem.acquire's body
        () => sem.acquire(async function* () {}),
      ];
      for (const attempt of attempts) {
        try {
          const made = attempt();
          // f.spawn and the scoped forms throw where they are made; f.managed's operation, when run.
          if (typeof made === "object" && made !== null && Symbol.iterator in made) yield* made as Iterable<unknown>;
        } catch (e) {
          refused.push(e);
        }
      }
    });
    host.runUntilIdle();
    await t.result;
    expect(refused).toHaveLength(5);
    for (const e of refused) expect((e as HResultError).hr).toBe(E_INVALIDARG);
  });

  it("a generic helper forwards a body as FiberStart<P, R>", async () => {
    const host = await virtualHost();
    const run = <R>(body: FiberStart<undefined, R>): Task<R> => host.spawn(body);
    const t = run(function* (f) {
      return (yield* f.sleep(1)) + 1;
    });
    expectTypeOf(t).toEqualTypeOf<Task<number>>();
    host.runUntilIdle();
    expect(await t.result).toBe(1);
  });
});

describe("f.call's types", () => {
  it("follow the export's own signature: wrong arguments do not compile, the result is typed", async () => {
    const host = await virtualHost();
    const { guest } = await loadGuest(host, "plain");
    const seen: unknown[] = [];
    const t = host.spawn(function* (f) {
      const sum = yield* f.call(guest.exports.add, 2, 3);
      expectTypeOf(sum).toEqualTypeOf<number>();
      seen.push(sum);
      // @ts-expect-error strings for an (a: number, b: number) => number export
      seen.push(yield* f.call(guest.exports.add, "wrong", "args"));
      // @ts-expect-error one argument too few
      seen.push(yield* f.call(guest.exports.add, 1));
    });
    host.runUntilIdle();
    await t.result;
    // (At run time WebAssembly converts what it is given: "wrong" is NaN, a missing argument 0.)
    expect(seen).toEqual([5, 0, 1]);
  });
});

describe("a task's state a user can write", () => {
  /** Each write, from JS: a getter without a setter throws in strict code (and is ignored in sloppy code). */
  function tryWrite(t: object, key: string, value: unknown): void {
    try {
      (t as Record<string, unknown>)[key] = value;
    } catch {}
  }

  it("is none of what decides its outcome: writes by name to a finished task leave its result 42", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* (f) {
      yield* f.yield();
      return 42;
    });
    host.runUntilIdle();
    expect(t.done).toBe(true);
    for (const [key, v] of [
      ["value", "x"],
      ["outcome", 2],
      ["waitAlertable", true],
      ["bits", 2],
      ["pending", "x"],
      ["state", 0],
      ["extra", null],
    ] as const)
      tryWrite(t, key, v);
    expect(await t.result).toBe(42);
    expect(t.done).toBe(true);
  });

  it("is none of what decides its outcome: writes before it ends, and to its extras, leave its result 42", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* (f) {
      yield* f.yield();
      return 42;
    });
    // Its result asked for first: made, and kept where its extras' named fields do not reach.
    const result = t.result;
    for (const [key, v] of [
      ["value", "x"],
      ["outcome", 2],
      ["bits", 2],
      ["pending", "x"],
    ] as const)
      tryWrite(t, key, v);
    // (Its extras, reached by the internal key: nothing a user can name reaches them.)
    const x = (t as unknown as { [EXTRA]: Record<string, unknown> })[EXTRA];
    x.resultPromise = Promise.resolve("x");
    x.settleResult = () => {};
    host.runUntilIdle();
    expect(await result).toBe(42);
    expect(await t.result).toBe(42);
  });
});
