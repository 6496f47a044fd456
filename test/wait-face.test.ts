// The wait face (src/operations/wait-face.ts): a `yield*` of a wait delegates to the fiber's task,
// so that a parked fiber holds no operation. Each test pins down that a wait behaves as an
// operation of its own would: made twice before running, run twice, made and never run, run by
// another fiber, cut short by an abort, a timeout or an alert, run with a plain yield.
import { describe, expect, it, vi } from "vitest";
import {
  createHost,
  E_INVALIDARG,
  HOST_E_INTERRUPTED,
  HOST_E_TIMEOUT,
  HResultError,
  INFINITE,
  type Host,
  type Task,
  TaskAbortError,
  S_OK,
  WAIT_ALERTABLE,
  type FiberStart,
} from "../src/index.js";
import { virtualHost, expectFailure } from "./support/fibers.js";

type Wait = Iterable<unknown, number> & object;

/** Tasks by id: a task is iterable (`yield* task` joins it), so a deep equality would walk it. */
const ids = (tasks: Task[]): number[] => tasks.map((t) => t.id);

/** Runs `body` as one fiber until every fiber is idle, then answers its result. */
async function inOneFiber<R>(host: Host, body: FiberStart<undefined, R>): Promise<R> {
  const t = host.spawn(body);
  host.runUntilIdle();
  return t.result as Promise<R>;
}

