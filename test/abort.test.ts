// ICLRTask::Abort / RudeAbort, the delay regions (BeginDelayAbort / EndDelayAbort,
// BeginPreventAsyncAbort / EndPreventAsyncAbort) and spawn({ signal }).
import { describe, it, expect } from "vitest";
import {
  TaskAbortError,
  isTaskAbortError,
  type FiberContext,
  S_OK,
  E_UNEXPECTED,
  HOST_E_TIMEOUT,
  HOST_E_INVALIDOPERATION,
  INFINITE,
} from "../src/index.js";
import { virtualHost, expectBalanced, expectFailure } from "./support/fibers.js";

import { IDX } from "../src/core/names.js";
describe("ICLRTask::Abort", () => {
  it("is thrown into the fiber at its next safe point as a TaskAbortError with rude false", async () => {
    const host = await virtualHost();
    let caught: unknown;
    let steps = 0;
    const victim = host.spawn(
      function* (f) {
        try {
          // (Bounded: an abort never delivered ends the test, not the worker.)
          for (let i = 0; i < 10_000; i++) {
            steps++;
            yield* f.yield();
          }
          return "not aborted after 10,000 yields";
        } catch (e) {
          caught = e;
          throw e;
        }
      },
      { name: "victim" },
    );
    let stepsAtAbort = 0;
    host.spawn(function* (f) {
      yield* f.yield();
      expect(victim.abort()).toBe(S_OK);
      stepsAtAbort = steps;
    });
    host.runUntilIdle();
    expect(caught).toBeInstanceOf(TaskAbortError);
    expect(isTaskAbortError(caught)).toBe(true);
    expect((caught as TaskAbortError).rude).toBe(false);
    expect((caught as TaskAbortError).message).toMatch(/victim/);
    expect(steps - stepsAtAbort).toBeLessThanOrEqual(1);
    expect(await expectFailure(victim)).toBe(caught);
    expect(victim.done).toBe(true);
  });

  it("wakes a waiting fiber: the wait throws the abort instead of answering", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    let caught: unknown;
    const victim = host.spawn(function* (f) {
      try {
        yield* ev.wait(INFINITE);
      } catch (e) {
        caught = e;
        expect(f.resetAbort()).toBe(S_OK); // (an abort sticks: reset, the fiber ends as its body does)
      }
      return "caught";
    });
    host.spawn(function* (f) {
      yield* f.sleep(5);
      victim.abort();
    });
    host.runUntilIdle();
    expect(caught).toBeInstanceOf(TaskAbortError);
    expect(await victim.result).toBe("caught");
    expect(host.now()).toBe(5);
    expect(ev.waiting()).toEqual([]);
  });

  it("wakes a sleeping, joining or Crst-waiting fiber too", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const gate = host.createAutoEvent();
    const holder = host.spawn(function* () {
      yield* crst.enter();
      yield* gate.wait();
      crst.leave();
    });
    const waits: Record<string, (f: FiberContext) => Generator<unknown, unknown>> = {
      sleep: function* (f) {
        yield* f.sleep(INFINITE);
      },
      join: function* (f) {
        yield* f.join(holder);
      },
      crst: function* () {
        yield* crst.enter();
      },
    };
    const victims = Object.entries(waits).map(([name, wait]) =>
      host.spawn(function* (f) {
        try {
          yield* wait(f);
        } catch (e) {
          f.resetAbort(); // (an abort sticks: reset, the fiber ends as its body does)
          return `${name}: ${(e as Error).name}`;
        }
        return `${name}: not aborted`;
      }),
    );
    host.spawn(function* (f) {
      yield* f.sleep(1);
      for (const v of victims) v.abort();
      yield* f.yield();
      gate.set();
    });
    host.runUntilIdle();
    expect(await Promise.all(victims.map((v) => v.result))).toEqual([
      "sleep: TaskAbortError",
      "join: TaskAbortError",
      "crst: TaskAbortError",
    ]);
    expect(holder.done).toBe(true);
    expect(crst.waiting()).toEqual([]);
  });

  it("runs finally blocks, innermost first", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    const log: string[] = [];
    const victim = host.spawn(function* (f) {
      try {
        yield* f.managed(function* () {
          try {
            yield* ev.wait();
          } finally {
            log.push("inner finally");
          }
        });
      } finally {
        log.push("outer finally");
      }
    });
    host.spawn(function* () {
      victim.abort();
    });
    host.runUntilIdle();
    expect(log).toEqual(["inner finally", "outer finally"]);
    expect(await expectFailure(victim)).toBeInstanceOf(TaskAbortError);
  });

  it("closes every open frame as it unwinds f.managed / f.unmanaged: depth 0, counters balanced", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    const seen: Record<string, unknown> = {};
    const victim = host.spawn(function* (f) {
      try {
        yield* f.managed(function* () {
          yield* f.unmanaged(9, function* () {
            yield* f.managed(function* () {
              seen.depthInside = f.task.depth;
              yield* ev.wait();
            });
          });
        });
      } catch (e) {
        seen.error = e;
        seen.depthInCatch = f.task.depth;
        seen.framesInCatch = f.task.frames();
        seen.modeInCatch = f.task.mode;
      }
    });
    host.spawn(function* () {
      victim.abort();
    });
    host.runUntilIdle();
    expect(seen.depthInside).toBe(3);
    expect(seen.error).toBeInstanceOf(TaskAbortError);
    expect(seen.depthInCatch).toBe(0);
    expect(seen.framesInCatch).toEqual([]);
    expect(seen.modeInCatch).toBe("unmanaged");
    expectBalanced(host);
    const c = victim.counters();
    expect(c.reverseEnterRuntime).toBe(2);
    expect(c.reverseLeaveRuntime).toBe(2);
    expect(c.leaveRuntime).toBe(1);
    expect(c.enterRuntime).toBe(1);
  });

  it("rejects task.result with the TaskAbortError unless the body caught it and reset it", async () => {
    const host = await virtualHost();
    const uncaught = host.spawn(function* (f) {
      yield* f.sleep(INFINITE);
    });
    let swallowedErr: unknown;
    const swallowed = host.spawn(function* (f) {
      try {
        yield* f.sleep(INFINITE);
      } catch (e) {
        swallowedErr = e;
      }
      return "swallowed"; // an abort sticks: the fiber still ends aborted
    });
    const recovered = host.spawn(function* (f) {
      try {
        yield* f.sleep(INFINITE);
      } catch (e) {
        if (!(e instanceof TaskAbortError)) throw e;
        f.resetAbort();
      }
      yield* f.yield(); // it goes on running after the abort
      return "recovered";
    });
    host.spawn(function* () {
      uncaught.abort();
      swallowed.abort();
      recovered.abort();
    });
    host.runUntilIdle();
    const err = await expectFailure(uncaught);
    expect(err).toBeInstanceOf(TaskAbortError);
    expect((err as TaskAbortError).rude).toBe(false);
    expect(swallowedErr).toBeInstanceOf(TaskAbortError);
    expect(await expectFailure(swallowed)).toBe(swallowedErr);
    expect(await recovered.result).toBe("recovered");
  });

  it("is delivered once: a fiber that caught and reset it goes on with yields and waits undisturbed", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    let aborts = 0;
    const victim = host.spawn(function* (f) {
      try {
        yield* ev.wait();
      } catch (e) {
        if (e instanceof TaskAbortError) aborts++;
        f.resetAbort();
      }
      for (let i = 0; i < 3; i++) yield* f.yield();
      expect(yield* ev.wait(10)).toBe(HOST_E_TIMEOUT);
      yield* f.managed(function* () {
        yield* f.sleep(1);
      });
      return "finished";
    });
    host.spawn(function* () {
      victim.abort();
    });
    host.runUntilIdle();
    expect(aborts).toBe(1);
    expect(await victim.result).toBe("finished");
  });

  it("two aborts requested before the fiber runs again are delivered once (a ready fiber)", async () => {
    const host = await virtualHost();
    let aborts = 0;
    const victim = host.spawn(function* (f) {
      for (let i = 0; i < 4; i++) {
        try {
          yield* f.yield();
        } catch (e) {
          if (e instanceof TaskAbortError) aborts++;
          f.resetAbort(); // (an abort sticks: reset, a second one would be thrown)
        }
      }
      return "finished";
    });
    host.spawn(function* () {
      expect(victim.abort()).toBe(S_OK);
      expect(victim.abort()).toBe(S_OK);
    });
    host.runUntilIdle();
    expect(aborts).toBe(1);
    expect(await victim.result).toBe("finished");
  });

  it("two aborts requested before the fiber runs again are delivered once (a waiting fiber)", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    let aborts = 0;
    const victim = host.spawn(function* (f) {
      try {
        yield* ev.wait();
      } catch (e) {
        if (e instanceof TaskAbortError) aborts++;
        f.resetAbort();
      }
      for (let i = 0; i < 3; i++) {
        try {
          yield* f.yield();
        } catch (e) {
          if (e instanceof TaskAbortError) aborts++;
          f.resetAbort(); // (an abort sticks: reset, a second one would be thrown)
        }
      }
      return "finished";
    });
    host.spawn(function* () {
      expect(victim.abort()).toBe(S_OK);
      expect(victim.abort()).toBe(S_OK);
    });
    host.runUntilIdle();
    expect(aborts).toBe(1);
    expect(await victim.result).toBe("finished");
  });

  it("a fiber aborted before it ever ran does not run its body", async () => {
    const host = await virtualHost();
    let ran = false;
    const t = host.spawn(function* () {
      ran = true;
    });
    expect(t.abort()).toBe(S_OK);
    host.runUntilIdle();
    expect(ran).toBe(false);
    expect(await expectFailure(t)).toBeInstanceOf(TaskAbortError);
  });

  it("the root task cannot be aborted: HOST_E_INVALIDOPERATION", async () => {
    const host = await virtualHost();
    expect(host.rootTask.abort()).toBe(HOST_E_INVALIDOPERATION);
    expect(host.rootTask.rudeAbort()).toBe(HOST_E_INVALIDOPERATION);
  });
});

