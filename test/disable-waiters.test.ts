// Issue 18, item 7: when the runtime is disabled (host.disable(), or a trap in the core), fibers
// waiting on what only the runtime could signal (events, semaphores, Crsts, joins, f.waitAny) get
// HOST_E_ABANDONED at once (docs/contract.md §4); a sleep, an f.await and a parent waiting for its
// children end as they would; a wait made afterwards answers HOST_E_CLRNOTAVAILABLE.
import { describe, expect, it } from "vitest";
import {
  createHost,
  hresultName,
  HOST_E_CLRNOTAVAILABLE,
  S_OK,
  type FiberContext,
  type Host,
  type Op,
} from "../src/index.js";

interface Waiters {
  host: Host;
  /** What each waiting fiber's wait answered, by its name (absent: still waiting). */
  answers: Record<string, string>;
}

/** A host with one fiber parked in each kind of wait the runtime ends; all of them waiting. */
async function parked(): Promise<Waiters> {
  const host = await createHost({ clock: "virtual", onDeadlock: () => {} });
  const answers: Record<string, string> = {};
  const auto = host.createAutoEvent();
  const manual = host.createManualEvent(false);
  const sem = host.createSemaphore(0, 1);
  const crst = host.createCrst();
  const blocker = host.spawn(function* (f) {
    yield* crst.enter();
    yield* f.sleep(); // holds the Crst until aborted
  });
  const waits: [string, (f: FiberContext) => Op<number | { hr: number; index: number }>][] = [
    ["autoEvent", () => auto.wait()],
    ["manualEvent", () => manual.wait()],
    ["semaphore", () => sem.wait()],
    ["crst", () => crst.enter()],
    ["join", (f) => f.join(blocker)],
    ["waitAny", (f) => f.waitAny([auto, sem, blocker])],
  ];
  for (const [name, wait] of waits) {
    host.spawn(
      function* (f) {
        const r = yield* wait(f);
        answers[name] = hresultName(typeof r === "number" ? r : r.hr);
        if (typeof r !== "number") answers[`${name} index`] = String(r.index);
      },
      { name },
    );
  }
  host.runUntilIdle();
  expect(host.dump().filter((d) => d.state === "waiting")).toHaveLength(waits.length + 1);
  expect(answers).toEqual({});
  return { host, answers };
}

const EVERY_WAIT = {
  autoEvent: "HOST_E_ABANDONED",
  manualEvent: "HOST_E_ABANDONED",
  semaphore: "HOST_E_ABANDONED",
  crst: "HOST_E_ABANDONED",
  join: "HOST_E_ABANDONED",
  waitAny: "HOST_E_ABANDONED",
  "waitAny index": "-1",
};

describe("disabling the runtime abandons the fibers waiting on it", () => {
  it("host.disable(): fibers waiting on events, a semaphore, a Crst, a join and a waitAny get HOST_E_ABANDONED at once", async () => {
    const { host, answers } = await parked();
    host.disable("test");
    host.runUntilIdle();
    expect(answers).toEqual(EVERY_WAIT);
  });

  it("a trap in the core (E_FAIL, then disabled for good) abandons them the same way", async () => {
    const { host, answers } = await parked();
    host.injectCoreFault();
    expect(hresultName(host.taskManager.getCurrentTask({}))).toBe("E_FAIL");
    expect(host.runtimeState).toBe("disabled");
    host.runUntilIdle();
    expect(answers).toEqual(EVERY_WAIT);
  });

  it("run() settles after disable(): only a fiber in an unlimited sleep (a timer, not the runtime's) stays blocked", async () => {
    const { host, answers } = await parked();
    host.disable();
    const report = await host.run();
    expect(answers).toEqual(EVERY_WAIT);
    expect(report.blocked).toBe(1);
    expect(
      host
        .dump()
        .filter((d) => d.state === "waiting")
        .map((d) => d.waitingOn),
    ).toEqual(["a timer (sleep)"]);
  });

  it("a wait made after the runtime is disabled answers HOST_E_CLRNOTAVAILABLE", async () => {
    const host = await createHost({ clock: "virtual" });
    const ev = host.createAutoEvent();
    const t = host.spawn(function* (f) {
      yield* f.yield();
      return [hresultName(yield* ev.wait()), hresultName(yield* f.sleep(5))];
    });
    host.disable();
    await host.run();
    expect(await t.result).toEqual([hresultName(HOST_E_CLRNOTAVAILABLE), hresultName(HOST_E_CLRNOTAVAILABLE)]);
  });

  it("a sleep and an f.await already under way are not the runtime's: they end as they would", async () => {
    const host = await createHost({ clock: "virtual" });
    let resolve!: (v: string) => void;
    const promise = new Promise<string>((r) => (resolve = r));
    const sleeper = host.spawn(function* (f) {
      return hresultName(yield* f.sleep(10));
    });
    const awaiter = host.spawn(function* (f) {
      return yield* f.await(promise);
    });
    host.runUntilIdle();
    host.disable();
    host.runUntilIdle();
    expect(sleeper.getState()).toBe("waiting");
    expect(awaiter.getState()).toBe("waiting");
    resolve("settled");
    await host.run();
    expect(await sleeper.result).toBe(hresultName(S_OK));
    expect(await awaiter.result).toBe("settled");
  });

  it("a parent waiting for its children is not abandoned: it ends once they have", async () => {
    const host = await createHost({ clock: "virtual" });
    const ev = host.createAutoEvent();
    let childAnswer = "";
    const parent = host.spawn(function* (f) {
      f.spawn(function* (g) {
        try {
          yield* g.sleep();
        } catch {
          // Waits while its parent waits for it (in a delay region: an abort sticks).
          yield* g.delayAbort(function* () {
            childAnswer = hresultName(yield* ev.wait());
          });
        }
      });
      yield* f.yield();
      return "parent";
    });
    host.runUntilIdle();
    expect(parent.getState()).toBe("waiting");
    host.disable();
    await host.run();
    expect(childAnswer).toBe("HOST_E_ABANDONED");
    expect(await parent.result).toBe("parent");
  });
});
