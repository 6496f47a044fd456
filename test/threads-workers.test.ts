// One runtime across real workers (Node worker_threads; Chromium's module workers in the
// cross-origin-isolated test page): createHost({ threads, entry }) and the bodies of
// test/fixtures/workers/pool-bodies.js. The library is dist/ in Node, the sources in Chromium
// (test/support/workers.ts), as the pool's workers load it.
import { afterEach, describe, expect, it } from "vitest";
import type { PoolHost } from "../src/index.js";
import { fiberhost, fixtureUrl, inBrowser } from "./support/workers.js";

const S_OK = 0;
const E_INVALIDARG = 0x80070057;
const HOST_E_DEADLOCK = 0x80131020;
const HOST_E_TIMEOUT = 0x80131024;
const HOST_E_ABANDONED = 0x80131026;

const pools: PoolHost[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

async function pool(threads: number): Promise<PoolHost> {
  const lib = await fiberhost();
  const host = await lib.createHost({ threads, entry: fixtureUrl("pool-bodies.js") });
  pools.push(host);
  return host;
}

const until = async (cond: () => boolean, what: string): Promise<void> => {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
};

describe("createHost({ threads, entry }): a pool of workers on one runtime", () => {
  it("runs bodies by name on a given worker or any, with params and results structured-cloned", async () => {
    const host = await pool(2);
    expect(host.workers).toHaveLength(2);
    const [w1, w2] = host.workers;
    const a = host.spawnOn(w1!, "add", { a: 1, b: 2 });
    const b = host.spawnOn(w2!, "add", { a: 3, b: 4 });
    const c = host.spawnOn("any", "add", { a: 5, b: 6 });
    expect(await a.result).toEqual({ sum: 3, thread: w1 });
    expect(await b.result).toEqual({ sum: 7, thread: w2 });
    expect(((await c.result) as { sum: number }).sum).toBe(11);
    expect((await a.handle).thread).toBe(w1);
  });

  it('threads: "auto" starts the machine\'s cores − 1 workers (at least one)', async () => {
    const lib = await fiberhost();
    const host = await lib.createHost({ threads: "auto", entry: fixtureUrl("pool-bodies.js") });
    pools.push(host);
    const os = "node:os"; // (a variable: the browser project's bundler leaves it alone)
    const cores = inBrowser
      ? navigator.hardwareConcurrency
      : ((await import(/* @vite-ignore */ os)) as typeof import("node:os")).availableParallelism();
    expect(host.workers).toHaveLength(Math.max(1, cores - 1));
  });

  it("refuses bad threads, entries, workers and bodies with E_INVALIDARG", async () => {
    const lib = await fiberhost();
    for (const threads of [0, -1, 1.5, 99, "many"]) {
      const err = await lib
        .createHost({ threads: threads as number, entry: fixtureUrl("pool-bodies.js") })
        .catch((e) => e);
      expect((err as { hr?: number }).hr).toBe(E_INVALIDARG);
    }
    const err = await lib.createHost({ threads: 1, entry: "not a url" }).catch((e) => e);
    expect(String(err)).toMatch(/entry must be the URL/);
    const host = await pool(1);
    expect(() => host.spawnOn(17, "add", {})).toThrow(/not a live worker/);
    expect(() => host.spawnOn("any", "")).toThrow(/body must be the name/);
    expect(() => host.spawnOn("any", "add", { fn: () => 1 })).toThrow(/could not be posted/);
    expect(() =>
      host.spawnOn("any", "add", {
        get a(): number {
          throw new Error("getter");
        },
      }),
    ).toThrow(/could not be posted/);
    // Names only the prototype chain has: the entry module's namespace has no prototype.
    for (const name of ["__proto__", "constructor", "toString", "hasOwnProperty"])
      await expect(host.spawnOn("any", name).result).rejects.toThrow(/exports no function/);
    const bad = await lib
      .createHost({
        threads: 1,
        entry: {
          toString(): string {
            throw new Error("toString");
          },
        } as never,
      })
      .catch((e: unknown) => e);
    expect((bad as { hr?: number }).hr).toBe(E_INVALIDARG);
    // The pool still works after each refusal.
    expect(await host.spawnOn("any", "add", { a: 1, b: 1 }).result).toMatchObject({ sum: 2 });
    await expect(host.spawnOn("any", "nosuch").result).rejects.toThrow(/exports no function "nosuch"/);
  });

  it("keeps one set of totals: every worker's transitions counted and balanced, invariants hold", async () => {
    const host = await pool(2);
    const before = host.counters();
    const runs = host.workers.map((w) => host.spawnOn(w, "transitions", 200).result);
    expect(await Promise.all(runs)).toEqual([200, 200]);
    const c = host.counters();
    expect(c.reverseEnterRuntime - before.reverseEnterRuntime).toBe(400);
    expect(c.reverseLeaveRuntime - before.reverseLeaveRuntime).toBe(400);
    expect(c.leaveRuntime - before.leaveRuntime).toBe(400);
    expect(c.enterRuntime - before.enterRuntime).toBe(400);
    expect(host.checkInvariants()).toBe(true);
  });

  it("a suspension from the main thread holds managed fibers on every worker until it resumes", async () => {
    const host = await pool(2);
    const progress = host.workers.map(() => new SharedArrayBuffer(8));
    const words = progress.map((p) => new Int32Array(p));
    const spins = host.workers.map((w, i) => host.spawnOn(w, "spin", progress[i]).result);
    await until(() => words.every((w) => Atomics.load(w, 0) > 20), "the spinners");
    expect(await host.suspendRuntimeAsync()).toBe(S_OK);
    const held = words.map((w) => Atomics.load(w, 0));
    await new Promise((r) => setTimeout(r, 50));
    expect(words.map((w) => Atomics.load(w, 0))).toEqual(held);
    expect(host.countManaged()).toBe(2);
    for (const w of words) Atomics.store(w, 1, 1);
    expect(host.resumeRuntime()).toBe(S_OK);
    const ends = await Promise.all(spins);
    for (const [i, n] of ends.entries()) expect(n).toBeGreaterThanOrEqual(held[i]!);
  });

  it("a suspension reaches a worker at its safe point, not in the middle of a synchronous crossing", async () => {
    const host = await pool(1);
    const progress = new SharedArrayBuffer(8);
    const words = new Int32Array(progress);
    const run = host.spawnOn(host.workers[0]!, "crossings", { n: 2_000_000, progress }).result;
    await until(() => Atomics.load(words, 0) === 1, "the crossings to start");
    const suspended = host.suspendRuntimeAsync();
    expect(await suspended).toBe(S_OK);
    expect(host.resumeRuntime()).toBe(S_OK);
    expect(await run).toBe(0); // every transition answered S_OK: none saw the suspension mid-way
    const c = host.counters();
    expect(c.leaveRuntime).toBe(c.enterRuntime);
    expect(c.reverseEnterRuntime).toBe(c.reverseLeaveRuntime);
  });

  it("a shared event and semaphore set on the main thread wake fibers waiting on workers", async () => {
    const host = await pool(2);
    const ev = host.createSharedAutoEvent();
    const sem = host.createSharedSemaphore(0, 5);
    const [w1, w2] = host.workers;
    const onEvent = host.spawnOn(w1!, "waitOn", { handle: ev.handle, ms: 10_000 }).result;
    const onSem = host.spawnOn(w2!, "waitOn", { handle: sem.handle, ms: 10_000 }).result;
    const timesOut = host.spawnOn(w2!, "waitOn", { handle: ev.handle, ms: 30 }).result;
    expect(await timesOut).toBe(HOST_E_TIMEOUT);
    expect(ev.set()).toBe(S_OK);
    expect(sem.release(1)).toBe(S_OK);
    expect(await onEvent).toBe(S_OK);
    expect(await onSem).toBe(S_OK);
  });

  it("a Crst owned on one worker is waited for on another, and a cross-worker cycle is a deadlock", async () => {
    const host = await pool(2);
    const [w1, w2] = host.workers;
    const crst = host.createSharedCrst();
    const ready = host.createSharedManualEvent();
    const holder = host.spawnOn(w1!, "holdCrst", { crst: crst.handle, ready: ready.handle, ms: 50 }).result;
    const readyWait = host.spawn(function* () {
      return yield* ready.wait();
    });
    await readyWait.result;
    expect(crst.owner?.thread).toBe(w1);
    const waiter = host.spawnOn(w2!, "enterCrst", crst.handle).result;
    expect(await holder).toBe(S_OK);
    expect(await waiter).toBe(S_OK);

    // Main's fiber owns c; a worker's fiber waits for it; main's fiber joining that fiber closes the cycle.
    const c = host.createSharedCrst();
    const result = host.spawn(function* (f) {
      yield* c.enter();
      const pt = host.spawnOn(w2!, "enterCrst", c.handle);
      const h = yield* f.await(pt.handle);
      yield* f.sleep(30);
      const hr = yield* host.remoteTask(h).join();
      c.leave();
      return [hr, yield* f.await(pt.result)];
    });
    expect(await result.result).toEqual([HOST_E_DEADLOCK, S_OK]);
  });

  it("joins and aborts a task on a worker from the main thread", async () => {
    const host = await pool(1);
    const [w] = host.workers;
    const quick = host.spawnOn(w!, "sleepLong", 20);
    const joined = host.spawn(function* (f) {
      return yield* host.remoteTask(yield* f.await(quick.handle)).join();
    });
    expect(await joined.result).toBe(S_OK);
    expect(await quick.result).toBe("slept");
    const long = host.spawnOn(w!, "sleepLong", 60_000);
    const remote = host.remoteTask(await long.handle);
    expect(remote.abort()).toBe(S_OK);
    await expect(long.result).rejects.toMatchObject({ name: "TaskAbortError" });
    expect(remote.alive).toBe(false);
  });

  it("a worker that dies has its tasks ended and Crsts abandoned; the rest of the runtime goes on", async () => {
    const host = await pool(2);
    const [w1, w2] = host.workers;
    const crst = host.createSharedCrst();
    const ready = host.createSharedManualEvent();
    const gate = host.createSharedManualEvent();
    void host
      .spawnOn(w1!, "ownAndEnd", { crst: crst.handle, ready: ready.handle, gate: gate.handle })
      .result.catch(() => {});
    const waitReady = host.spawn(function* () {
      return yield* ready.wait();
    });
    await waitReady.result;
    const waiter = host.spawn(function* () {
      return yield* crst.enter();
    });
    await until(() => crst.waiting().length === 1, "the main fiber to wait for the Crst");
    const dying = host.spawnOn(w1!, "die");
    await expect(dying.result).rejects.toMatchObject({ hr: HOST_E_ABANDONED });
    expect(await waiter.result).toBe(HOST_E_ABANDONED);
    expect(host.workers).toEqual([w2]);
    expect(await host.spawnOn("any", "add", { a: 2, b: 2 }).result).toEqual({ sum: 4, thread: w2 });
    expect(host.checkInvariants()).toBe(true);
    gate.set();
  });
});
