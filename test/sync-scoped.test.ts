// The sync objects' scoped forms (src/sync/scoped.ts): crst.lock(body), semaphore.acquire(body,
// ms, option) and event.waitOrThrow(ms, option). Each throws HResultError where the contract's wait
// answers a failure, and releases what it acquired however the body ends; bad arguments throw
// HResultError(E_INVALIDARG) where the operation is made.
import { describe, expect, it } from "vitest";
import {
  HResultError,
  TaskAbortError,
  hresultName,
  type Host,
  type Task,
  E_INVALIDARG,
  HOST_E_DEADLOCK,
  HOST_E_INVALIDOPERATION,
  HOST_E_NOT_OWNER,
  HOST_E_TIMEOUT,
  S_OK,
  WAIT_ALERTABLE,
} from "../src/index.js";
import { expectFailure, virtualHost } from "./support/fibers.js";

function locksHeld(t: Task): number {
  const out: { value?: number } = {};
  expect(t.locksHeld(out)).toBe(S_OK);
  return out.value!;
}

/** What `e` is, as a test compares it: the HRESULT's name of an HResultError, or what else it is. */
function hrOf(e: unknown): string {
  return e instanceof HResultError ? hresultName(e.hr) : `not an HResultError: ${String(e)}`;
}

/** A fiber that sleeps in steps and counts them: what it answers shows nothing disturbed it. */
function bystander(host: Host): Task<string> {
  return host.spawn(
    function* (f) {
      let steps = 0;
      for (let i = 0; i < 5; i++) if ((yield* f.sleep(7)) === S_OK) steps++;
      return `${steps} steps at ${host.now()}`;
    },
    { name: "bystander" },
  );
}

