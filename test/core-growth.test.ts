// The core's memory growing past its reservation (createHost({ initialMemoryBytes })): a growth
// detaches the buffer the door's views are on, and the door makes its views and its fast-path
// closures again (src/core/memory.ts, transitions.ts). Each test makes the memory really grow
// (the buffer's size, not only the core's count of used pages) and checks that the transitions
// and the switch, on their fast paths again, answer what the core answers: the same steps are run
// on a second host whose transitions all go to the core (tracing keeps the door's control word
// set), and every answer, depth, frame and counter must match.

import { describe, expect, it } from "vitest";
import {
  E_INVALIDARG,
  HResultError,
  MIN_MEMORY_BYTES,
  S_OK,
  createHost,
  type Counters,
  type FiberContext,
  type Frame,
  type Host,
  type HostOptions,
  type Out,
  type Task,
} from "../src/index.js";
import { DEFAULT_INITIAL_MEMORY_BYTES } from "../src/host/options.js";
import { CORES, H, LEAVE, REVERSE, type Core, newHost } from "./support/core.js";

import { IDX } from "../src/core/names.js";
const PAGE = 64 * 1024;
/** The least reservation: the core's fixed areas and its first chunk of task slots, nothing more. */
const TIGHT: HostOptions = { initialMemoryBytes: MIN_MEMORY_BYTES };

const bufferBytes = (host: Host): number => host.door.bufferBytes();

/**
 * Calls `make` (which takes a task slot) until the core's memory grows: a growth doubles the
 * memory ahead of need (src/core/memory.ts), so each one takes about as many tasks as all before.
 * Answers how many it made; `count`, when given, makes exactly that many instead.
 */
function untilGrown(host: Host, make: () => void, count?: number): number {
  const size = bufferBytes(host);
  if (count !== undefined) {
    for (let i = 0; i < count; i++) make();
    return count;
  }
  for (let n = 1; n <= 200_000; n++) {
    make();
    if (bufferBytes(host) > size) return n;
  }
  throw new Error("the core's memory never grew");
}
const createOne = (host: Host) => () => {
  expect(H(host.taskManager.createTask(0, function* () {}, undefined, {}))).toBe(H(S_OK));
};

/** A host whose transitions and switches all go to the core: tracing sets the door's control word. */
async function coreHost(core: Core): Promise<Host> {
  const host = await newHost(core);
  expect(H(host.trace.start(1024))).toBe(H(S_OK));
  return host;
}

/**
 * Counts the door's calls into the core's `transition`: from the next growth on for a lone door
 * (the closures made then take this function for what they leave to the core), from now on for
 * the shared fast paths (they read it at each call). A transition that answers without a call here
 * was answered by the fast path, over the new views.
 */
function countCoreTransitions(host: Host): { calls: number } {
  const door = host.door as unknown as { fnTransition: (op: number, target: number) => number };
  const inner = door.fnTransition;
  const counter = { calls: 0 };
  door.fnTransition = (op, target) => {
    counter.calls++;
    return inner(op, target);
  };
  return counter;
}

