// Issue 18, item 2: a task's name is a string. Anything else is refused at the setter with
// HResultError(E_INVALIDARG), so every message that shows a name (an abort's, a dump's) is made
// without running user code, and task.abort() always answers.
import { describe, expect, it } from "vitest";
import { createHost, E_INVALIDARG, HResultError, S_OK, isTaskAbortError } from "../src/index.js";

function revoked(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

const NOT_STRINGS: [string, () => unknown][] = [
  ["a Symbol", () => Symbol("name")],
  ["a number", () => 5],
  [
    "an object whose toString throws",
    () => ({
      toString() {
        throw new Error("toString");
      },
    }),
  ],
  ["a revoked Proxy", revoked],
  ["null", () => null],
  ["undefined", () => undefined],
];

describe("task.name", () => {
  it.each(NOT_STRINGS)("set to %s is refused with HResultError(E_INVALIDARG); the name stays", async (_, make) => {
    const host = await createHost({ clock: "virtual" });
    const t = host.spawn(function* (f) {
      yield* f.sleep();
    });
    t.name = "worker";
    let thrown: unknown;
    try {
      (t as { name: unknown }).name = make();
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(HResultError);
    expect((thrown as HResultError).hr).toBe(E_INVALIDARG >>> 0);
    expect((thrown as Error).message).toMatch(/task\.name takes a string/);
    expect(t.name).toBe("worker");
  });

  it.each(NOT_STRINGS)(
    "after a refused set to %s, task.abort() answers S_OK and the fiber ends aborted",
    async (_, make) => {
      const host = await createHost({ clock: "virtual" });
      const t = host.spawn(function* (f) {
        yield* f.sleep();
      });
      host.runUntilIdle();
      try {
        (t as { name: unknown }).name = make();
      } catch {
        // (refused: checked above)
      }
      expect(t.abort()).toBe(S_OK);
      await host.run();
      const err = await t.result.catch((e: unknown) => e);
      expect(isTaskAbortError(err)).toBe(true);
      expect((err as Error).message).toBe(`fiber fiber-${t.id} was aborted`);
    },
  );

  it("a string is kept, whatever it holds, and shows in the abort's message, toString and dump()", async () => {
    const host = await createHost({ clock: "virtual" });
    const t = host.spawn(function* (f) {
      yield* f.sleep();
    });
    const name = 'a "quoted"\nname \u0000 with 🧵';
    t.name = name;
    host.runUntilIdle();
    expect(t.name).toBe(name);
    expect(String(t)).toContain(JSON.stringify(name));
    expect(host.dump().find((d) => d.id === t.id)?.name).toBe(name);
    expect(t.abort()).toBe(S_OK);
    await host.run();
    const err = await t.result.catch((e: unknown) => e);
    expect((err as Error).message).toBe(`fiber ${name} was aborted`);
  });

  it.each(NOT_STRINGS)(
    "task.abort(reason) with %s as the reason answers S_OK; the abort carries it as its cause",
    async (_, make) => {
      const host = await createHost({ clock: "virtual" });
      const reason = make();
      const t = host.spawn(function* (f) {
        yield* f.sleep();
      });
      host.runUntilIdle();
      expect(t.abort(reason)).toBe(S_OK);
      await host.run();
      const err = await t.result.catch((e: unknown) => e);
      expect(isTaskAbortError(err)).toBe(true);
      expect((err as Error).cause === reason).toBe(true);
      expect(String(t)).toBe(`Task #${t.id} "fiber-${t.id}" done threw`);
    },
  );
});