describe("crst.lock(body)", () => {
  it("enters, answers the body's value, and leaves: a contender gets it after the body", async () => {
    const host = await virtualHost();
    const crst = host.createCrst({ name: "a" });
    const log: string[] = [];
    const by = bystander(host);
    const owner = host.spawn(
      function* (f) {
        const v = yield* crst.lock(function* () {
          log.push(`owner in, owner is ${crst.getOwner() === f.task}`);
          yield* f.sleep(10); // the contender waits meanwhile
          log.push("owner out");
          return 42;
        });
        // Left: handed straight to the contender, which waited for it.
        log.push(`owner after: owns ${crst.getOwner() === f.task}, locks ${locksHeld(f.task)}`);
        return v;
      },
      { name: "owner" },
    );
    host.spawn(function* (f) {
      yield* f.yield();
      log.push(`contender: ${yield* crst.lock(() => (crst.getOwner() === f.task ? "in" : "not owner"))}`);
    });
    host.runUntilIdle();
    expect(await owner.result).toBe(42);
    expect(log).toEqual(["owner in, owner is true", "owner out", "owner after: owns false, locks 0", "contender: in"]);
    expect(crst.getOwner()).toBe(null);
    expect(await by.result).toBe("5 steps at 35");
  });

  it("nests: the owner locks it again inside its body (recursive), and it is free only after the outer body", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const t = host.spawn(function* (f) {
      const inner = yield* crst.lock(function* () {
        return yield* crst.lock(() => locksHeld(f.task));
      });
      return [inner, crst.getOwner() === null, locksHeld(f.task)];
    });
    host.runUntilIdle();
    // (LocksHeld counts the Crst once however often it is entered.)
    expect(await t.result).toEqual([1, true, 0]);
  });

  it("takes a plain function whose result is a value, an operation, or a bare iterator (next alone)", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const t = host.spawn(function* (f) {
      const value = yield* crst.lock(() => "value");
      const op = yield* crst.lock(() => f.sleep(5)); // S_OK once slept
      let n = 0;
      // (It yields f.yield() twice, a plain `yield op`, then answers how often it was stepped.)
      const bare: Iterator<unknown, number> = {
        next: () => (++n < 3 ? { done: false, value: f.yield() } : { done: true, value: n }),
      };
      const stepped = yield* crst.lock(() => bare);
      return [value, op, stepped, host.now(), crst.getOwner()];
    });
    host.runUntilIdle();
    expect(await t.result).toEqual(["value", S_OK, 3, 5, null]);
  });

  it("leaves when the body throws, and the body's error propagates unchanged", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const boom = new Error("body broke");
    const seen: unknown[] = [];
    const t = host.spawn(function* (f) {
      try {
        yield* crst.lock(function* () {
          yield* f.yield();
          throw boom;
        });
      } catch (e) {
        seen.push(e, crst.getOwner(), locksHeld(f.task));
      }
      // A plain function's throw too, before any yield.
      yield* crst.lock(() => {
        throw boom;
      });
    });
    host.runUntilIdle();
    expect(await expectFailure(t)).toBe(boom);
    expect(seen).toEqual([boom, null, 0]);
    expect(crst.getOwner()).toBe(null);
  });

  it.each(["release", "debug"] as const)(
    "leaves when the fiber is aborted inside the body: a waiter gets the lock (%s core)",
    async (core) => {
      const host = await virtualHost({ core });
      const crst = host.createCrst({ name: "a" });
      const log: string[] = [];
      const by = bystander(host);
      const victim = host.spawn(
        function* (f) {
          yield* crst.lock(function* () {
            log.push("victim in");
            yield* f.sleep(); // until aborted
            log.push("never");
          });
        },
        { name: "victim" },
      );
      const waiter = host.spawn(
        function* (f) {
          yield* f.yield();
          return yield* crst.lock(() => {
            log.push(`waiter in at ${host.now()}`);
            return crst.getOwner() === f.task;
          });
        },
        { name: "waiter" },
      );
      host.runUntilIdle();
      // (Names: an equality that walks a task would iterate it, and a task's iterator is its join.)
      expect(crst.waiting().map(String)).toEqual([String(waiter)]);
      expect(victim.abort("stop")).toBe(S_OK);
      host.runUntilIdle();
      const err = await expectFailure(victim);
      expect(err).toBeInstanceOf(TaskAbortError);
      expect(await waiter.result).toBe(true);
      expect(log).toEqual(["victim in", "waiter in at 35"]);
      expect(crst.getOwner()).toBe(null);
      expect(await by.result).toBe("5 steps at 35");
    },
  );

  it("a rude abort runs no handler: the Crst is abandoned (a waiter's lock throws HOST_E_ABANDONED), a semaphore's unit is not given back", async () => {
    // On the debug core too: its fibers' waits do not go through the task's wait face.
    const host = await virtualHost({ core: "debug" });
    const crst = host.createCrst({ name: "a" });
    const sem = host.createSemaphore(1, 1);
    const victim = host.spawn(function* (f) {
      yield* crst.lock(function* () {
        yield* sem.acquire(() => f.sleep()); // until aborted
      });
    });
    const waiter = host.spawn(function* (f) {
      yield* f.yield();
      yield* crst.lock(() => "never");
    });
    host.spawn(function* (f) {
      yield* f.sleep(10);
      victim.rudeAbort();
    });
    host.runUntilIdle();
    expect(await expectFailure(victim)).toBeInstanceOf(TaskAbortError);
    const err = await expectFailure(waiter);
    expect(hrOf(err)).toBe("HOST_E_ABANDONED");
    expect((err as Error).message).toContain("its owner ended while it held it");
    expect([crst.getOwner(), sem.currentCount]).toEqual([null, 0]);
  });

  it("a deadlock (two fibers, two Crsts, opposite order) throws HResultError(HOST_E_DEADLOCK) and holds nothing", async () => {
    const host = await virtualHost();
    const a = host.createCrst({ name: "a" });
    const b = host.createCrst({ name: "b" });
    const by = bystander(host);
    const log: string[] = [];
    const first = host.spawn(
      function* (f) {
        return yield* a.lock(function* () {
          yield* f.yield(); // second takes b meanwhile
          return yield* b.lock(() => "first had both");
        });
      },
      { name: "first" },
    );
    const second = host.spawn(
      function* (f) {
        yield* b.lock(function* () {
          yield* f.yield(); // first now waits for b
          log.push("second asks for a");
          yield* a.lock(() => log.push("never"));
        });
      },
      { name: "second" },
    );
    host.runUntilIdle();
    const err = await expectFailure(second);
    expect(hrOf(err)).toBe("HOST_E_DEADLOCK");
    expect((err as Error).message).toContain('crst "a".lock(body)');
    expect((err as Error).message).toContain("would deadlock");
    expect((err as Error).message).toContain("in one order");
    // The deadlock broke: second left b on its way out, and first had both.
    expect(await first.result).toBe("first had both");
    expect(log).toEqual(["second asks for a"]);
    expect([a.getOwner(), b.getOwner()]).toEqual([null, null]);
    expect(await by.result).toBe("5 steps at 35");
  });

  it("a Crst closed while the fiber waits for it throws HResultError(HOST_E_ABANDONED); the body does not run", async () => {
    const host = await virtualHost();
    const crst = host.createCrst({ name: "a" });
    const ran: string[] = [];
    const owner = host.spawn(function* (f) {
      return yield* crst.lock(function* () {
        yield* f.sleep(10);
        crst.close();
        yield* f.sleep(10);
        return "owner done"; // close released it: nothing to leave, and no error
      });
    });
    const waiter = host.spawn(function* (f) {
      yield* f.yield();
      yield* crst.lock(() => ran.push("waiter"));
    });
    host.runUntilIdle();
    expect(await owner.result).toBe("owner done");
    const err = await expectFailure(waiter);
    expect(hrOf(err)).toBe("HOST_E_ABANDONED");
    expect((err as Error).message).toContain("was closed");
    expect(ran).toEqual([]);
  });

  it("an alertable lock interrupted by task.alert() throws HResultError(HOST_E_INTERRUPTED)", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const owner = host.spawn(function* (f) {
      yield* crst.lock(() => f.sleep(50));
    });
    const waiter = host.spawn(function* (f) {
      yield* f.yield();
      yield* crst.lock(() => "never", WAIT_ALERTABLE);
    });
    const alerts: number[] = [];
    host.spawn(function* (f) {
      yield* f.sleep(10);
      alerts.push(crst.waiting().length, waiter.alert());
    });
    host.runUntilIdle();
    expect(alerts).toEqual([1, S_OK]);
    const err = await expectFailure(waiter);
    expect(hrOf(err)).toBe("HOST_E_INTERRUPTED");
    expect((err as Error).message).toContain("WAIT_ALERTABLE");
    await owner.result;
    expect(crst.getOwner()).toBe(null);
  });

  it("a body that leaves the Crst itself makes the lock throw HResultError(HOST_E_NOT_OWNER), the body's error as cause", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const boom = new Error("body broke");
    const t = host.spawn(function* () {
      yield* crst.lock(() => {
        crst.leave();
        throw boom;
      });
    });
    host.runUntilIdle();
    const err = await expectFailure(t);
    expect(hrOf(err)).toBe(hresultName(HOST_E_NOT_OWNER));
    expect((err as Error).message).toContain("left it itself");
    expect((err as Error).cause).toBe(boom);
  });

  it("an object of another host, used in this host's fiber, throws HResultError(E_INVALIDARG); the body does not run", async () => {
    const host = await virtualHost();
    const other = await virtualHost();
    const ran: string[] = [];
    const forms = [
      () => other.createCrst().lock(() => ran.push("lock")),
      () => other.createSemaphore(1, 1).acquire(() => ran.push("acquire")),
      () => other.createAutoEvent().waitOrThrow(0),
    ];
    const fibers = forms.map((form) =>
      host.spawn(function* () {
        yield* form();
      }),
    );
    host.runUntilIdle();
    for (const t of fibers) {
      const err = await expectFailure(t);
      expect(hrOf(err)).toBe("E_INVALIDARG");
      expect((err as Error).message).toContain("belongs to another host");
    }
    expect(ran).toEqual([]);
  });

  it("made outside any fiber, it throws HResultError(HOST_E_INVALIDOPERATION) when run", async () => {
    const host = await virtualHost();
    const op = host.createCrst().lock(() => 1);
    expect(() => op.next()).toThrow(HResultError);
    let thrown: unknown;
    try {
      host
        .createCrst()
        .lock(() => 1)
        .next();
    } catch (e) {
      thrown = e;
    }
    expect(hrOf(thrown)).toBe(hresultName(HOST_E_INVALIDOPERATION));
    expect((thrown as Error).message).toContain("outside any fiber");
  });

  it("a body that gives a promise throws HResultError(E_INVALIDARG) in the fiber, and the Crst is left", async () => {
    const host = await virtualHost();
    const crst = host.createCrst();
    const t = host.spawn(function* () {
      yield* crst.lock((() => Promise.resolve(1)) as unknown as () => number);
    });
    host.runUntilIdle();
    const err = await expectFailure(t);
    expect(hrOf(err)).toBe("E_INVALIDARG");
    expect((err as Error).message).toContain("gave a Promise");
    expect(crst.getOwner()).toBe(null);
  });
});

