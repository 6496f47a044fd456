// The trace recorder keeps a fiber's name and a wait's text only while its ring refers to them (or
// the fiber is live): what it forgets is never something the exported trace still shows. (The
// heap check itself is test/trace-bound.node.test.ts.)
import { describe, expect, it } from "vitest";
import { createHost, S_OK, type ChromeTraceEvent, type Host, type Task } from "../src/index.js";

const CORES = ["release", "debug"] as const;

/** The names of the threads in an exported trace, in the order they first appear. */
function threadNames(events: ChromeTraceEvent[]): unknown[] {
  return events.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => e.args?.name);
}

/** What each wait in the trace waited on, as [thread name, text]. */
function waits(events: ChromeTraceEvent[]): [unknown, unknown][] {
  const names = new Map(events.filter((e) => e.ph === "M").map((e) => [e.tid, e.args?.name]));
  return events.filter((e) => e.name === "wait").map((e) => [names.get(e.tid), e.args?.on]);
}

/** Spawns `n` named fibers that do not run yet (a spawn names its fiber; it records no event). */
function spawnIdle(host: Host, n: number, prefix: string): Task[] {
  return Array.from({ length: n }, (_, i) => host.spawn(function* () {}, { name: `${prefix}-${i}` }));
}

describe.each(CORES)("%s core: names and wait texts the ring still refers to", (core) => {
  it("an ended fiber's name survives while its events are in the ring, however many fibers are named since", async () => {
    const host = await createHost({ clock: "virtual", core });
    expect(host.trace.start(64)).toBe(S_OK);
    host.spawn(
      function* (f) {
        yield* f.managed(() => 1);
      },
      { name: "early" },
    );
    host.runUntilIdle();
    // 5,000 names with no event yet: the recorder looks at the ring several times meanwhile.
    const idle = spawnIdle(host, 5_000, "idle");
    expect(threadNames(host.trace.toChromeTrace().traceEvents)).toEqual(["early"]);
    // Then they run: each (live when it was named) is reported by its name.
    host.runUntilIdle();
    expect(idle.every((t) => t.getState() === "done")).toBe(true);
    const names = threadNames(host.trace.toChromeTrace().traceEvents);
    expect(names.length).toBeGreaterThan(5);
    const last = idle.length - 1;
    expect(names.at(-1)).toBe(`idle-${last}`);
    for (const [i, name] of names.entries()) expect(name).toBe(`idle-${last - (names.length - 1) + i}`);
  });

  it("a fiber live from the start, silent while thousands of others come and go, is named when it acts", async () => {
    const host = await createHost({ clock: "virtual", core });
    const gate = host.createManualEvent(false);
    const sleeper = host.spawn(
      function* () {
        yield* gate.wait();
      },
      { name: "sleeper" },
    );
    host.runUntilIdle();
    // Started after the sleeper was spawned: start() names the live fibers.
    expect(host.trace.start(16)).toBe(S_OK);
    for (let i = 0; i < 3_000; i++)
      host.spawn(
        function* (f) {
          yield* f.yield();
        },
        { name: `passer-${i}` },
      );
    host.runUntilIdle();
    gate.set();
    host.runUntilIdle();
    expect(sleeper.getState()).toBe("done");
    const events = host.trace.toChromeTrace().traceEvents;
    expect(host.trace.dropped).toBeGreaterThan(3_000);
    expect(threadNames(events)).toContain("sleeper");
    expect(threadNames(events).every((n) => n === "sleeper" || /^passer-\d+$/.test(String(n)))).toBe(true);
  });

  it("wait texts: every wait the ring holds reads its own text, exported at any point of a long run", async () => {
    const host = await createHost({ clock: "virtual", core });
    expect(host.trace.start(128)).toBe(S_OK);
    let checked = 0;
    let shared = 0;
    // Each joiner waits on a text of its own (its child's end), then on one all share (a sleep):
    // the recorder drops texts as the ring moves on and interns the shared one again and again.
    for (let batch = 0; batch < 250; batch++) {
      for (let j = 0; j < 5; j++) {
        const i = batch * 5 + j;
        host.spawn(
          function* (f) {
            const child = f.spawn(function* () {}, { name: `child-${i}` });
            if ((yield* f.join(child)) !== S_OK) throw new Error(`join of child-${i} failed`);
            yield* f.sleep(1);
          },
          { name: `joiner-${i}` },
        );
      }
      host.runUntilIdle();
      for (const [who, on] of waits(host.trace.toChromeTrace().traceEvents)) {
        const i = /^joiner-(\d+)$/.exec(String(who))?.[1];
        expect(i, `a wait by ${String(who)}`).toBeDefined();
        if (on === "a timer (sleep)") shared++;
        else expect(on, `the wait of joiner-${i}`).toMatch(new RegExp(`^task \\d+ \\(child-${i}\\) to end$`));
        checked++;
      }
    }
    expect(host.liveTaskCount).toBe(1);
    expect(shared).toBeGreaterThan(0);
    expect(checked - shared).toBeGreaterThan(0);
  });
});