describe("IHostTaskManager::BeginDelayAbort / EndDelayAbort", () => {
  it("a wait inside the region runs to completion; the abort is thrown at the first safe point after the region closes, not by EndDelayAbort", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    const log: string[] = [];
    const victim = host.spawn(function* (f) {
      expect(host.taskManager.beginDelayAbort()).toBe(S_OK);
      log.push(`waited ${yield* ev.wait()}`);
      log.push(`slept ${yield* f.sleep(5)}`);
      yield* f.yield();
      log.push(`end ${host.taskManager.endDelayAbort()}`);
      log.push("after end");
      try {
        yield* f.yield();
        log.push("not aborted");
      } catch (e) {
        log.push(e instanceof TaskAbortError ? "aborted" : String(e));
        throw e;
      }
    });
    host.spawn(function* (f) {
      yield* f.yield();
      log.push(`abort ${victim.abort()}`);
      yield* f.sleep(20);
      log.push("set");
      ev.set();
    });
    host.runUntilIdle();
    expect(log).toEqual([
      `abort ${S_OK}`,
      "set",
      `waited ${S_OK}`,
      `slept ${S_OK}`,
      `end ${S_OK}`,
      "after end",
      "aborted",
    ]);
    expect(host.now()).toBe(25);
    expect(await expectFailure(victim)).toBeInstanceOf(TaskAbortError);
  });

  it("a timed wait inside the region times out as usual", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    const log: string[] = [];
    const victim = host.spawn(function* (f) {
      host.taskManager.beginDelayAbort();
      log.push(`waited ${yield* ev.wait(30)} at ${host.now()}`);
      host.taskManager.endDelayAbort();
      yield* f.yield();
    });
    host.spawn(function* () {
      victim.abort();
    });
    host.runUntilIdle();
    expect(log).toEqual([`waited ${HOST_E_TIMEOUT} at 30`]);
    expect(await expectFailure(victim)).toBeInstanceOf(TaskAbortError);
  });

  it("does not nest: a second Begin, or an End without a Begin, answers E_UNEXPECTED", async () => {
    const host = await virtualHost();
    const answers: number[] = [];
    host.spawn(function* () {
      answers.push(host.taskManager.endDelayAbort());
      answers.push(host.taskManager.beginDelayAbort());
      answers.push(host.taskManager.beginDelayAbort());
      answers.push(host.taskManager.endDelayAbort());
      answers.push(host.taskManager.endDelayAbort());
    });
    host.runUntilIdle();
    expect(answers).toEqual([E_UNEXPECTED, S_OK, E_UNEXPECTED, S_OK, E_UNEXPECTED]);
  });

  it("a fiber aborting itself inside the region gets the abort at its next safe point regardless", async () => {
    const host = await virtualHost();
    const log: string[] = [];
    const t = host.spawn(function* (f) {
      host.taskManager.beginDelayAbort();
      log.push(`abort ${f.task.abort()}`);
      log.push("still running");
      try {
        yield* f.yield();
        log.push("not aborted");
      } catch (e) {
        log.push(e instanceof TaskAbortError ? "aborted" : String(e));
      }
    });
    host.runUntilIdle();
    expect(log).toEqual([`abort ${S_OK}`, "still running", "aborted"]);
    expect(t.done).toBe(true);
  });
});