for (const core of ["release", "debug"] as const) {
  describe(`a wait run with yield* (${core} core)`, () => {
    const newHost = () => createHost({ clock: "virtual", core });

    it("two waits made before either runs each wait on their own object", async () => {
      const host = await newHost();
      const a = host.createManualEvent(false);
      const b = host.createManualEvent(false);
      const log: string[] = [];
      const t = host.spawn(function* () {
        const wa = a.wait();
        const wb = b.wait(1000);
        log.push(`a ${yield* wa}`);
        log.push(`b ${yield* wb}`);
      });
      host.runUntilIdle();
      expect(ids(a.waiting())).toEqual([t.id]);
      expect(ids(b.waiting())).toEqual([]);
      b.set();
      host.runUntilIdle();
      expect(log).toEqual([]); // b was set before its wait began: a still waits
      a.set();
      host.runUntilIdle();
      expect(log).toEqual([`a ${S_OK}`, `b ${S_OK}`]);
      expect(t.done).toBe(true);
    });

    it("the same wait run twice waits twice", async () => {
      const host = await newHost();
      const ev = host.createAutoEvent();
      const log: number[] = [];
      const t = host.spawn(function* () {
        const w = ev.wait();
        log.push(yield* w);
        log.push(yield* w);
      });
      host.runUntilIdle();
      ev.set();
      host.runUntilIdle();
      expect(log).toEqual([S_OK]);
      expect(ids(ev.waiting())).toEqual([t.id]);
      ev.set();
      host.runUntilIdle();
      expect(log).toEqual([S_OK, S_OK]);
      expect(t.done).toBe(true);
    });

    it("a wait made and never run does not wait, and later waits work", async () => {
      // The debug core warns about each operation made and never run, the release core about the first.
      const warned: string[] = [];
      const warn = vi.spyOn(console, "warn").mockImplementation((m: string) => void warned.push(m));
      const host = await newHost();
      const ev = host.createManualEvent(false);
      const other = host.createManualEvent(false);
      const log: number[] = [];
      const t = host.spawn(function* (f) {
        void ev.wait(); // never run
        void f.wait(ev, 5);
        yield* f.yield();
        log.push(yield* other.wait());
      });
      host.runUntilIdle();
      expect(ids(ev.waiting())).toEqual([]);
      expect(ids(other.waiting())).toEqual([t.id]);
      other.set();
      host.runUntilIdle();
      expect(log).toEqual([S_OK]);
      warn.mockRestore();
      if (core === "debug") {
        // f.wait's operation (the debug context watches its own operations; ev.wait() is the
        // object's, not watched)
        expect(warned).toHaveLength(1);
        expect(warned[0]).toMatch(/made f\.wait\(…\) and never ran it/);
      } else {
        // The release core: the first operation made and never run, once, at the fiber's end.
        expect(warned).toHaveLength(1);
        expect(warned[0]).toMatch(/fiber fiber-\d+ made a wait on manualEvent and never ran it/);
      }
    });

    it("an iterator taken by hand and never run leaves the later waits working", async () => {
      const host = await newHost();
      const a = host.createManualEvent(false);
      const b = host.createManualEvent(false);
      const log: number[] = [];
      const t = host.spawn(function* () {
        const taken = (a.wait() as Wait)[Symbol.iterator]();
        log.push(yield* b.wait(10)); // times out
        log.push(yield* a.wait(10)); // another wait on a, while `taken` is still unrun
        log.push(yield* a.wait());
        return taken;
      });
      host.runUntilIdle();
      expect(log).toEqual([HOST_E_TIMEOUT, HOST_E_TIMEOUT]);
      expect(ids(a.waiting())).toEqual([t.id]);
      a.set();
      host.runUntilIdle();
      expect(log).toEqual([HOST_E_TIMEOUT, HOST_E_TIMEOUT, S_OK]);
      expect(ids(b.waiting())).toEqual([]);
    });

    it("a wait of another fiber's making answers E_INVALIDARG in the fiber that runs it; its maker still waits", async () => {
      const host = await newHost();
      const ev = host.createManualEvent(false);
      let made: Wait | null = null;
      const log: number[] = [];
      const maker = host.spawn(function* (f) {
        made = ev.wait() as Wait;
        yield* f.yield();
        log.push(yield* ev.wait());
      });
      const thief = host.spawn(function* () {
        return yield* made!;
      });
      host.runUntilIdle();
      const err = await expectFailure(thief);
      expect(err).toBeInstanceOf(HResultError);
      expect((err as HResultError).hr).toBe(E_INVALIDARG >>> 0);
      expect((err as Error).message).toMatch(/fiber .* used by fiber/);
      expect(ids(ev.waiting())).toEqual([maker.id]);
      ev.set();
      host.runUntilIdle();
      expect(log).toEqual([S_OK]);
    });

    it("an abort while parked ends the wait; the fiber's next waits, the same one included, wait again", async () => {
      const host = await newHost();
      const ev = host.createManualEvent(false);
      const log: string[] = [];
      const t = host.spawn(function* (f) {
        const w = ev.wait();
        try {
          yield* w;
        } catch (e) {
          log.push(e instanceof TaskAbortError ? "aborted" : String(e));
          f.resetAbort(); // (an abort sticks: reset, the fiber's later waits wait)
        }
        yield* f.managed(function* () {}); // a safe point passed: the abort was delivered
        log.push(`again ${yield* w}`);
        log.push(`sleep ${yield* f.sleep(5)}`);
      });
      host.runUntilIdle();
      expect(t.abort()).toBe(S_OK);
      host.runUntilIdle();
      expect(log).toEqual(["aborted"]);
      expect(ids(ev.waiting())).toEqual([t.id]);
      ev.set();
      host.runUntilIdle();
      expect(log).toEqual(["aborted", `again ${S_OK}`, `sleep ${S_OK}`]);
      expect(t.done).toBe(true);
    });

    it("a timeout, an alert and a plain yield of a wait each answer as a wait of their own", async () => {
      const host = await newHost();
      const ev = host.createManualEvent(false);
      const sem = host.createSemaphore(0, 10);
      const log: number[] = [];
      const t = host.spawn(function* (f) {
        log.push(yield* ev.wait(20));
        log.push(yield* f.wait(ev, INFINITE, WAIT_ALERTABLE));
        log.push((yield sem.wait()) as number);
        log.push(
          yield* f.join(
            host.spawn(function* () {}),
            100,
          ),
        );
      });
      host.runUntilIdle();
      expect(log).toEqual([HOST_E_TIMEOUT]);
      expect(t.alert()).toBe(S_OK);
      host.runUntilIdle();
      expect(log).toEqual([HOST_E_TIMEOUT, HOST_E_INTERRUPTED]);
      sem.release(1);
      host.runUntilIdle();
      expect(log).toEqual([HOST_E_TIMEOUT, HOST_E_INTERRUPTED, S_OK, S_OK]);
    });

    it("a rude abort while parked ends the fiber; an exit request ends it at the wait's safe point", async () => {
      const host = await newHost();
      const ev = host.createManualEvent(false);
      let after = false;
      const rude = host.spawn(function* () {
        yield* ev.wait();
        after = true;
      });
      const exits = host.spawn(function* (f) {
        f.task.exitTask();
        yield* ev.wait();
        after = true;
      });
      host.runUntilIdle();
      expect(rude.rudeAbort()).toBe(S_OK);
      host.runUntilIdle();
      expect(((await expectFailure(rude)) as TaskAbortError).rude).toBe(true);
      await expect(exits.result).resolves.toBeUndefined();
      expect(ids(ev.waiting())).toEqual([]);
      expect(after).toBe(false);
    });
  });
}

describe("a task given as a plain function's result", () => {
  it("is the fiber's result, not an iterator to drive", async () => {
    const host = await virtualHost();
    const other = host.spawn(function* (f) {
      yield* f.yield();
      return 7;
    });
    const t = host.spawn(() => other);
    host.runUntilIdle();
    expect(await t.result).toBe(other);
    expect(await other.result).toBe(7);
  });

  it("is an f.managed body's answer", async () => {
    const host = await virtualHost();
    const other = host.spawn(function* () {});
    const got = await inOneFiber(host, function* (f) {
      return yield* f.managed(() => other as Task);
    });
    expect(got).toBe(other);
  });
});
