// Issue 11: errors never silent (onError, onDeadlock, run()'s report), f.spawn's children that never
// outlive their parent, typed tasks (`yield* child`), f.await(signal => …), f.waitAny, readable objects.
import { describe, it, expect, vi } from "vitest";
import {
  createHost,
  TaskAbortError,
  type Host,
  type Task,
  type FiberDump,
  S_OK,
  HOST_E_TIMEOUT,
  HOST_E_ABANDONED,
  HOST_E_INTERRUPTED,
  WAIT_ALERTABLE,
  E_INVALIDARG,
} from "../src/index.js";
import { expectFailure, reportsDue } from "./support/fibers.js";
import { FiberContext } from "../src/fiber/context.js";
import { DebugFiberContext } from "../src/fiber/debug-context.js";
import { isOperation } from "../src/kernel/commands.js";

/** A host on the virtual clock whose reports are collected, not printed. */
async function quietHost(): Promise<{ host: Host; errors: [unknown, Task][]; deadlocks: FiberDump[][] }> {
  const errors: [unknown, Task][] = [];
  const deadlocks: FiberDump[][] = [];
  const host = await createHost({
    clock: "virtual",
    onError: (err, task) => errors.push([err, task]),
    onDeadlock: (blocked) => deadlocks.push(blocked),
  });
  return { host, errors, deadlocks };
}