describe("ICLRTask2::BeginPreventAsyncAbort / EndPreventAsyncAbort", () => {
  it("holds an abort back while the count is above 0; it is thrown at the first safe point after the last End", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    const log: string[] = [];
    const victim = host.spawn(function* (f) {
      expect(f.task.beginPreventAsyncAbort()).toBe(S_OK);
      expect(f.task.beginPreventAsyncAbort()).toBe(S_OK);
      log.push(`waited ${yield* ev.wait()}`);
      log.push(`end ${f.task.endPreventAsyncAbort()}`);
      yield* f.yield();
      log.push("still held");
      log.push(`end ${f.task.endPreventAsyncAbort()}`);
      try {
        yield* f.yield();
        log.push("not aborted");
      } catch (e) {
        log.push(e instanceof TaskAbortError ? "aborted" : String(e));
      }
    });
    host.spawn(function* (f) {
      victim.abort();
      yield* f.sleep(10);
      log.push("set");
      ev.set();
    });
    host.runUntilIdle();
    expect(log).toEqual(["set", `waited ${S_OK}`, `end ${S_OK}`, "still held", `end ${S_OK}`, "aborted"]);
  });

  it("an End made by another task while the fiber waits lets the abort wake it", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    let caught: unknown;
    const victim = host.spawn(function* () {
      try {
        yield* ev.wait();
      } catch (e) {
        caught = e;
      }
    });
    expect(victim.beginPreventAsyncAbort()).toBe(S_OK);
    host.spawn(function* (f) {
      victim.abort();
      yield* f.sleep(10);
      expect(caught).toBeUndefined();
      expect(victim.endPreventAsyncAbort()).toBe(S_OK);
    });
    host.runUntilIdle();
    expect(caught).toBeInstanceOf(TaskAbortError);
    expect(host.now()).toBe(10);
  });

  it("a fiber aborting itself gets the abort at its next safe point regardless", async () => {
    const host = await virtualHost();
    let caught: unknown;
    host.spawn(function* (f) {
      f.task.beginPreventAsyncAbort();
      f.task.abort();
      try {
        yield* f.sleep(10);
      } catch (e) {
        caught = e;
      }
    });
    host.runUntilIdle();
    expect(caught).toBeInstanceOf(TaskAbortError);
    expect(host.now()).toBe(0);
  });

  it("End without a Begin answers E_UNEXPECTED", async () => {
    const host = await virtualHost();
    const t = host.spawn(function* () {});
    expect(t.endPreventAsyncAbort()).toBe(E_UNEXPECTED);
    host.runUntilIdle();
  });
});