/** A small deterministic generator (xorshift32): both hosts of a test see the same steps. */
function random(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function current(host: Host): Task {
  const out: Out<Task> = {};
  expect(H(host.taskManager.getCurrentTask(out))).toBe(H(S_OK));
  return out.value!;
}

/** What a step left on a task: compared between the two hosts (the top frames: depth may be 20,000). */
function state(t: Task): { depth: number; top: Frame[]; counters: Counters } {
  const depth = t.depth;
  return { depth, top: depth <= 4 ? t.frames() : t.frames().slice(depth - 4), counters: t.counters() };
}

describe.each(CORES)("%s core", (core) => {
  describe("createHost({ initialMemoryBytes })", () => {
    it("reserves 1 MiB by default, the whole budget when maxMemoryBytes is smaller", async () => {
      expect(DEFAULT_INITIAL_MEMORY_BYTES).toBe(1024 * 1024);
      expect(bufferBytes(await newHost(core))).toBe(DEFAULT_INITIAL_MEMORY_BYTES);
      expect(bufferBytes(await newHost(core, { maxMemoryBytes: 5 * PAGE }))).toBe(5 * PAGE);
      expect(bufferBytes(await newHost(core, { maxMemoryBytes: 5 * PAGE + 100 }))).toBe(5 * PAGE);
    });

    it("reserves what it is given, rounded up to whole 64 KiB pages, and never more than the budget", async () => {
      expect(bufferBytes(await newHost(core, TIGHT))).toBe(MIN_MEMORY_BYTES);
      expect(bufferBytes(await newHost(core, { initialMemoryBytes: 8 * PAGE + 1 }))).toBe(9 * PAGE);
      expect(bufferBytes(await newHost(core, { initialMemoryBytes: 64 << 20 }))).toBe(64 << 20);
      const host = await newHost(core, { initialMemoryBytes: 5 * PAGE + 100, maxMemoryBytes: 5 * PAGE + 100 });
      expect(bufferBytes(host)).toBe(5 * PAGE);
      // The core's count: the pages it has taken (its fixed areas, ~33 KiB, and its first chunk of
      // 1,024 60-byte slots: 2 pages, where MIN_MEMORY_BYTES leaves room for frames and a trace ring).
      expect(host.coreMemoryBytes).toBe(2 * PAGE);
    });

    it.each([
      ["a string", "1048576"],
      ["NaN", Number.NaN],
      ["Infinity", Number.POSITIVE_INFINITY],
      ["below MIN_MEMORY_BYTES", MIN_MEMORY_BYTES - 1],
      ["negative", -PAGE],
      ["null", null],
    ])("rejects %s with E_INVALIDARG, naming the option", async (_what, value) => {
      let thrown: unknown;
      try {
        await newHost(core, { initialMemoryBytes: value as number });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(HResultError);
      expect(H((thrown as HResultError).hr)).toBe(H(E_INVALIDARG));
      expect((thrown as Error).message).toMatch(/initialMemoryBytes/);
    });

    it("rejects a reservation above maxMemoryBytes with E_INVALIDARG", async () => {
      await expect(newHost(core, { initialMemoryBytes: 8 * PAGE, maxMemoryBytes: 4 * PAGE })).rejects.toMatchObject({
        hr: E_INVALIDARG,
        message: expect.stringMatching(/at most maxMemoryBytes/),
      });
      await expect(createHost({ core, initialMemoryBytes: 2 ** 33 })).rejects.toBeInstanceOf(HResultError);
    });
  });

  describe("growing past the reservation", () => {
    /** Creates tasks until CreateTask fails: how many it made, and the answer. */
    function exhaust(host: Host): { made: number; hr: number } {
      for (let made = 0; made < 1_000_000; made++) {
        const hr = host.taskManager.createTask(0, function* () {}, undefined, {});
        if (hr !== S_OK) return { made, hr };
      }
      throw new Error("CreateTask never failed");
    }

    it("grows ahead of need (doubling, within maxMemoryBytes): 50,000 tasks take a few growths, not hundreds", async () => {
      const host = await newHost(core, TIGHT);
      let growths = 0;
      let size = bufferBytes(host);
      for (let i = 0; i < 50_000; i++) {
        createOne(host)();
        if (bufferBytes(host) !== size) {
          growths++;
          size = bufferBytes(host);
        }
      }
      // 50,000 slots are 6 MB, 49 chunks: growing by what each chunk needs, that was 46 growths;
      // doubling from 192 KiB, 4 (to 640 KiB, 1.5, 3.25 and 6.75 MiB).
      expect(growths).toBeGreaterThanOrEqual(3);
      expect(growths).toBeLessThanOrEqual(5);
      expect(host.coreMemoryBytes).toBeLessThan(bufferBytes(host)); // the pages ahead, not yet used
      expect(host.checkInvariants()).toBe(true);
    });

    it("the budget is unchanged: E_OUTOFMEMORY after as many tasks as with all of it reserved at once", async () => {
      const maxMemoryBytes = 40 * PAGE; // not a power of two times the reservation
      const growing = await newHost(core, { ...TIGHT, maxMemoryBytes });
      const reserved = await newHost(core, { initialMemoryBytes: maxMemoryBytes, maxMemoryBytes });
      const a = exhaust(growing);
      const b = exhaust(reserved);
      expect(H(a.hr)).toBe(H(b.hr));
      expect(a.made).toBe(b.made);
      expect(a.made).toBeGreaterThan(8 * 1024);
      expect(bufferBytes(growing)).toBe(maxMemoryBytes);
      expect(growing.coreMemoryBytes).toBe(reserved.coreMemoryBytes);
      expect(growing.checkInvariants()).toBe(true);
    });
  });

  describe("transitions by hand after the memory grew", () => {
    it("on the root task: fresh fast paths over the new views, answering as before the growth", async () => {
      const host = await newHost(core, TIGHT);
      const tm = host.taskManager;
      const calls = countCoreTransitions(host);
      // Frames opened before the growth, over the first views.
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(H(tm.leaveRuntime(0x11111111))).toBe(H(S_OK));
      const model: Frame[] = [REVERSE, LEAVE(0x11111111)];
      const reserved = bufferBytes(host);
      const before = host.rootTask.counters();
      for (let round = 0; round < 3; round++) {
        untilGrown(host, createOne(host));
        const callsBefore = calls.calls;
        // All four, on the fast path (no call into the core), over the frames of the old views.
        expect(H(tm.enterRuntime())).toBe(H(S_OK));
        expect(H(tm.reverseLeaveRuntime())).toBe(H(S_OK));
        expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
        expect(H(tm.leaveRuntime(0xf0000000 + round))).toBe(H(S_OK));
        expect(calls.calls, `round ${round}: no call into the core`).toBe(callsBefore);
        model[1] = LEAVE(0xf0000000 + round);
        expect(host.rootTask.frames()).toEqual(model);
        expect(host.rootTask.depth).toBe(2);
        expect(host.rootTask.mode).toBe("unmanaged");
      }
      expect(bufferBytes(host)).toBeGreaterThan(reserved);
      expect(host.rootTask.counters()).toMatchObject({
        enterRuntime: before.enterRuntime + 3,
        leaveRuntime: before.leaveRuntime + 3,
        reverseEnterRuntime: before.reverseEnterRuntime + 3,
        reverseLeaveRuntime: before.reverseLeaveRuntime + 3,
      });
      // Refusals still go to the core and change nothing: a reverse leave on a leave frame.
      const refused = tm.reverseLeaveRuntime();
      expect(H(refused)).not.toBe(H(S_OK));
      expect(calls.calls).toBeGreaterThan(0);
      expect(host.rootTask.frames()).toEqual(model);
      expect(H(tm.enterRuntime())).toBe(H(S_OK));
      expect(H(tm.reverseLeaveRuntime())).toBe(H(S_OK));
      expect(host.rootTask.depth).toBe(0);
      expect(host.checkInvariants()).toBe(true);
    });

    it("a fast path taken before the growth (a stale closure) still answers right, through the core", async () => {
      const host = await newHost(core, TIGHT);
      const door = host.door;
      const { reverseEnter, reverseLeave, leave, enter, tryExchange } = door;
      untilGrown(host, createOne(host));
      // A lone door's closures are made again over the new views; the shared fast paths (every
      // door's, once the process has two hosts, as here after the tests above) read the door's
      // views as they are at each call, so they stay (and take the door as `this`).
      expect(door.reverseEnter === reverseEnter).toBe(door.sharesFastPaths);
      const start = host.rootTask.counters();
      expect(H(reverseEnter.call(door))).toBe(H(S_OK));
      expect(H(leave.call(door, 7))).toBe(H(S_OK));
      expect(H(reverseLeave.call(door))).not.toBe(H(S_OK)); // the top frame is a leave: the core refuses
      expect(host.rootTask.frames()).toEqual([REVERSE, LEAVE(7)]);
      expect(H(enter.call(door))).toBe(H(S_OK));
      expect(H(reverseLeave.call(door))).toBe(H(S_OK));
      expect(host.rootTask.depth).toBe(0);
      const c = host.rootTask.counters();
      expect(c.reverseEnterRuntime - start.reverseEnterRuntime).toBe(1);
      expect(c.reverseLeaveRuntime - start.reverseLeaveRuntime).toBe(1);
      expect(c.leaveRuntime - start.leaveRuntime).toBe(1);
      expect(c.enterRuntime - start.enterRuntime).toBe(1);
      // The switch's closure over the old views declines (the caller then asks the core).
      const out: Out<Task> = {};
      host.taskManager.createTask(0, function* () {}, undefined, out);
      expect(tryExchange(host.rootTask, out.value!)).toBe(false);
      expect(current(host)).toBe(host.rootTask);
      expect(host.checkInvariants()).toBe(true);
    });

    it("a random walk over tasks, switches, deep stacks and growths answers step for step what the core answers", async () => {
      const steps = 3000;
      /** `grows`: how many tasks each "grow" step makes (from the grown host's run), or none. */
      const run = (host: Host, seed: number, grows: number[] = []) => {
        const counts: number[] = [];
        const next = random(seed);
        const tm = host.taskManager;
        const tasks: Task[] = [];
        const log: unknown[] = [];
        const sizes: number[] = []; // the buffer's size after each growth
        let size = bufferBytes(host);
        const fast = { ok: 0, fast: 0 };
        const calls = countCoreTransitions(host);
        for (let i = 0; i < steps; i++) {
          const r = next() % 100;
          const t = current(host);
          let what: string;
          let hr: number;
          if (r < 60) {
            const op = next() % 4;
            const target = next();
            const before = calls.calls;
            what = ["leave", "enter", "reverseEnter", "reverseLeave"][op];
            hr =
              op === 0
                ? tm.leaveRuntime(target)
                : op === 1
                  ? tm.enterRuntime()
                  : op === 2
                    ? tm.reverseEnterRuntime()
                    : tm.reverseLeaveRuntime();
            if (hr === S_OK && sizes.length > 0) {
              fast.ok++;
              if (calls.calls === before) fast.fast++;
            }
          } else if (r < 70) {
            const stackSize = [0, 256, 1024 * 1024][next() % 3];
            const out: Out<Task> = {};
            what = `create(${stackSize})`;
            hr = tm.createTask(stackSize, function* () {}, undefined, out);
            if (out.value) tasks.push(out.value);
          } else if (r < 80) {
            const pick = tasks.length === 0 ? null : tasks[next() % tasks.length];
            what = `switchIn #${pick?.[IDX]}`;
            hr = pick ? pick.switchIn() : S_OK;
          } else if (r < 88) {
            what = "switchOut";
            hr = t === host.rootTask ? S_OK : t.switchOut();
          } else if (r < 90) {
            what = "exitTask";
            hr = t === host.rootTask ? S_OK : t.exitTask();
          } else if (r < 92) {
            // Tasks until the memory grows (up to 4 MiB: each growth doubles it), as many on
            // the reference host.
            what = "grow";
            hr = S_OK;
            const made = grows.length > 0 ? grows.shift() : bufferBytes(host) < 4 << 20 ? undefined : 100;
            const n = untilGrown(
              host,
              () => {
                const out: Out<Task> = {};
                hr |= tm.createTask(0, function* () {}, undefined, out);
                if (out.value && next() % 64 === 0) tasks.push(out.value);
              },
              made,
            );
            counts.push(n);
          } else if (r < 94) {
            // A deep stack: the frame buffer doubles past the reservation (or the task's own
            // reservation answers COR_E_STACKOVERFLOW first).
            what = "deep";
            hr = S_OK;
            for (let k = 0; k < 20_000 && hr === S_OK; k++) hr = k % 2 ? tm.leaveRuntime(k) : tm.reverseEnterRuntime();
          } else {
            // Unwinds the current task's frames, whatever they are.
            what = "unwind";
            hr = S_OK;
            const frames = t.frames();
            for (let d = frames.length; d > 0 && hr === S_OK; d--)
              hr = frames[d - 1].kind === "leave" ? tm.enterRuntime() : tm.reverseLeaveRuntime();
          }
          const now = current(host);
          log.push({ i, what, hr: H(hr >>> 0), current: now[IDX], ...state(now), of: t[IDX], was: state(t) });
          if (bufferBytes(host) !== size) sizes.push((size = bufferBytes(host)));
        }
        return {
          log,
          sizes,
          counts,
          fast,
          totals: host.counters(),
          live: host.liveTaskCount,
          ok: host.checkInvariants(),
        };
      };
      for (const seed of [1, 0x9e3779b9]) {
        const grown = run(await newHost(core, TIGHT), seed);
        const reference = run(await coreHost(core), seed, [...grown.counts]);
        // The tight host really grew, several times, and its fast paths ran after the growths.
        expect(grown.sizes.length, `seed ${seed}: growths`).toBeGreaterThanOrEqual(4);
        expect(reference.counts).toEqual(grown.counts);
        expect(grown.fast.fast, `seed ${seed}: fast-path answers after a growth`).toBeGreaterThan(grown.fast.ok / 2);
        expect(reference.fast.fast).toBe(0); // the reference's transitions all went to the core
        for (let i = 0; i < steps; i++) expect(grown.log[i], `seed ${seed}, step ${i}`).toEqual(reference.log[i]);
        expect(grown.totals).toEqual(reference.totals);
        expect(grown.live).toBe(reference.live);
        expect(grown.ok).toBe(true);
        expect(reference.ok).toBe(true);
      }
    });

    it("growth by the trace ring: the fast paths come back over the new views when tracing stops", async () => {
      const host = await newHost(core, TIGHT);
      const tm = host.taskManager;
      const calls = countCoreTransitions(host);
      expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
      expect(H(host.trace.start(100_000))).toBe(H(S_OK)); // 2.4 MB of ring
      expect(bufferBytes(host)).toBeGreaterThan(2_400_000);
      const before = calls.calls; // (shared fast paths count from the start: the root's first frame)
      expect(H(tm.leaveRuntime(5))).toBe(H(S_OK)); // traced: through the core
      const traced = calls.calls;
      expect(traced - before).toBe(1);
      host.trace.stop();
      expect(H(tm.enterRuntime())).toBe(H(S_OK));
      expect(H(tm.reverseLeaveRuntime())).toBe(H(S_OK));
      expect(calls.calls).toBe(traced); // the fast path again
      expect(host.trace.toChromeTrace().traceEvents.some((e) => e.name === "LeaveRuntime")).toBe(true);
      expect(host.rootTask.depth).toBe(0);
      expect(host.checkInvariants()).toBe(true);
    });
  });

  describe("fibers while the memory grows", () => {
    /**
     * Two fibers switching back and forth (the driver's fast switch, through a tryExchange taken
     * once per slice), each doing all four transitions around its switches, while P makes the
     * memory grow: fibers that wait (their slots stay taken) until it grows, 20,000 more frames on
     * its stack, fibers until it grows again. `counts`: how many fibers to make instead (the
     * grown host's counts, for the reference). Answers the log of what each fiber saw.
     */
    function program(host: Host, counts?: number[]): { log: unknown[]; counts: number[] } {
      const tm = host.taskManager;
      const log: unknown[] = [];
      const DEEP = 20_000;
      const made: number[] = [];
      // The fibers P makes wait here, so that their slots stay taken and each batch needs new chunks.
      const gate = host.createManualEvent(false);
      const parked = function* (f: FiberContext) {
        yield* f.wait(gate);
      };
      const body = (name: string) =>
        function* (f: FiberContext) {
          for (let round = 0; round < 8; round++) {
            const hrs = [tm.reverseEnterRuntime(), tm.leaveRuntime(round)];
            if (name === "P" && (round === 1 || round === 5))
              made.push(untilGrown(host, () => host.spawn(parked), counts?.[made.length]));
            if (name === "P" && round === 3)
              for (let k = 0; k < DEEP; k++) hrs.push(k % 2 ? tm.leaveRuntime(k) : tm.reverseEnterRuntime());
            log.push({ name, round, at: "before", hrs: hrs.map(H), ...state(f.task) });
            yield f.yield(); // the fast switch
            const after: number[] = [];
            if (name === "P" && round === 3)
              for (let k = DEEP - 1; k >= 0; k--) after.push(k % 2 ? tm.enterRuntime() : tm.reverseLeaveRuntime());
            after.push(tm.enterRuntime());
            yield* f.yield();
            after.push(tm.reverseLeaveRuntime());
            log.push({ name, round, at: "after", hrs: after.map(H), ...state(f.task) });
          }
          return f.task.counters();
        };
      const p = host.spawn(body("P"), { stackSize: 1024 * 1024 });
      const q = host.spawn(body("Q"));
      host.runUntilIdle();
      log.push({ parked: host.liveTaskCount });
      gate.set();
      host.runUntilIdle();
      log.push({ p: p.counters(), q: q.counters(), totals: host.counters(), live: host.liveTaskCount });
      return { log, counts: made };
    }

    it("every transition and switch answers as on a host whose core decides them all", async () => {
      const host = await newHost(core, TIGHT);
      const calls = countCoreTransitions(host);
      const sizes: number[] = [];
      const refresh = host.door as unknown as { refresh(): void };
      const inner = refresh.refresh;
      refresh.refresh = function (this: unknown) {
        inner.call(this);
        sizes.push(bufferBytes(host));
      };
      const run = program(host);
      const grown = run.log;
      const reference = program(await coreHost(core), run.counts).log;
      expect(sizes.length).toBeGreaterThanOrEqual(2);
      expect(grown).toEqual(reference);
      // What the core says, spelled out: every transition of a round answered S_OK.
      expect(grown[grown.length - 2]).toEqual({ parked: 1 + run.counts[0] + run.counts[1] });
      for (const entry of grown.slice(0, -2) as {
        name: string;
        round: number;
        at: string;
        hrs: string[];
        depth: number;
      }[]) {
        expect(entry.hrs.every((hr) => hr === H(S_OK))).toBe(true);
        const deep = entry.name === "P" && entry.round === 3 ? 20_000 : 0;
        expect(entry.depth).toBe(entry.at === "before" ? 2 + deep : 0);
      }
      const ends = grown[grown.length - 1] as { p: Counters; q: Counters; totals: Counters; live: number };
      for (const c of [ends.p, ends.q]) {
        expect(c.reverseEnterRuntime).toBe(c.reverseLeaveRuntime);
        expect(c.leaveRuntime).toBe(c.enterRuntime);
        expect(c.switchIn).toBe(c.switchOut + 1); // its last switch in ends with ExitTask, not SwitchOut
        expect(c.switchIn).toBeGreaterThanOrEqual(16);
      }
      expect(ends.p.reverseEnterRuntime).toBe(8 + 10_000);
      expect(ends.p.leaveRuntime).toBe(8 + 10_000);
      expect(ends.q.reverseEnterRuntime).toBe(8);
      expect(ends.totals.reverseEnterRuntime).toBe(ends.totals.reverseLeaveRuntime);
      expect(ends.live).toBe(1);
      // The fast paths ran after the growths: far fewer calls into the core than transitions.
      expect(calls.calls).toBeGreaterThan(0); // (the closures made at a growth do call it: its frame buffer)
      expect(calls.calls).toBeLessThan(100);
      expect(host.checkInvariants()).toBe(true);
    });

    it("a fiber's frames stay its own when the other fiber grows the memory between its transitions", async () => {
      const host = await newHost(core, TIGHT);
      const tm = host.taskManager;
      const gate = host.createManualEvent(false);
      const grows = host.spawn(function* (f: FiberContext) {
        for (let round = 0; round < 3; round++) {
          untilGrown(host, () =>
            host.spawn(function* (g: FiberContext) {
              yield* g.wait(gate); // keeps its slot: the next batch needs new chunks
            }),
          );
          yield* f.yield();
        }
      });
      const keeps = host.spawn(function* (f: FiberContext) {
        const model: Frame[] = [];
        for (let round = 0; round < 3; round++) {
          expect(H(tm.reverseEnterRuntime())).toBe(H(S_OK));
          expect(H(tm.leaveRuntime(0xabc00000 + round))).toBe(H(S_OK));
          model.push(REVERSE, LEAVE(0xabc00000 + round));
          yield* f.yield(); // the other fiber grows the memory here
          expect(f.task.frames()).toEqual(model);
          expect(H(tm.reverseLeaveRuntime())).not.toBe(H(S_OK)); // a leave on top: refused
          expect(H(tm.enterRuntime())).toBe(H(S_OK));
          expect(H(tm.leaveRuntime(round))).toBe(H(S_OK));
          model[model.length - 1] = LEAVE(round);
          expect(f.task.frames()).toEqual(model);
          expect(host.rootTask.depth).toBe(0);
        }
        while (model.length > 0)
          expect(H(model.pop()!.kind === "leave" ? tm.enterRuntime() : tm.reverseLeaveRuntime())).toBe(H(S_OK));
        return f.task.counters();
      });
      host.runUntilIdle();
      gate.set();
      host.runUntilIdle();
      await grows.result;
      const c = await keeps.result;
      expect(c).toMatchObject({ reverseEnterRuntime: 3, reverseLeaveRuntime: 3, leaveRuntime: 6, enterRuntime: 6 });
      expect(c).toMatchObject({ switchIn: 4, switchOut: 3 }); // read while switched in, for the fourth time
      expect(host.rootTask.counters().switchIn).toBe(0);
      expect(host.checkInvariants()).toBe(true);
    });
  });
});