describe("semaphore.acquire(body, ms, option)", () => {
  it("takes a unit, answers the body's value, gives it back: at most `count` bodies at once", async () => {
    const host = await virtualHost();
    const sem = host.createSemaphore(2, 2, { name: "slots" });
    let inside = 0;
    let most = 0;
    const workers = [1, 2, 3, 4, 5].map((n) =>
      host.spawn(function* (f) {
        return yield* sem.acquire(function* () {
          most = Math.max(most, ++inside);
          yield* f.sleep(10);
          inside--;
          return n * 10;
        });
      }),
    );
    host.runUntilIdle();
    expect(await Promise.all(workers.map((w) => w.result))).toEqual([10, 20, 30, 40, 50]);
    expect(most).toBe(2);
    expect(host.now()).toBe(30);
    expect(sem.currentCount).toBe(2);
  });

  it("a timeout throws HResultError(HOST_E_TIMEOUT): the body does not run and no unit is taken", async () => {
    const host = await virtualHost();
    const sem = host.createSemaphore(0, 1, { name: "slots" });
    const by = bystander(host);
    const ran: string[] = [];
    const t = host.spawn(function* () {
      yield* sem.acquire(() => ran.push("body"), 20);
    });
    host.runUntilIdle();
    const err = await expectFailure(t);
    expect(hrOf(err)).toBe("HOST_E_TIMEOUT");
    expect((err as Error).message).toContain('semaphore "slots".acquire(body)');
    expect((err as Error).message).toContain("within 20 ms");
    expect(host.now()).toBe(35); // (the bystander's last sleep; the timeout came at 20)
    expect(ran).toEqual([]);
    expect(sem.currentCount).toBe(0);
    expect(await by.result).toBe("5 steps at 35");
  });

  it("gives the unit back when the body throws or the fiber is aborted inside it; a waiter gets it", async () => {
    const host = await virtualHost();
    const sem = host.createSemaphore(1, 1);
    const boom = new Error("body broke");
    const thrower = host.spawn(function* (f) {
      yield* sem.acquire(function* () {
        yield* f.sleep(5);
        throw boom;
      });
    });
    const victim = host.spawn(function* (f) {
      yield* f.yield();
      yield* sem.acquire(() => f.sleep()); // until aborted
    });
    const waiter = host.spawn(function* (f) {
      yield* f.sleep(1);
      return yield* sem.acquire(() => `got it at ${host.now()}`);
    });
    host.runUntilIdle();
    expect(await expectFailure(thrower)).toBe(boom);
    expect(sem.currentCount).toBe(0); // the victim holds it
    expect(sem.waiting().map(String)).toEqual([String(waiter)]);
    victim.abort();
    host.runUntilIdle();
    expect(await expectFailure(victim)).toBeInstanceOf(TaskAbortError);
    expect(await waiter.result).toBe("got it at 5");
    expect(sem.currentCount).toBe(1);
  });
});

