// Issue 20, item 6: an abort that structured concurrency delivers says why, in its message and its
// cause: "parent ended", "parent failed", "sibling b failed", "child b failed", "parent aborted: <reason>".
import { describe, expect, it } from "vitest";
import { createHost, TaskAbortError, type FiberContext, type Host, type Task } from "../src/index.js";
import { rejection, reportsDue } from "./support/fibers.js";

async function quietHost(): Promise<{ host: Host; errors: unknown[] }> {
  const errors: unknown[] = [];
  const host = await createHost({ clock: "virtual", onError: (err) => errors.push(err) });
  return { host, errors };
}

/** A child that sleeps until its parent's end aborts it. */
function* sleeper(g: FiberContext): Generator<unknown, void> {
  yield* g.sleep();
}

async function abortOf(t: Task): Promise<TaskAbortError> {
  const err = await rejection(t.result);
  expect(err).toBeInstanceOf(TaskAbortError);
  return err as TaskAbortError;
}

describe("aborts from structured concurrency say why", () => {
  it("a parent that returns aborts its child with 'parent ended' and no cause", async () => {
    const { host } = await quietHost();
    let kid!: Task;
    const parent = host.spawn(function* (f) {
      kid = f.spawn(sleeper, { name: "kid" });
      yield* f.yield();
      return 1;
    });
    await host.run();
    expect(await parent.result).toBe(1);
    const err = await abortOf(kid);
    expect(err.message).toBe("fiber kid was aborted: parent ended");
    expect(err.cause).toBeUndefined();
  });

  it("a child's failure aborts its siblings with 'sibling b failed', the error as cause; the parent's abort says 'child b failed'", async () => {
    const { host, errors } = await quietHost();
    const boom = new Error("b broke");
    let a!: Task;
    let parentAbort: unknown;
    const parent = host.spawn(function* (f) {
      a = f.spawn(sleeper, { name: "a" });
      f.spawn(
        function* (g) {
          yield* g.sleep(1);
          throw boom;
        },
        { name: "b" },
      );
      try {
        yield* f.sleep(100);
      } catch (e) {
        parentAbort = e;
        throw e;
      }
    });
    void parent.result.catch(() => {});
    await host.run();
    expect(await rejection(parent.result)).toBe(boom);
    const err = await abortOf(a);
    expect(err.message).toBe("fiber a was aborted: sibling b failed");
    expect(err.cause).toBe(boom);
    expect(parentAbort).toBeInstanceOf(TaskAbortError);
    expect((parentAbort as TaskAbortError).message).toMatch(/was aborted: child b failed$/);
    expect((parentAbort as TaskAbortError).cause).toBe(boom);
    await reportsDue();
    expect(errors).toEqual([]);
  });

  it("an aborted parent's children are aborted with 'parent aborted: <reason>', the reason as cause", async () => {
    const { host } = await quietHost();
    let kid!: Task;
    const parent = host.spawn(function* (f) {
      kid = f.spawn(sleeper, { name: "kid" });
      yield* f.sleep();
    });
    host.spawn(function* (f) {
      yield* f.sleep(1);
      parent.abort("user cancelled");
    });
    await host.run();
    expect((await abortOf(parent)).cause).toBe("user cancelled");
    const err = await abortOf(kid);
    expect(err.message).toBe("fiber kid was aborted: parent aborted: user cancelled");
    expect(err.cause).toBe("user cancelled");
  });

  it("an error as the parent's abort reason is shown by its message; no reason: 'parent aborted'", async () => {
    const { host } = await quietHost();
    const reason = new Error("shutting down");
    const kids: Task[] = [];
    const parents = [reason, undefined].map((r) => {
      const p = host.spawn(function* (f) {
        kids.push(f.spawn(sleeper, { name: "kid" }));
        yield* f.sleep();
      });
      host.spawn(function* (f) {
        yield* f.sleep(1);
        p.abort(r);
      });
      return p;
    });
    await host.run();
    for (const p of parents) await abortOf(p);
    const [withReason, without] = await Promise.all(kids.map(abortOf));
    expect(withReason.message).toBe("fiber kid was aborted: parent aborted: shutting down");
    expect(withReason.cause).toBe(reason);
    expect(without.message).toBe("fiber kid was aborted: parent aborted");
    expect(without.cause).toBeUndefined();
  });

  it("a parent that throws aborts its children with 'parent failed', its error as cause", async () => {
    const { host } = await quietHost();
    const oops = new Error("oops");
    let kid!: Task;
    const parent = host.spawn(function* (f) {
      kid = f.spawn(sleeper, { name: "kid" });
      yield* f.yield();
      throw oops;
    });
    void parent.result.catch(() => {});
    await host.run();
    const err = await abortOf(kid);
    expect(err.message).toBe("fiber kid was aborted: parent failed");
    expect(err.cause).toBe(oops);
  });

  it("a rudely aborted parent's children are rudely aborted, saying so", async () => {
    const { host } = await quietHost();
    let kid!: Task;
    const parent = host.spawn(function* (f) {
      kid = f.spawn(sleeper, { name: "kid" });
      yield* f.sleep();
    });
    host.spawn(function* (f) {
      yield* f.sleep(1);
      parent.rudeAbort();
    });
    await host.run();
    const err = await abortOf(kid);
    expect(err.rude).toBe(true);
    expect(err.message).toBe("fiber kid was rudely aborted: parent aborted");
  });

  it("the reason passes down: a grandchild is aborted with 'parent aborted: parent ended'", async () => {
    const { host } = await quietHost();
    let grandchild!: Task;
    let child!: Task;
    host.spawn(function* (f) {
      child = f.spawn(
        function* (g) {
          grandchild = g.spawn(sleeper, { name: "grandchild" });
          yield* g.sleep();
        },
        { name: "child" },
      );
      yield* f.yield();
      yield* f.yield();
    });
    await host.run();
    expect((await abortOf(child)).message).toBe("fiber child was aborted: parent ended");
    expect((await abortOf(grandchild)).message).toBe("fiber grandchild was aborted: parent aborted: parent ended");
  });

  it("a hostile reason (a revoked Proxy) is described without being asked, and is still the cause", async () => {
    const { host } = await quietHost();
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    let kid!: Task;
    const parent = host.spawn(function* (f) {
      kid = f.spawn(sleeper, { name: "kid" });
      yield* f.sleep();
    });
    host.spawn(function* (f) {
      yield* f.sleep(1);
      parent.abort(proxy);
    });
    await host.run();
    const err = await abortOf(kid);
    expect(err.message).toMatch(/^fiber kid was aborted: parent aborted: \S/);
    expect(err.cause).toBe(proxy);
  });

  it("an abort asked for directly keeps its plain message", async () => {
    const { host } = await quietHost();
    const t = host.spawn(sleeper, { name: "solo" });
    host.spawn(function* (f) {
      yield* f.sleep(1);
      t.abort("bye");
    });
    await host.run();
    const err = await abortOf(t);
    expect(err.message).toBe("fiber solo was aborted");
    expect(err.cause).toBe("bye");
  });
});