describe("ICLRTask::RudeAbort", () => {
  it("ends the fiber without running its finally blocks; task.result rejects with a TaskAbortError, rude true", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    const log: string[] = [];
    const victim = host.spawn(
      function* () {
        try {
          yield* ev.wait();
          log.push("woke");
        } catch {
          log.push("catch");
        } finally {
          log.push("finally");
        }
      },
      { name: "victim" },
    );
    host.spawn(function* () {
      expect(victim.rudeAbort()).toBe(S_OK);
    });
    host.runUntilIdle();
    expect(log).toEqual([]);
    expect(victim.done).toBe(true);
    const err = await expectFailure(victim);
    expect(err).toBeInstanceOf(TaskAbortError);
    expect((err as TaskAbortError).rude).toBe(true);
    expect(ev.waiting()).toEqual([]);
  });

  it("clears the fiber's frames and counts its open reverse enters as unmatched", async () => {
    const host = await virtualHost();
    const ev = host.createAutoEvent();
    const victim = host.spawn(function* (f) {
      yield* f.managed(function* () {
        yield* f.unmanaged(3, function* () {
          yield* f.managed(function* () {
            yield* ev.wait();
          });
        });
      });
    });
    host.spawn(function* (f) {
      yield* f.yield();
      expect(victim.depth).toBe(3);
      victim.rudeAbort();
    });
    host.runUntilIdle();
    expect(victim.done).toBe(true);
    expect(victim.depth).toBe(0);
    expect(victim.frames()).toEqual([]);
    const c = victim.counters();
    expect(c.reverseEnterRuntime).toBe(2);
    expect(c.reverseLeaveRuntime).toBe(0);
    expect(c.unmatchedReverseEnter).toBe(2);
    expect(host.counters().unmatchedReverseEnter).toBe(2);
    expect(host.checkInvariants()).toBe(true);
    await expectFailure(victim);
  });

  it("is not held back by a delay region or a prevent-async-abort count", async () => {
    const host = await virtualHost();
    const log: string[] = [];
    const delayed = host.spawn(function* (f) {
      host.taskManager.beginDelayAbort();
      f.task.beginPreventAsyncAbort();
      for (let i = 0; i < 10_000; i++) {
        yield* f.yield();
        log.push("tick");
      }
      return "not aborted after 10,000 yields";
    });
    host.spawn(function* (f) {
      yield* f.yield();
      delayed.rudeAbort();
    });
    host.runUntilIdle();
    expect(delayed.done).toBe(true);
    expect(log.length).toBeLessThanOrEqual(2);
    expect(((await expectFailure(delayed)) as TaskAbortError).rude).toBe(true);
  });

  it("a fiber that rudely aborts itself ends at its next safe point", async () => {
    const host = await virtualHost();
    const log: string[] = [];
    const t = host.spawn(function* (f) {
      try {
        f.task.rudeAbort();
        log.push("still running");
        yield* f.yield();
        log.push("after yield");
      } finally {
        log.push("finally");
      }
    });
    host.runUntilIdle();
    expect(log).toEqual(["still running"]);
    expect(((await expectFailure(t)) as TaskAbortError).rude).toBe(true);
  });
});

