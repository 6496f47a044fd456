// Issue 18, item 1: whatever a fiber throws (a revoked Proxy, a Proxy whose getPrototypeOf trap
// throws) is classified by one guarded classifier (classifyThrown): a family never wedges on it,
// a parent waiting for its children ends, a detached fiber's failure reaches onError.
import { describe, expect, it, vi } from "vitest";
import {
  createHost,
  HResultError,
  E_INVALIDARG,
  TaskAbortError,
  isTaskAbortError,
  type Host,
  type Task,
} from "../src/index.js";
import { classifyThrown } from "../src/base/errors.js";
import { reportsDue } from "./support/fibers.js";

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

/** A Proxy whose getPrototypeOf trap throws: `instanceof` on it throws. */
function protoThrows(): object {
  return new Proxy(
    {},
    {
      getPrototypeOf() {
        throw new Error("getPrototypeOf trap");
      },
    },
  );
}

const HOSTILE: [string, () => object][] = [
  ["a revoked Proxy", revoked],
  ["a Proxy whose getPrototypeOf throws", protoThrows],
];

/** Whether `p` rejected with exactly `v` (the reason boxed: a revoked Proxy cannot be a promise's value). */
function rejectsWith(p: Promise<unknown>, v: unknown): Promise<boolean> {
  return p.then(
    () => false,
    (e: unknown) => e === v,
  );
}

async function quietHost(): Promise<{ host: Host; errors: [unknown, Task][] }> {
  const errors: [unknown, Task][] = [];
  const host = await createHost({ clock: "virtual", onError: (err, t) => void errors.push([err, t]) });
  return { host, errors };
}

describe.each(HOSTILE)("a fiber that throws %s", (_, make) => {
  it("whose parent's body has ended, waiting for it to unwind: the parent ends, failing with that value", async () => {
    const { host, errors } = await quietHost();
    const thrown = make();
    let child!: Task;
    const parent = host.spawn(function* (f) {
      child = f.spawn(function* (g) {
        try {
          yield* g.sleep();
        } finally {
          g.resetAbort(); // (an abort sticks: reset, the fiber ends with what it throws)
          // biome-ignore lint/correctness/noUnsafeFinally: the hostile value replaces the abort on purpose
          throw thrown;
        }
      });
      yield* f.yield();
      return "body done";
    });
    const report = await host.run();
    expect(report.blocked).toBe(0);
    expect(parent.done).toBe(true);
    expect(child.done).toBe(true);
    await reportsDue();
    expect(errors.length).toBe(1);
    expect(errors[0][0] === thrown && errors[0][1] === parent).toBe(true);
    expect(await rejectsWith(parent.result, thrown)).toBe(true);
  });

  it("while its parent runs: the parent is aborted and fails with that value, reported once with the parent", async () => {
    const { host, errors } = await quietHost();
    const thrown = make();
    const parent = host.spawn(function* (f) {
      f.spawn(function* (g) {
        yield* g.yield();
        throw thrown;
      });
      yield* f.sleep(); // until the child's failure aborts it
    });
    const report = await host.run();
    await reportsDue();
    expect(report).toEqual({ finished: 0, failed: 2, blocked: 0 });
    expect(errors.length).toBe(1);
    expect(errors[0][0] === thrown && errors[0][1] === parent).toBe(true);
  });

  it("joined with `yield* child`: the parent catches exactly that value and returns", async () => {
    const { host, errors } = await quietHost();
    const thrown = make();
    const parent = host.spawn(function* (f) {
      const child = f.spawn(function* (g) {
        yield* g.yield();
        throw thrown;
      });
      try {
        yield* child;
        return "not thrown";
      } catch (e) {
        return e === thrown ? "caught it" : "caught something else";
      }
    });
    await host.run();
    expect(await parent.result).toBe("caught it");
    expect(errors.length).toBe(0);
  });

  it("detached (host.spawn): its failure reaches onError with its task", async () => {
    const { host, errors } = await quietHost();
    const thrown = make();
    const t = host.spawn(function* (f) {
      yield* f.yield();
      throw thrown;
    });
    const report = await host.run();
    await reportsDue();
    expect(report).toEqual({ finished: 0, failed: 1, blocked: 0 });
    expect(errors.length).toBe(1);
    expect(errors[0][0] === thrown && errors[0][1] === t).toBe(true);
  });

  it("in place of the abort its parent's abort sent: every fiber ends, nothing blocks; the parent ends with its abort, each child's value reaches onError", async () => {
    const { host, errors } = await quietHost();
    const thrown = make();
    const children: Task[] = [];
    const parent = host.spawn(function* (f) {
      for (let i = 0; i < 3; i++) {
        children.push(
          f.spawn(function* (g) {
            try {
              yield* g.sleep();
            } catch {
              g.resetAbort(); // (an abort sticks: reset, the fiber ends with what it throws)
              throw thrown; // the abort, replaced
            }
          }),
        );
      }
      yield* f.sleep();
    });
    host.runUntilIdle();
    expect(parent.abort()).toBe(0);
    const report = await host.run();
    expect(report.blocked).toBe(0);
    expect(children.every((c) => c.done)).toBe(true);
    expect(host.liveTaskCount).toBe(1);
    await reportsDue();
    expect(errors.length).toBe(3);
    expect(errors.every(([e, t]) => e === thrown && children.includes(t))).toBe(true);
    expect(isTaskAbortError(await parent.result.catch((e: unknown) => e))).toBe(true);
  });

  it("the default onError prints it without throwing", async () => {
    const host = await createHost({ clock: "virtual" });
    const printed = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      host.spawn(function* () {
        throw make();
      });
      await host.run();
      await reportsDue();
      const lines = printed.mock.calls.map((c) => String(c[0]));
      expect(lines.filter((l) => l.includes("nothing observed its error"))).toHaveLength(1);
      expect(lines.some((l) => l.includes("onError threw"))).toBe(false);
    } finally {
      printed.mockRestore();
    }
  });
});

describe("classifyThrown, the one classifier of values a fiber produced", () => {
  it("answers abort, hresult or other, and never throws: revoked and trap-throwing Proxies are other", () => {
    expect(classifyThrown(new TaskAbortError("x", false))).toBe("abort");
    expect(classifyThrown(new HResultError(E_INVALIDARG, "x"))).toBe("hresult");
    expect(classifyThrown(new Error("x"))).toBe("other");
    for (const v of [revoked(), protoThrows(), Symbol("s"), 5n, null, undefined, Object.create(null)])
      expect(classifyThrown(v)).toBe("other");
  });

  it("isTaskAbortError answers false for a revoked Proxy instead of throwing", () => {
    expect(isTaskAbortError(revoked())).toBe(false);
    expect(isTaskAbortError(protoThrows())).toBe(false);
    expect(isTaskAbortError(new TaskAbortError("x", true))).toBe(true);
  });
});