describe("event.waitOrThrow(ms, option)", () => {
  it("answers once the event is set (an auto event's set is consumed)", async () => {
    const host = await virtualHost();
    const auto = host.createAutoEvent();
    const manual = host.createManualEvent(false);
    const log: unknown[] = [];
    host.spawn(function* (f) {
      log.push(yield* auto.waitOrThrow(), host.now());
      log.push(yield* manual.waitOrThrow(100), host.now());
      log.push(yield* manual.waitOrThrow(0)); // still set
      log.push(yield* auto.wait(0)); // consumed by the first wait
      void f;
    });
    host.spawn(function* (f) {
      yield* f.sleep(3);
      auto.set();
      yield* f.sleep(4);
      manual.set();
    });
    host.runUntilIdle();
    expect(log).toEqual([undefined, 3, undefined, 7, undefined, HOST_E_TIMEOUT]);
  });

  it("throws HResultError: HOST_E_TIMEOUT, HOST_E_INTERRUPTED (alertable), HOST_E_ABANDONED (closed)", async () => {
    const host = await virtualHost();
    const by = bystander(host);
    const auto = host.createAutoEvent({ name: "jobs" });
    const closing = host.createAutoEvent({ name: "closing" });
    const manual = host.createManualEvent({ initialState: false, name: "ready" });
    const timedOut = host.spawn(function* () {
      yield* auto.waitOrThrow(10);
    });
    const alerted = host.spawn(function* () {
      yield* manual.waitOrThrow(1000, WAIT_ALERTABLE);
    });
    const closed = host.spawn(function* () {
      yield* closing.waitOrThrow();
    });
    host.spawn(function* (f) {
      yield* f.sleep(5);
      alerted.alert();
      closing.close();
    });
    host.runUntilIdle();
    const [t, a, c] = await Promise.all([expectFailure(timedOut), expectFailure(alerted), expectFailure(closed)]);
    expect([hrOf(t), hrOf(a), hrOf(c)]).toEqual(["HOST_E_TIMEOUT", "HOST_E_INTERRUPTED", "HOST_E_ABANDONED"]);
    expect((t as Error).message).toContain('autoEvent "jobs".waitOrThrow()');
    expect((a as Error).message).toContain('manualEvent "ready"');
    expect((c as Error).message).toContain("was closed");
    expect(await by.result).toBe("5 steps at 35");
  });
});

