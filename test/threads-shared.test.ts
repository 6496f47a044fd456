// One runtime, two thread hosts: createSharedCore and joinHost on the same JS thread. Each host
// is a thread of the runtime as far as the core and the coordination block go (its own thread
// record, root task, doorbell), so the protocol across threads is tested here without workers;
// test/threads-workers.test.ts repeats what matters with real workers.
import { describe, it, expect } from "vitest";
import {
  createHost,
  createSharedCore,
  joinHost,
  type ThreadHost,
  HResultError,
  TaskAbortError,
  S_OK,
  S_FALSE,
  E_INVALIDARG,
  HOST_E_TIMEOUT,
  HOST_E_DEADLOCK,
  HOST_E_ABANDONED,
  HOST_E_NOT_OWNER,
  HOST_E_CLRNOTAVAILABLE,
} from "../src/index.js";
import { fiberFailed } from "./support/failures.js";

const canShare = typeof SharedArrayBuffer === "function" && globalThis.crossOriginIsolated !== false;

async function pair(): Promise<[ThreadHost, ThreadHost]> {
  const a = await createSharedCore({ onError: fiberFailed });
  const b = await joinHost(a.handle, { onError: fiberFailed });
  return [a, b];
}

const until = async (cond: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 2));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
};

describe.runIf(canShare)("a shared runtime: createSharedCore / joinHost", () => {
  it("gives each host a thread of its own over one task table, one state and one set of totals", async () => {
    const [a, b] = await pair();
    expect([a.thread, b.thread]).toEqual([0, 1]);
    expect(b.runtimeState).toBe("started");
    const ta = a.spawn(function* (f) {
      yield* f.managed(function* () {
        yield* f.yield();
      });
    });
    const tb = b.spawn(function* (f) {
      yield* f.managed(function* () {
        yield* f.yield();
      });
    });
    await Promise.all([ta.result, tb.result]);
    // Two reverse enters, one per fiber, counted in one total seen from both threads.
    expect(a.counters().reverseEnterRuntime).toBe(2);
    expect(b.counters()).toEqual(a.counters());
    expect(a.checkInvariants()).toBe(true);
  });

  it("refuses where the page is not cross-origin isolated, saying which headers it needs", async () => {
    const own = Object.getOwnPropertyDescriptor(globalThis, "crossOriginIsolated");
    Object.defineProperty(globalThis, "crossOriginIsolated", { value: false, configurable: true });
    try {
      const err = await createSharedCore().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HResultError);
      expect((err as HResultError).hr).toBe(HOST_E_CLRNOTAVAILABLE);
      expect(String(err)).toMatch(
        /Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/,
      );
      const pool = await createHost({ threads: 1, entry: "https://example.com/fibers.js" }).catch((e: unknown) => e);
      expect(String(pool)).toMatch(/not cross-origin isolated/);
    } finally {
      if (own) Object.defineProperty(globalThis, "crossOriginIsolated", own);
      else delete (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
    }
    expect((await createSharedCore()).thread).toBe(0);
  });

  it("refuses what is not a handle, and options that belong to the runtime", async () => {
    const [a] = await pair();
    await expect(joinHost({} as never)).rejects.toThrow(/not a shared core's handle/);
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const hostile = [
      revoked.proxy,
      {
        get kind(): string {
          throw new Error("getter");
        },
      },
      { ...a.handle, coord: new SharedArrayBuffer(8) },
      { ...a.handle, kind: "constructor" },
    ];
    for (const h of hostile) {
      const e = await joinHost(h as never).catch((x: unknown) => x);
      expect((e as HResultError).hr).toBe(E_INVALIDARG);
    }
    for (const options of [
      revoked.proxy,
      {
        get clock(): string {
          throw new Error("getter");
        },
      },
      5,
    ]) {
      const e = await joinHost(a.handle, options as never).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(HResultError);
      expect((e as HResultError).hr).toBe(E_INVALIDARG);
    }
    const err = await joinHost(a.handle, { maxMemoryBytes: 1 << 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HResultError);
    expect((err as HResultError).hr).toBe(E_INVALIDARG);
    expect(() => a.remoteTask({ thread: 5, idx: 0, gen: 0 })).toThrow(/not a task handle/);
    expect(() => a.openShared({ kind: "crst", id: 99, name: null })).toThrow(/not a shared object/);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    for (const bad of [null, undefined, 7, "x", proxy, { kind: "crst", id: -1 }, { id: 0, kind: "nope" }]) {
      expect(() => a.openShared(bad as never)).toThrow(HResultError);
      expect(() => a.remoteTask(bad as never)).toThrow(HResultError);
      expect(() => a.handleOf(bad as never)).toThrow(HResultError);
    }
    const ev = a.createSharedAutoEvent();
    expect(() => a.openShared({ ...ev.handle, kind: "crst" })).toThrow(/not a shared object/);
    expect(a.openShared(ev.handle)).toBe(ev);
    expect(a.reapThread(Number.NaN)).toBe(E_INVALIDARG);
    expect(() => a.createSharedSemaphore(3, 2)).toThrow(HResultError);
    expect(() => a.createSharedCrst({ name: 5 } as never)).toThrow(HResultError);
  });

  it("a shared auto event set on one thread lets a fiber waiting on the other go", async () => {
    const [a, b] = await pair();
    const ev = a.createSharedAutoEvent({ name: "go" });
    const evB = b.openShared(ev.handle) as typeof ev;
    const waiter = b.spawn(function* () {
      return yield* evB.wait();
    });
    await until(() => evB.waiting().length === 1, "the waiter to park");
    expect(ev.set()).toBe(S_OK);
    expect(await waiter.result).toBe(S_OK);
    // Consumed: a second wait times out.
    const again = b.spawn(function* () {
      return yield* evB.wait(5);
    });
    expect(await again.result).toBe(HOST_E_TIMEOUT);
  });

  it("a shared manual event wakes the waiters of both threads; a semaphore's count is one word", async () => {
    const [a, b] = await pair();
    const ev = a.createSharedManualEvent();
    const evB = b.openShared(ev.handle) as typeof ev;
    const w1 = a.spawn(function* () {
      return yield* ev.wait();
    });
    const w2 = b.spawn(function* () {
      return yield* evB.wait();
    });
    await until(() => ev.waiting().length === 1 && evB.waiting().length === 1, "both to park");
    expect(evB.set()).toBe(S_OK);
    expect(await Promise.all([w1.result, w2.result])).toEqual([S_OK, S_OK]);

    const sem = a.createSharedSemaphore(0, 2);
    const semB = b.openShared(sem.handle) as typeof sem;
    const got = b.spawn(function* () {
      return [yield* semB.wait(), yield* semB.wait()];
    });
    await until(() => semB.waiting().length === 1, "the semaphore waiter");
    expect(sem.release(2)).toBe(S_OK);
    expect(await got.result).toEqual([S_OK, S_OK]);
    expect(sem.release(3)).toBe(E_INVALIDARG);
    expect(semB.currentCount).toBe(0);
  });

  it("a shared Crst: the owner is a task of either thread; leave hands it over, HOST_E_NOT_OWNER for others", async () => {
    const [a, b] = await pair();
    const crst = a.createSharedCrst();
    const crstB = b.openShared(crst.handle) as typeof crst;
    const held = a.createSharedManualEvent();
    const heldB = b.openShared(held.handle) as typeof held;
    const order: string[] = [];
    const owner = a.spawn(function* (f) {
      expect(yield* crst.enter()).toBe(S_OK);
      held.set();
      yield* f.sleep(10);
      order.push("a leaves");
      expect(crst.leave()).toBe(S_OK);
    });
    const contender = b.spawn(function* () {
      yield* heldB.wait();
      expect(crstB.owner?.thread).toBe(0);
      expect(crstB.leave()).toBe(HOST_E_NOT_OWNER);
      expect(yield* crstB.enter()).toBe(S_OK);
      order.push("b owns");
      expect(crstB.owner?.thread).toBe(1);
      expect(crstB.leave()).toBe(S_OK);
    });
    await Promise.all([owner.result, contender.result]);
    expect(order).toEqual(["a leaves", "b owns"]);
    expect(crst.owner).toBe(null);
  });

  it("a Crst whose owner ends owning it is abandoned for its waiters on the other thread", async () => {
    const [a, b] = await pair();
    const crst = a.createSharedCrst();
    const crstB = b.openShared(crst.handle) as typeof crst;
    const gate = a.createSharedAutoEvent();
    const owner = a.spawn(function* () {
      yield* crst.enter();
      yield* gate.wait();
      // ends owning it
    });
    await until(() => crst.owner !== null, "the owner");
    const waiter = b.spawn(function* () {
      return yield* crstB.enter();
    });
    await until(() => crstB.waiting().length === 1, "the waiter");
    gate.set();
    await owner.result;
    expect(await waiter.result).toBe(HOST_E_ABANDONED);
  });

  it("finds a deadlock whose cycle crosses threads (two Crsts, one owner on each thread)", async () => {
    const [a, b] = await pair();
    const c1 = a.createSharedCrst({ name: "c1" });
    const c2 = a.createSharedCrst({ name: "c2" });
    const c1b = b.openShared(c1.handle) as typeof c1;
    const c2b = b.openShared(c2.handle) as typeof c2;
    const both = a.createSharedManualEvent();
    const bothB = b.openShared(both.handle) as typeof both;
    const ta = a.spawn(function* (f) {
      yield* c1.enter();
      yield* f.sleep(5);
      const hr = yield* c2.enter(); // waits: b owns c2
      c1.leave();
      if (hr === S_OK) c2.leave();
      return hr;
    });
    const tb = b.spawn(function* (f) {
      yield* c2b.enter();
      yield* bothB.wait(20);
      yield* f.sleep(15);
      const hr = yield* c1b.enter(); // closes the cycle
      c2b.leave();
      if (hr === S_OK) c1b.leave();
      return hr;
    });
    const [ha, hb] = await Promise.all([ta.result, tb.result]);
    expect(hb).toBe(HOST_E_DEADLOCK);
    expect(ha).toBe(S_OK); // b gave c2 up after its refused enter
  });

  it("joins and aborts a task of the other thread by its handle", async () => {
    const [a, b] = await pair();
    const gate = a.createSharedAutoEvent();
    const worker = a.spawn(function* () {
      yield* gate.wait();
      return 7;
    });
    const remote = b.remoteTask(a.handleOf(worker));
    expect(remote.alive).toBe(true);
    const joiner = b.spawn(function* () {
      return yield* remote.join();
    });
    await until(() => b.dump().some((d) => d.waitingOn?.includes("task")), "the joiner to park");
    gate.set();
    expect(await worker.result).toBe(7);
    expect(await joiner.result).toBe(S_OK);
    expect(remote.alive).toBe(false);
    expect(remote.abort()).toBe(E_INVALIDARG); // it ended

    const sleeper = a.spawn(function* (f) {
      yield* f.sleep(60_000);
    });
    expect(b.remoteTask(a.handleOf(sleeper)).abort()).toBe(S_OK);
    await expect(sleeper.result).rejects.toBeInstanceOf(TaskAbortError);
  });

  it("suspendRuntimeAsync settles once every thread is at a safe point; a managed fiber on the other thread is held until resume", async () => {
    const [a, b] = await pair();
    let steps = 0;
    let stop = false;
    const spinner = b.spawn(function* (f) {
      yield* f.managed(function* () {
        while (!stop) {
          steps++;
          yield* f.yield();
        }
      });
    });
    await until(() => steps > 10, "the spinner");
    expect(await a.suspendRuntimeAsync()).toBe(S_OK);
    const held = steps;
    await new Promise((r) => setTimeout(r, 30));
    expect(steps).toBe(held); // held on its thread
    expect(await a.suspendRuntimeAsync()).toBe(S_FALSE);
    stop = true;
    expect(a.resumeRuntime()).toBe(S_OK);
    await spinner.result;
    expect(steps).toBeGreaterThan(held - 1);
  });

  it("reapThread: a dead thread's tasks end, its Crsts are abandoned and its tasks' joiners answered", async () => {
    const [a, b] = await pair();
    const crst = a.createSharedCrst();
    const crstB = b.openShared(crst.handle) as typeof crst;
    const forever = b.createSharedAutoEvent();
    const victim = b.spawn(function* () {
      yield* crstB.enter();
      yield* forever.wait();
    });
    await until(() => crst.owner !== null, "b to own the crst");
    const remote = a.remoteTask(b.handleOf(victim));
    const joiner = a.spawn(function* () {
      return yield* remote.join();
    });
    const waiter = a.spawn(function* () {
      return yield* crst.enter();
    });
    await until(() => crst.waiting().length === 1, "the waiter");
    // (b's JS objects live on: a real dead worker's would be gone; its slots are what counts.)
    expect(a.reapThread(b.thread)).toBeGreaterThanOrEqual(1);
    expect(remote.alive).toBe(false);
    expect(await joiner.result).toBe(S_OK);
    expect(await waiter.result).toBe(HOST_E_ABANDONED);
    expect(a.reapThread(a.thread)).toBe(E_INVALIDARG);
    expect(a.checkInvariants()).toBe(true);
    victim.rudeAbort();
  });

  it("a core failure on one thread disables the runtime for every thread; the other's waiters are abandoned", async () => {
    const [a, b] = await pair();
    const ev = b.createSharedAutoEvent();
    const waiter = b.spawn(function* () {
      return yield* ev.wait();
    });
    await until(() => ev.waiting().length === 1, "the waiter");
    a.disable("test");
    expect(await waiter.result).toBe(HOST_E_ABANDONED);
    expect(b.runtimeState).toBe("disabled");
    expect(b.createSharedAutoEvent().set()).toBe(HOST_E_CLRNOTAVAILABLE);
  });

  it("one trace ring holds every thread's events: each thread a process of the Chrome trace", async () => {
    const [a, b] = await pair();
    expect(a.trace.start(1024)).toBe(S_OK);
    const ta = a.spawn(
      function* (f) {
        yield* f.yield();
      },
      { name: "on-a" },
    );
    const tb = b.spawn(
      function* (f) {
        yield* f.yield();
      },
      { name: "on-b" },
    );
    await Promise.all([ta.result, tb.result]);
    const events = a.trace.toChromeTrace().traceEvents;
    const pidOf = (name: string) => events.find((e) => e.name === "thread_name" && e.args?.name === name)?.pid;
    expect(pidOf("on-a")).toBe(1);
    // b's task is named by b's recorder only: a's shows it by slot, in thread 1's process.
    expect(events.some((e) => e.name === "process_name" && e.pid === 2 && e.args?.name === "thread 1")).toBe(true);
    expect(events.filter((e) => e.name === "running" && e.pid === 2).length).toBeGreaterThanOrEqual(2);
  });

  it("dumpRuntime: every live task of every thread, from the core; this thread's fibers with their dump", async () => {
    const [a, b] = await pair();
    const gate = a.createSharedManualEvent();
    const gateB = b.openShared(gate.handle) as typeof gate;
    const ta = a.spawn(
      function* (f) {
        yield* f.managed(function* () {
          yield* gate.wait();
        });
      },
      { name: "a-waits" },
    );
    const tb = b.spawn(
      function* () {
        yield* gateB.wait();
      },
      { name: "b-waits" },
    );
    await until(() => gate.waiting().length === 1 && gateB.waiting().length === 1, "both to park");
    const all = a.dumpRuntime();
    const mineA = all.find((d) => d.fiber?.name === "a-waits");
    expect(mineA).toMatchObject({ thread: 0, mode: "managed", depth: 1 });
    const other = all.find((d) => d.thread === 1 && d.idx === b.handleOf(tb).idx);
    expect(other).toMatchObject({ mode: "unmanaged", depth: 0, fiber: null });
    expect(all.filter((d) => d.thread === 1)).toHaveLength(2); // b's root and its fiber
    gate.set();
    await Promise.all([ta.result, tb.result]);
  });

  it("f.waitAny takes shared objects: a set on the other thread ends it", async () => {
    const [a, b] = await pair();
    const e1 = a.createSharedAutoEvent();
    const e2 = a.createSharedManualEvent();
    const [e1b, e2b] = [b.openShared(e1.handle), b.openShared(e2.handle)] as [typeof e1, typeof e2];
    const any = b.spawn(function* (f) {
      return yield* f.waitAny([e1b, e2b], 10_000);
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(any.done).toBe(false);
    expect(e2.set()).toBe(S_OK);
    expect(await any.result).toEqual({ hr: S_OK, index: 1 });
  });

  it("the scoped forms: crst.lock, sem.acquire and ev.waitOrThrow release on every path, across threads", async () => {
    const [a, b] = await pair();
    const crst = a.createSharedCrst();
    const sem = a.createSharedSemaphore(1, 1);
    const ev = a.createSharedAutoEvent();
    const [crstB, semB, evB] = [b.openShared(crst.handle), b.openShared(sem.handle), b.openShared(ev.handle)] as [
      typeof crst,
      typeof sem,
      typeof ev,
    ];
    const t = b.spawn(function* () {
      const inLock = yield* crstB.lock(function* () {
        return crst.owner?.thread;
      });
      const inSem = yield* semB.acquire(function* () {
        return sem.currentCount;
      });
      try {
        yield* evB.waitOrThrow(5);
        return "no throw";
      } catch (err) {
        return [inLock, inSem, (err as HResultError).hr === HOST_E_TIMEOUT];
      }
    });
    expect(await t.result).toEqual([1, 0, true]);
    expect(crst.owner).toBe(null);
    expect(sem.currentCount).toBe(1);
  });

  it("a fiber a set on another thread lets go runs before the fibers ready already (a wake boost)", async () => {
    const [a, b] = await pair();
    const ev = a.createSharedAutoEvent();
    const evB = b.openShared(ev.handle) as typeof ev;
    let steps = 0;
    let stop = false;
    const spinners = Array.from({ length: 50 }, () =>
      b.spawn(function* (f) {
        while (!stop) {
          steps++;
          yield* f.yield();
        }
      }),
    );
    const waiter = b.spawn(function* () {
      yield* evB.wait();
      return steps;
    });
    await until(() => steps > 1000 && evB.waiting().length === 1, "the spinners and the waiter");
    const atSet = steps;
    expect(ev.set()).toBe(S_OK);
    const atWake = await waiter.result;
    stop = true;
    await Promise.all(spinners.map((t) => t.result));
    // Woken at b's next safe point and run first there: fewer spinner steps than one round of them.
    expect(atWake - atSet).toBeLessThan(50);
  });
});