describe("spawn({ signal })", () => {
  it("aborting the signal aborts the fiber", async () => {
    const host = await virtualHost();
    const controller = new AbortController();
    let caught: unknown;
    const t = host.spawn(
      function* (f) {
        try {
          yield* f.sleep(INFINITE);
        } catch (e) {
          caught = e;
          throw e;
        }
      },
      { signal: controller.signal },
    );
    host.spawn(function* (f) {
      yield* f.sleep(7);
      controller.abort();
    });
    host.runUntilIdle();
    expect(caught).toBeInstanceOf(TaskAbortError);
    expect(await expectFailure(t)).toBe(caught);
    expect(host.now()).toBe(7);
  });

  it("an already-aborted signal aborts the fiber before its body runs", async () => {
    const host = await virtualHost();
    let ran = false;
    const t = host.spawn(
      function* () {
        ran = true;
      },
      { signal: AbortSignal.abort() },
    );
    host.runUntilIdle();
    expect(ran).toBe(false);
    const err = await expectFailure(t);
    expect(err).toBeInstanceOf(TaskAbortError);
    expect((err as TaskAbortError).rude).toBe(false);
  });

  it("the fiber's abort listener is removed from the signal when the fiber ends (a long-lived signal keeps no ended fibers)", async () => {
    const host = await virtualHost();
    const controller = new AbortController();
    const signal = controller.signal;
    const listeners = new Set<unknown>();
    const add = signal.addEventListener.bind(signal);
    const remove = signal.removeEventListener.bind(signal);
    signal.addEventListener = ((
      type: string,
      fn: EventListenerOrEventListenerObject,
      opts?: AddEventListenerOptions | boolean,
    ) => {
      if (type === "abort") listeners.add(fn);
      add(type, fn, opts);
    }) as typeof signal.addEventListener;
    signal.removeEventListener = ((
      type: string,
      fn: EventListenerOrEventListenerObject,
      opts?: EventListenerOptions | boolean,
    ) => {
      if (type === "abort") listeners.delete(fn);
      remove(type, fn, opts);
    }) as typeof signal.removeEventListener;
    for (let i = 0; i < 10; i++) {
      host.spawn(
        function* (f) {
          yield* f.yield();
        },
        { signal },
      );
    }
    expect(listeners.size).toBe(10);
    host.runUntilIdle();
    expect(host.liveTaskCount).toBe(1);
    expect(listeners.size).toBe(0);
  });

  it("aborting the signal after the fiber ended changes nothing, also for the slot's next tenant", async () => {
    const host = await virtualHost();
    const controller = new AbortController();
    const first = host.spawn(
      function* () {
        return 1;
      },
      { signal: controller.signal },
    );
    host.runUntilIdle();
    const gate = host.createAutoEvent();
    const second = host.spawn(function* () {
      yield* gate.wait();
      return 2;
    });
    expect(second[IDX]).toBe(first[IDX]);
    host.runUntilIdle();
    controller.abort();
    gate.set();
    host.runUntilIdle();
    expect(await first.result).toBe(1);
    expect(await second.result).toBe(2);
  });
});