describe("no silent failure", () => {
  it("an error nothing observed goes to onError with its task, after the run; run() reports it", async () => {
    const { host, errors } = await quietHost();
    const boom = new Error("boom");
    const t = host.spawn(
      function* (f) {
        yield* f.yield();
        throw boom;
      },
      { name: "w" },
    );
    const report = await host.run();
    expect(report).toEqual({ finished: 0, failed: 1, blocked: 0 });
    await reportsDue();
    expect(errors).toHaveLength(1);
    expect(errors[0][0]).toBe(boom);
    expect(errors[0][1]).toBe(t);
  });

  it("an error observed through task.result, a join or yield* is not reported; nor is an abort", async () => {
    const { host, errors } = await quietHost();
    const fail = function* (f: import("../src/index.js").FiberContext) {
      yield* f.yield();
      throw new Error("seen");
    };
    const a = host.spawn(fail);
    void a.result.catch(() => {});
    const b = host.spawn(fail);
    host.spawn(function* (f) {
      yield* f.join(b);
    });
    const c = host.spawn(fail);
    host.spawn(function* () {
      try {
        yield* c;
      } catch {}
    });
    const d = host.spawn(function* (f) {
      yield* f.sleep();
    });
    host.spawn(function* (f) {
      yield* f.yield();
      d.abort();
    });
    const report = await host.run();
    await reportsDue();
    expect(errors).toEqual([]);
    expect(report).toEqual({ finished: 3, failed: 4, blocked: 0 });
  });

  it("the default onError prints the fiber's name and the error with console.error", async () => {
    const host = await createHost({ clock: "virtual" });
    const spy = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      host.spawn(
        function* () {
          throw new Error("loud");
        },
        { name: "noisy" },
      );
      await host.run();
      await reportsDue();
      expect(spy).toHaveBeenCalledTimes(1);
      expect(String(spy.mock.calls[0][0])).toMatch(/fiber "noisy" \(task #1\) failed and nothing observed/);
      expect((spy.mock.calls[0][1] as Error).message).toBe("loud");
    } finally {
      spy.mockRestore();
    }
  });

  it("a run that ends with fibers blocked goes to onDeadlock, each as dump() shows it", async () => {
    const { host, deadlocks } = await quietHost();
    const ev = host.createAutoEvent({ name: "never" });
    host.spawn(
      function* () {
        yield* ev.wait();
      },
      { name: "stuck" },
    );
    const report = await host.run();
    expect(report).toEqual({ finished: 0, failed: 0, blocked: 1 });
    expect(deadlocks).toHaveLength(1);
    expect(deadlocks[0][0]).toMatchObject({ name: "stuck", state: "waiting", waitingOn: 'autoEvent "never"' });
  });

  it("the default onDeadlock warns, naming each fiber and what it waits on", async () => {
    const host = await createHost({ clock: "virtual" });
    const spy = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const crst = host.createCrst({ name: "L" });
      host.spawn(
        function* (f) {
          yield* crst.enter();
          yield* f.sleep();
        },
        { name: "owner" },
      );
      host.spawn(
        function* () {
          yield* crst.enter();
        },
        { name: "second" },
      );
      await host.run();
      expect(spy).toHaveBeenCalledTimes(1);
      const text = String(spy.mock.calls[0][0]);
      expect(text).toMatch(/2 fibers blocked/);
      expect(text).toMatch(/"owner" waits on a timer/);
      expect(text).toMatch(/"second" waits on crst "L" owned by task 1 \(owner\)/);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("structured concurrency: f.spawn", () => {
  it("a parent's end aborts its running children and waits until they have unwound", async () => {
    const { host } = await quietHost();
    const log: string[] = [];
    let child!: Task;
    const parent = host.spawn(function* (f) {
      child = f.spawn(
        function* (g) {
          try {
            yield* g.sleep();
          } finally {
            log.push("child unwinds");
            // Its unwinding may wait (in a delay region: outside one, the abort is thrown again at
            // once); the parent's end waits with it.
            yield* g.delayAbort(function* () {
              yield* g.sleep(5);
            });
            log.push("child done");
          }
        },
        { name: "kid" },
      );
      yield* f.yield();
      log.push("parent returns");
      return 7;
    });
    const report = await host.run();
    expect(log).toEqual(["parent returns", "child unwinds", "child done"]);
    expect(await parent.result).toBe(7);
    expect(child.done).toBe(true);
    expect(await expectFailure(child)).toBeInstanceOf(TaskAbortError);
    expect(report).toEqual({ finished: 1, failed: 1, blocked: 0 });
  });

  it("a parent ending by its error or its abort also ends its children first", async () => {
    const { host } = await quietHost();
    const order: string[] = [];
    const make = (name: string) =>
      function* (f: import("../src/index.js").FiberContext) {
        f.spawn(function* (g) {
          try {
            yield* g.sleep();
          } finally {
            order.push(`${name}'s child`);
          }
        });
        yield* f.sleep(name === "thrower" ? 1 : undefined);
        throw new Error(name);
      };
    const thrower = host.spawn(make("thrower"));
    const aborted = host.spawn(make("aborted"));
    void thrower.result.catch(() => order.push("thrower ended"));
    void aborted.result.catch(() => order.push("aborted ended"));
    host.spawn(function* (f) {
      yield* f.sleep(2);
      aborted.abort("stop");
    });
    await host.run();
    await Promise.resolve();
    expect(order).toEqual(["thrower's child", "thrower ended", "aborted's child", "aborted ended"]);
    expect(((await expectFailure(aborted)) as TaskAbortError).cause).toBe("stop");
  });

  it("a child's unobserved failure fails its parent with the child's error", async () => {
    const { host, errors } = await quietHost();
    const boom = new Error("child failed");
    let sibling!: Task;
    const parent = host.spawn(function* (f) {
      f.spawn(function* (g) {
        yield* g.sleep(1);
        throw boom;
      });
      sibling = f.spawn(function* (g) {
        yield* g.sleep();
      });
      yield* f.sleep(100);
      return "unreached";
    });
    void parent.result.catch(() => {});
    await host.run();
    expect(await expectFailure(parent)).toBe(boom);
    expect(sibling.done).toBe(true);
    await reportsDue();
    expect(errors).toEqual([]);
    expect(host.now()).toBeLessThan(100);
  });

  it("host.spawn stays detached: a fiber it starts outlives the fiber that started it", async () => {
    const { host } = await quietHost();
    let detached!: Task;
    const parent = host.spawn(function* (f) {
      detached = host.spawn(function* (g) {
        yield* g.sleep(10);
        return "still here";
      });
      yield* f.yield();
    });
    await host.run();
    expect(parent.done).toBe(true);
    expect(await detached.result).toBe("still here");
  });
});

describe("typed tasks: yield* child", () => {
  it("answers the child's return value, typed", async () => {
    const { host } = await quietHost();
    const parent = host.spawn(function* (f) {
      const child = f.spawn(function* (g) {
        yield* g.sleep(3);
        return 21;
      });
      const v: number = yield* child;
      return v * 2;
    });
    await host.run();
    const n: number = await parent.result;
    expect(n).toBe(42);
  });

  it("rethrows the child's error; joining itself is HOST_E_DEADLOCK", async () => {
    const { host, errors } = await quietHost();
    const boom = new Error("no");
    const seen: unknown[] = [];
    host.spawn(function* (f) {
      const child = f.spawn(function* () {
        throw boom;
      });
      try {
        yield* child;
      } catch (e) {
        seen.push(e);
      }
      try {
        yield* f.task;
      } catch (e) {
        seen.push(e);
      }
    });
    await host.run();
    expect(seen[0]).toBe(boom);
    expect((seen[1] as { hr: number }).hr).toBe(0x80131020 /* HOST_E_DEADLOCK */);
    expect(errors).toEqual([]);
  });

  it("outside a fiber a task iterates as empty; f.join keeps its HRESULT answer", async () => {
    const { host } = await quietHost();
    const t = host.spawn(function* () {
      return 1;
    });
    expect([...t]).toEqual([]);
    let hr = -1;
    host.spawn(function* (f) {
      hr = yield* f.join(t);
    });
    await host.run();
    expect(hr).toBe(S_OK);
  });
});

describe("cancellation that reaches the I/O: f.await(signal => …)", () => {
  it("the signal aborts when the fiber is aborted, with the abort as its reason; cause is task.abort's reason", async () => {
    const host = await createHost({ onError: () => {} });
    let signal!: AbortSignal;
    let stopped = false;
    const t = host.spawn(function* (f) {
      yield* f.await(
        (s) =>
          new Promise((_resolve, reject) => {
            signal = s;
            const timer = setTimeout(() => {}, 60_000);
            s.addEventListener("abort", () => {
              clearTimeout(timer);
              stopped = true;
              reject(s.reason);
            });
          }),
      );
    });
    host.spawn(function* (f) {
      yield* f.yield();
      yield* f.yield();
      t.abort("user cancelled");
    });
    await host.run();
    expect(stopped).toBe(true);
    expect(signal.aborted).toBe(true);
    const err = (await expectFailure(t)) as TaskAbortError;
    expect(err).toBeInstanceOf(TaskAbortError);
    expect(err.cause).toBe("user cancelled");
    expect(signal.reason).toBe(err);
  });

  it("a settled await leaves its signal alone; spawn's signal reason becomes the cause", async () => {
    const { host } = await quietHost();
    let signal!: AbortSignal;
    const ok = host.spawn(function* (f) {
      return yield* f.await((s) => {
        signal = s;
        return Promise.resolve(5);
      });
    });
    const ctl = new AbortController();
    const victim = host.spawn(
      function* (f) {
        yield* f.sleep();
      },
      { signal: ctl.signal },
    );
    host.spawn(function* (f) {
      yield* f.yield();
      ctl.abort("shutdown");
    });
    await host.run();
    expect(await ok.result).toBe(5);
    expect(signal.aborted).toBe(false);
    expect(((await expectFailure(victim)) as TaskAbortError).cause).toBe("shutdown");
  });
});

describe("f.waitAny", () => {
  it("answers S_OK and the index of the object signalled, acquiring that one only", async () => {
    const { host } = await quietHost();
    const jobs = host.createSemaphore(0, 10, { name: "jobs" });
    const shutdown = host.createManualEvent({ name: "shutdown" });
    const got: { hr: number; index: number }[] = [];
    host.spawn(function* (f) {
      for (;;) {
        const r = yield* f.waitAny([jobs, shutdown]);
        got.push(r);
        if (r.index === 1) return;
      }
    });
    host.spawn(function* (f) {
      yield* f.sleep(1);
      jobs.release(2);
      yield* f.sleep(1);
      shutdown.set();
    });
    await host.run();
    expect(got).toEqual([
      { hr: S_OK, index: 0 },
      { hr: S_OK, index: 0 },
      { hr: S_OK, index: 1 },
    ]);
    expect(jobs.currentCount).toBe(0);
  });

  it("an auto event set while two objects are waited on is taken once; a task's end counts", async () => {
    const { host } = await quietHost();
    const ev = host.createAutoEvent();
    const worker = host.spawn(function* (f) {
      yield* f.sleep(5);
      return "w";
    });
    const order: number[] = [];
    host.spawn(function* (f) {
      order.push((yield* f.waitAny([ev, worker])).index);
      order.push((yield* f.waitAny([ev, worker])).index);
    });
    host.spawn(function* (f) {
      yield* f.sleep(1);
      ev.set();
    });
    await host.run();
    expect(order).toEqual([0, 1]);
  });

  it("answers HOST_E_TIMEOUT, HOST_E_INTERRUPTED and HOST_E_ABANDONED (with the closed object's index)", async () => {
    const { host } = await quietHost();
    const a = host.createAutoEvent();
    const b = host.createAutoEvent();
    const got: { hr: number; index: number }[] = [];
    const t = host.spawn(function* (f) {
      got.push(yield* f.waitAny([a, b], 10));
      got.push(yield* f.waitAny([a, b], 100, WAIT_ALERTABLE));
      got.push(yield* f.waitAny([a, b]));
    });
    host.spawn(function* (f) {
      yield* f.sleep(20);
      t.alert();
      yield* f.sleep(1);
      b.close();
    });
    await host.run();
    expect(got).toEqual([
      { hr: HOST_E_TIMEOUT, index: -1 },
      { hr: HOST_E_INTERRUPTED, index: -1 },
      { hr: HOST_E_ABANDONED, index: 1 },
    ]);
  });

  it("an aborted waitAny leaves no registration behind", async () => {
    const { host } = await quietHost();
    const ev = host.createAutoEvent();
    const t = host.spawn(function* (f) {
      yield* f.waitAny([ev]);
    });
    host.spawn(function* (f) {
      yield* f.yield();
      t.abort();
    });
    await host.run();
    expect(t.done).toBe(true);
    expect(ev.set()).toBe(S_OK);
    let r = { hr: -1, index: -1 };
    host.spawn(function* (f) {
      r = yield* f.waitAny([ev], 0);
    });
    await host.run();
    expect(r).toEqual({ hr: S_OK, index: 0 }); // the set was kept for the next wait, not lost
  });
});

describe("readable objects", () => {
  it("a task, a context, a host and a sync object print as one line and serialise", async () => {
    const { host } = await quietHost();
    const ev = host.createAutoEvent({ name: "jobs" });
    expect(host.trace.start(1024)).toBe(S_OK);
    let line = "";
    const t = host.spawn(
      function* (f) {
        line = String(f);
        yield* f.managed(function* () {
          yield* ev.wait();
        });
      },
      { name: "worker" },
    );
    await host.run();
    expect(String(t)).toBe('Task #1 "worker" waiting managed depth 1');
    expect(line).toBe('FiberContext of Task #1 "worker" running unmanaged depth 0');
    expect(JSON.parse(JSON.stringify(t))).toEqual({
      id: 1,
      name: "worker",
      state: "waiting",
      mode: "managed",
      depth: 1,
    });
    expect(String(ev)).toBe('autoEvent "jobs" (1 waiting)');
    expect(host.dump()[1].waitingOn).toBe('autoEvent "jobs"');
    expect(JSON.stringify(host.trace.toChromeTrace())).toContain(JSON.stringify('autoEvent "jobs"').slice(1, -1));
    expect(JSON.stringify(ev)).toBe('{"kind":"autoEvent","name":"jobs","closed":false,"waiting":1}');
    expect(String(host)).toBe("Host: 2 live tasks, runtime started");
    expect(JSON.parse(JSON.stringify(host)).tasks).toHaveLength(2);
    const inspect = (o: object) => (o as Record<symbol, () => string>)[Symbol.for("nodejs.util.inspect.custom")]();
    expect(inspect(t)).toBe(String(t));
    expect(inspect(host)).toBe(String(host));
    expect(inspect(ev)).toBe(String(ev));
  });

  it("unknown option names are E_INVALIDARG listing the known ones", async () => {
    await expect(createHost({ budgt: 3 } as object)).rejects.toMatchObject({
      hr: E_INVALIDARG,
      message: expect.stringMatching(/unknown option "budgt".*budget/),
    });
    const { host } = await quietHost();
    expect(() => host.spawn(function* () {}, { nme: "x" } as object)).toThrow(/spawn: unknown option "nme".*name/);
    expect(() => host.createCrst({ nam: "x" } as object)).toThrow(/createCrst: unknown option "nam"/);
    const empty = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]); // an empty module
    await expect(host.instantiate(empty, {}, { suspendng: [] } as object)).rejects.toMatchObject({
      hr: E_INVALIDARG,
      message: expect.stringMatching(/instantiate: unknown option "suspendng".*suspending/),
    });
    expect((await host.instantiate(empty, {}, { suspension: "none" })).exports).toEqual({});
  });
});

describe("common slips: an operation made and never yielded (debug core)", () => {
  it("watches every method of f that makes an operation, found on FiberContext.prototype (no list to keep in step)", async () => {
    // Each method of f, called with no arguments (bad input still makes an operation, one that
    // answers or throws E_INVALIDARG when run) and never run: every one that made an operation
    // must be reported when the fiber ends.
    const keys = Reflect.ownKeys(FiberContext.prototype).filter(
      (k) =>
        k !== "constructor" && typeof Object.getOwnPropertyDescriptor(FiberContext.prototype, k)?.value === "function",
    );
    for (const k of keys) expect(Object.hasOwn(DebugFiberContext.prototype, k), String(k)).toBe(true);
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const host = await createHost({ clock: "virtual", core: "debug" });
      const made: string[] = [];
      const t = host.spawn(
        (f) => {
          for (const k of keys) {
            let op: unknown;
            try {
              op = (f as unknown as Record<string | symbol, () => unknown>)[k]();
            } catch {
              continue; // (f.spawn refuses no body: it makes no operation)
            }
            if (isOperation(op)) made.push(String(k));
          }
          return made.length;
        },
        { name: "maker" },
      );
      await host.run();
      expect(await t.result).toBe(made.length);
      // The operations f has today, at least: a method that makes one is not missed by the test.
      for (const name of ["yield", "managed", "unmanaged", "leaveRuntime", "enterRuntime", "sleep", "join", "wait"])
        expect(made).toContain(name);
      for (const name of ["waitAny", "call", "await", "reverseEnterRuntime", "reverseLeaveRuntime"])
        expect(made).toContain(name);
      const reported = warn.mock.calls.map((c) => /made f\.(\w+)\(…\) and never ran it/.exec(String(c[0]))?.[1]);
      expect(reported.sort()).toEqual([...made].sort());
    } finally {
      warn.mockRestore();
    }
  });

  it("is reported when the fiber next runs an operation, or ends; a release host says it once, at the fiber's end", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const host = await createHost({ clock: "virtual", core: "debug" });
      host.spawn(
        function* (f) {
          f.sleep(10); // the slip: no yield*
          yield* f.yield();
          f.wait(host.createAutoEvent());
        },
        { name: "sloppy" },
      );
      host.spawn(function* (f) {
        const a = f.sleep(1);
        const b = f.sleep(2);
        yield* a; // made in order, run in order: not a slip
        yield* b;
      });
      await host.run();
      const lines = warn.mock.calls.map((c) => String(c[0]));
      expect(lines).toEqual([
        expect.stringMatching(/fiber sloppy made f\.sleep\(…\) and never ran it.*yield\*/),
        expect.stringMatching(/fiber sloppy made f\.wait\(…\) and never ran it/),
      ]);
      warn.mockClear();
      const release = await createHost({ clock: "virtual" });
      release.spawn(
        function* (f) {
          f.sleep(10);
          yield* f.yield();
        },
        { name: "sloppy" },
      );
      await release.run();
      expect(warn.mock.calls.map((c) => String(c[0]))).toEqual([
        expect.stringMatching(/fiber sloppy made a wait on a timer \(sleep\) and never ran it.*yield\*/),
      ]);
    } finally {
      warn.mockRestore();
    }
  });

  it("on a release host: the first one a fiber made and never ran, at its end; runs in order, f.yield() and a return say nothing", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    try {
      const host = await createHost({ clock: "virtual" });
      const ev = host.createAutoEvent();
      const slips = {
        "then more run": function* (f: FiberContext) {
          f.wait(ev, 5); // the slip, then operations that do run
          yield* f.sleep(5);
          yield* f.managed(function* () {
            yield* f.yield();
          });
        },
        "as its last": function* (f: FiberContext) {
          yield* f.sleep(1);
          f.managed(function* () {});
        },
        "plain yield of the next": function* (f: FiberContext) {
          f.sleep(3);
          yield f.sleep(1);
        },
      };
      for (const [name, body] of Object.entries(slips)) host.spawn(body, { name });
      // Not slips: made in order and run in order, a plain yield, an f.yield() token made and not run.
      host.spawn(function* (f) {
        const a = f.sleep(1);
        const b = f.sleep(2);
        yield* a;
        yield* b;
        yield f.sleep(1);
        f.yield();
        return yield* f.await(Promise.resolve(1));
      });
      await host.run();
      expect(warn.mock.calls.map((c) => String(c[0])).sort()).toEqual([
        expect.stringMatching(/^fiberhost: fiber as its last made f\.managed\(body\).* and never ran it/),
        expect.stringMatching(
          /^fiberhost: fiber plain yield of the next made a wait on a timer \(sleep\) and never ran it/,
        ),
        expect.stringMatching(/^fiberhost: fiber then more run made a wait on autoEvent and never ran it/),
      ]);
    } finally {
      warn.mockRestore();
    }
  });
});