describe("bad arguments: HResultError(E_INVALIDARG) where the operation is made, naming the argument", () => {
  const gen = function* () {};
  const cases: [string, (h: Host) => unknown, string][] = [
    ["crst.lock(42)", (h) => h.createCrst().lock(42 as never), "body"],
    ["crst.lock(undefined)", (h) => h.createCrst().lock(undefined as never), "body"],
    ["crst.lock(an async function)", (h) => h.createCrst().lock((async () => 1) as never), "body"],
    ["crst.lock(an async generator function)", (h) => h.createCrst().lock(async function* () {} as never), "body"],
    ["crst.lock(body, option 8)", (h) => h.createCrst().lock(gen, 8), "option"],
    ["semaphore.acquire(null)", (h) => h.createSemaphore(1, 1).acquire(null as never), "body"],
    ["semaphore.acquire(body, -1)", (h) => h.createSemaphore(1, 1).acquire(gen, -1), "ms"],
    ["semaphore.acquire(body, 1.5)", (h) => h.createSemaphore(1, 1).acquire(gen, 1.5), "ms"],
    ['semaphore.acquire(body, "100")', (h) => h.createSemaphore(1, 1).acquire(gen, "100" as never), "ms"],
    ["semaphore.acquire(body, 10, option -1)", (h) => h.createSemaphore(1, 1).acquire(gen, 10, -1), "option"],
    ["autoEvent.waitOrThrow(-1)", (h) => h.createAutoEvent().waitOrThrow(-1), "ms"],
    ["autoEvent.waitOrThrow(NaN)", (h) => h.createAutoEvent().waitOrThrow(NaN), "ms"],
    ["manualEvent.waitOrThrow(2^32)", (h) => h.createManualEvent(false).waitOrThrow(2 ** 32), "ms"],
    ["manualEvent.waitOrThrow(5n)", (h) => h.createManualEvent(false).waitOrThrow(5n as never), "ms"],
    ["manualEvent.waitOrThrow(10, option 8)", (h) => h.createManualEvent(false).waitOrThrow(10, 8), "option"],
  ];

  it.each(cases)("%s throws at the call, in a fiber and outside one; nothing else changes", async (_, make, arg) => {
    const host = await virtualHost();
    const by = bystander(host);
    const thrown: unknown[] = [];
    const catching = (fn: () => unknown): void => {
      try {
        fn();
        thrown.push("did not throw");
      } catch (e) {
        thrown.push(e);
      }
    };
    catching(() => make(host)); // outside any fiber
    host.spawn(function* () {
      catching(() => make(host));
    });
    host.runUntilIdle();
    expect(thrown.map(hrOf)).toEqual(["E_INVALIDARG", "E_INVALIDARG"]);
    for (const e of thrown) {
      expect((e as HResultError).hr).toBe(E_INVALIDARG);
      // The message names the argument: "… takes a generator function", "…: ms takes …", "…: option takes …".
      expect((e as Error).message).toMatch(
        arg === "body" ? /\(body[,)].* takes a generator function/ : `: ${arg} takes`,
      );
    }
    expect(await by.result).toBe("5 steps at 35");
  });

  it("the valid edge values are taken: ms 0 and INFINITE (omitted), every WAIT_* option", async () => {
    const host = await virtualHost();
    const sem = host.createSemaphore(1, 1);
    const t = host.spawn(function* () {
      const a = yield* sem.acquire(() => "a", 0);
      const b = yield* sem.acquire(() => "b", 0xffffffff, 0x7);
      return a + b;
    });
    host.runUntilIdle();
    expect(await t.result).toBe("ab");
  });
});

describe("the contract's HRESULT-answering waits are unchanged", () => {
  it("crst.enter() still answers HOST_E_DEADLOCK (and does not throw)", async () => {
    const host = await virtualHost();
    const a = host.createCrst();
    const b = host.createCrst();
    const answers: number[] = [];
    const first = host.spawn(function* (f) {
      yield* a.enter();
      yield* f.yield();
      answers.push(yield* b.enter());
      b.leave();
      a.leave();
    });
    host.spawn(function* (f) {
      yield* b.enter();
      yield* f.yield();
      answers.push(yield* a.enter());
      b.leave();
    });
    host.runUntilIdle();
    await first.result;
    expect(answers.map(hresultName)).toEqual([hresultName(HOST_E_DEADLOCK), hresultName(S_OK)]);
  });
});
