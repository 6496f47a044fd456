// Fuzzing the core's exports directly (no host layer in between): fast-check calls them in any
// order with any arguments (good and stale handles, out-of-range, negative and huge numbers,
// NaN) and checks, reading the core's memory through its exported layout (headerAddr(),
// threadAddr(0), slotAddress(idx), the T_* / H_* / R_* / C_* globals):
//   - no hosting export traps, whatever its arguments (only an armed trap may trap);
//   - a call that answers anything but S_OK changes nothing at all: no task, no counter, no
//     header field;
//   - a call that succeeds changes no task other than the ones it names (a transition: the
//     current task; exchange: the two it names; createTask: the new one);
//   - the core's invariants hold after every call (checkInvariants(), and the yield-request count
//     the header keeps for the transitions' fast path).
// And through the host: an injected trap answers E_FAIL once, then HOST_E_CLRNOTAVAILABLE to
// every later call, whatever came before and whatever comes after.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { instantiateCore, type CoreInstance } from "../src/core/load.js";
import { createHost, type Host, type Out, type Task } from "../src/index.js";
import {
  COR_E_STACKOVERFLOW,
  E_FAIL,
  HOST_E_CLRNOTAVAILABLE,
  HOST_E_INVALIDOPERATION,
  S_OK,
  hrName,
} from "./model/hresults.js";
import { checkProperty, runs, timeLimit } from "./property/support.js";

type Fn = (...args: number[]) => number;

interface Core {
  x: Record<string, Fn>;
  g: Record<string, number>;
  memory: WebAssembly.Memory;
}

async function newCore(flavour: "release" | "debug"): Promise<Core> {
  const inst: CoreInstance = await instantiateCore(flavour, 256, () => 0);
  const x: Record<string, Fn> = {};
  const g: Record<string, number> = {};
  for (const [name, v] of Object.entries(inst.exports)) {
    if (typeof v === "function") x[name] = v as Fn;
    else if (v instanceof WebAssembly.Global) g[name] = v.value as number;
  }
  expect(x.init(16 * 1024, 1024 * 1024)).toBe(S_OK);
  expect(x.startRuntime()).toBe(S_OK);
  return { x, g, memory: inst.memory };
}

// --- reading the core's state through its layout ---------------------------------------------------

// The slot's own words (T_FLAGS shares T_STATE's word, T_NEXT_FREE T_RESERVE's: snapshot() splits
// or copies them), then the fields of its side record (X_*), read through T_SIDE: the record's
// address is the allocator's business, its contents are the task's state (0 while there is none).
const SLOT_FIELDS = ["T_GEN", "T_STATE", "T_DEPTH", "T_LIMIT", "T_CAPACITY", "T_FRAMES", "T_RESERVE"];
const SIDE_FIELDS = ["X_ID_LO", "X_ID_HI", "X_AFFINITY", "X_PREVENT_ABORT", "X_LOCKS", "X_PRIORITY"];
const HEADER_FIELDS = [
  "H_CTL",
  "H_THREADS",
  "H_CHUNKS",
  "H_DEFAULT_RESERVE",
  "H_MAX_STACK",
  "H_TRACE_BASE",
  "H_TRACE_CAPACITY",
  "H_TRACE_COUNT",
  "H_YIELD_REQUESTS",
];
// The plain core's one thread's record (its current task, live count, free list, handed slots).
const THREAD_FIELDS = ["R_CURRENT", "R_ROOT", "R_LIVE", "R_FREE_HEAD", "R_NEXT_SLOT", "R_SLOT_END", "R_STATE"];

interface SlotState {
  fields: Record<string, number>;
  counters: number[];
  frames: number[];
}
interface State {
  header: Record<string, number>;
  retired: number[];
  slots: SlotState[];
}

function snapshot(c: Core): State {
  const i32 = new Int32Array(c.memory.buffer);
  const f64 = new Float64Array(c.memory.buffer);
  const hdr = c.x.headerAddr();
  const header: Record<string, number> = {};
  for (const h of HEADER_FIELDS) if (c.g[h] !== undefined) header[h] = i32[(hdr >> 2) + c.g[h]];
  const rec = c.x.threadAddr(0);
  for (const r of THREAD_FIELDS) header[r] = i32[(rec >> 2) + c.g[r]];
  const retired = Array.from({ length: c.g.COUNTER_COUNT }, (_, k) => f64[((rec + c.g.R_RETIRED) >> 3) + k]);
  const slots: SlotState[] = [];
  // One thread makes every chunk in turn: the slots it handed out are the ones below its next.
  for (let idx = 0; idx < header.R_NEXT_SLOT; idx++) {
    const base = c.x.slotAddress(idx);
    const fields: Record<string, number> = {};
    for (const f of SLOT_FIELDS) fields[f] = i32[(base >> 2) + c.g[f]];
    fields.T_FLAGS = fields.T_STATE & ~c.g.STATE_MASK;
    fields.T_STATE &= c.g.STATE_MASK;
    fields.T_NEXT_FREE = i32[(base >> 2) + c.g.T_NEXT_FREE];
    const side = i32[(base >> 2) + c.g.T_SIDE];
    for (const f of SIDE_FIELDS) fields[f] = side === 0 ? 0 : i32[(side >> 2) + c.g[f]];
    // A free slot's buffer is the allocator's cache for the slot's next task, not state: a call that
    // runs out of memory gives it back before it answers E_OUTOFMEMORY (assembly/frames.ts).
    if (fields.T_STATE === c.g.STATE_FREE) fields.T_CAPACITY = fields.T_FRAMES = fields.T_LIMIT = 0;
    // A counter: its u32 low word in the slot, its high word (if any) in the side record.
    const counters = Array.from(
      { length: c.g.COUNTER_COUNT },
      (_, k) =>
        (i32[(base >> 2) + c.g.T_COUNTERS + k] >>> 0) +
        (side === 0 ? 0 : (i32[(side >> 2) + c.g.X_HIGH + k] >>> 0) * 2 ** 32),
    );
    const frames: number[] = [];
    const depth = fields.T_DEPTH;
    if (fields.T_STATE !== c.g.STATE_FREE && fields.T_FRAMES !== 0 && depth > 0 && depth <= fields.T_CAPACITY) {
      for (let d = 0; d < depth * 2; d++) frames.push(i32[(fields.T_FRAMES >> 2) + d]);
    }
    slots.push({ fields, counters, frames });
  }
  return { header, retired, slots };
}

// --- the calls ---------------------------------------------------------------------------------------

/** A handle: live, stale, or never issued; resolved against the state when the call is made. */
type HandleArb = { kind: "live" | "stale"; n: number } | { kind: "raw"; idx: number; gen: number };
const handle: fc.Arbitrary<HandleArb> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("live" as const), n: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("stale" as const), n: fc.nat(20) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("raw" as const),
      idx: fc.oneof(fc.constantFrom(-1, -(2 ** 31), 2 ** 31 - 1, 1024, 1 << 20), fc.integer({ min: -4, max: 40 })),
      gen: fc.oneof(fc.constantFrom(0, -1, 1, 2 ** 31 - 1), fc.integer()),
    }),
  },
);
const anyInt = fc.oneof(
  fc.integer({ min: -3, max: 40 }),
  fc.constantFrom(-1, 2 ** 31 - 1, -(2 ** 31), 0x7fffffff),
  fc.integer(),
);
const anyF64 = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    8,
    16,
    64,
    1024,
    16 * 1024,
    1024 * 1024,
    1024 * 1024 + 8,
    7,
    0.5,
    -8,
    NaN,
    Infinity,
    -Infinity,
    1e300,
    2 ** 31,
    -(2 ** 31) - 1,
    2,
    -15,
    15,
    3,
  ),
  fc.double(),
);
const bool = fc.constantFrom(0, 1, 2, -1);

type Call =
  | { f: "createTask"; size: number }
  | {
      f:
        | "start"
        | "switchIn"
        | "switchOut"
        | "exitTask"
        | "yieldTask"
        | "alert"
        | "check"
        | "abortDeliverable"
        | "abortDelivered";
      h: HandleArb;
    }
  | { f: "reset" | "abort" | "preventAsyncAbort"; h: HandleArb; b: number }
  | { f: "locksHeldAdd"; h: HandleArb; n: number }
  | { f: "setPriority"; h: HandleArb; p: number }
  | { f: "takeFlag"; h: HandleArb; flag: "FLAG_ALERTED" | "FLAG_YIELD_REQUESTED" }
  | { f: "setTaskIdentifier"; h: HandleArb; lo: number; hi: number }
  | { f: "exchange"; from: HandleArb; to: HandleArb }
  | { f: "transition"; op: number; target: number }
  | { f: "delayAbort" | "threadAffinity" | "suspend"; b: number }
  | { f: "traceStart"; n: number }
  | { f: "traceStop" | "startRuntime" | "available" | "countManaged" | "sumTotals" };

const call: fc.Arbitrary<Call> = fc.oneof(
  fc.record({ f: fc.constant("createTask" as const), size: anyF64 }),
  fc.record({ f: fc.constant("createTask" as const), size: fc.constantFrom(0, 16, 24, 64) }),
  fc.record({
    f: fc.constantFrom("start" as const, "switchIn" as const, "switchOut" as const, "exitTask" as const),
    h: handle,
  }),
  fc.record({
    f: fc.constantFrom("start" as const, "switchIn" as const, "switchOut" as const, "exitTask" as const),
    h: handle,
  }),
  fc.record({
    f: fc.constantFrom(
      "yieldTask" as const,
      "alert" as const,
      "check" as const,
      "abortDeliverable" as const,
      "abortDelivered" as const,
    ),
    h: handle,
  }),
  fc.record({
    f: fc.constantFrom("reset" as const, "abort" as const, "preventAsyncAbort" as const),
    h: handle,
    b: bool,
  }),
  fc.record({ f: fc.constant("locksHeldAdd" as const), h: handle, n: anyInt }),
  fc.record({ f: fc.constant("setPriority" as const), h: handle, p: anyF64 }),
  fc.record({
    f: fc.constant("takeFlag" as const),
    h: handle,
    flag: fc.constantFrom("FLAG_ALERTED" as const, "FLAG_YIELD_REQUESTED" as const),
  }),
  fc.record({ f: fc.constant("setTaskIdentifier" as const), h: handle, lo: fc.integer(), hi: fc.integer() }),
  fc.record({ f: fc.constant("exchange" as const), from: handle, to: handle }),
  // The door calls transition with op 0..3 only: those first, the rest of the i32 range rarely.
  fc.record({ f: fc.constant("transition" as const), op: fc.nat(3), target: fc.oneof(fc.nat(), fc.integer()) }),
  fc.record({ f: fc.constant("transition" as const), op: fc.nat(3), target: fc.oneof(fc.nat(), fc.integer()) }),
  fc.record({ f: fc.constant("transition" as const), op: fc.nat(3), target: fc.oneof(fc.nat(), fc.integer()) }),
  fc.record({ f: fc.constantFrom("delayAbort" as const, "threadAffinity" as const, "suspend" as const), b: bool }),
  fc.record({
    f: fc.constant("traceStart" as const),
    n: fc.oneof(fc.integer({ min: -2, max: 64 }), fc.constantFrom(1 << 24, (1 << 24) + 1, -(2 ** 31))),
  }),
  fc.record({
    f: fc.constantFrom(
      "traceStop" as const,
      "startRuntime" as const,
      "available" as const,
      "countManaged" as const,
      "sumTotals" as const,
    ),
  }),
);

/** A transition with any op at all: the door never passes one outside 0..3 (a separate property). */
const wildTransition: fc.Arbitrary<Call> = fc.record({
  f: fc.constant("transition" as const),
  op: fc.oneof(fc.integer({ min: -4, max: 40 }), fc.integer()),
  target: fc.integer(),
});

/** The (idx, gen) of a handle, against the current state. */
function resolveHandle(c: Core, s: State, h: HandleArb): [number, number] {
  if (h.kind === "raw") return [h.idx, h.gen];
  const slots = s.slots.map((x, idx) => ({ x, idx }));
  const pool =
    h.kind === "live"
      ? slots.filter(({ x }) => x.fields.T_STATE !== c.g.STATE_FREE)
      : slots.filter(({ x }) => x.fields.T_GEN > 0);
  if (pool.length === 0) return [0, h.kind === "live" ? s.slots[0].fields.T_GEN : -1];
  const { x, idx } = pool[h.n % pool.length];
  return [idx, h.kind === "live" ? x.fields.T_GEN : x.fields.T_GEN - 1 - (h.n % Math.max(1, x.fields.T_GEN))];
}

/** What kind of answer an export gives. */
const ANSWERS_HRESULT = new Set([
  "start",
  "switchIn",
  "switchOut",
  "exitTask",
  "reset",
  "abort",
  "preventAsyncAbort",
  "locksHeldAdd",
  "setPriority",
  "yieldTask",
  "alert",
  "setTaskIdentifier",
  "check",
  "exchange",
  "transition",
  "delayAbort",
  "threadAffinity",
  "suspend",
  "traceStart",
  "startRuntime",
  "available",
]);

interface Made {
  args: number[];
  /** Slots the call may change when it succeeds (-1: any slot, e.g. createTask's new one). */
  named: number[];
}

function makeArgs(c: Core, s: State, k: Call): Made {
  const cur = s.header.R_CURRENT;
  switch (k.f) {
    case "createTask":
      return { args: [k.size], named: [] };
    case "start":
    case "switchIn":
    case "switchOut":
    case "exitTask":
    case "yieldTask":
    case "alert":
    case "check":
    case "abortDeliverable":
    case "abortDelivered": {
      const [idx, gen] = resolveHandle(c, s, k.h);
      return { args: [idx, gen], named: [idx] };
    }
    case "reset":
    case "abort":
    case "preventAsyncAbort": {
      const [idx, gen] = resolveHandle(c, s, k.h);
      return { args: [idx, gen, k.b], named: [idx] };
    }
    case "locksHeldAdd": {
      const [idx, gen] = resolveHandle(c, s, k.h);
      return { args: [idx, gen, k.n], named: [idx] };
    }
    case "setPriority": {
      const [idx, gen] = resolveHandle(c, s, k.h);
      return { args: [idx, gen, k.p], named: [idx] };
    }
    case "takeFlag": {
      const [idx, gen] = resolveHandle(c, s, k.h);
      return { args: [idx, gen, c.g[k.flag]], named: [idx] };
    }
    case "setTaskIdentifier": {
      const [idx, gen] = resolveHandle(c, s, k.h);
      return { args: [idx, gen, k.lo, k.hi], named: [idx] };
    }
    case "exchange": {
      const [a, ag] = resolveHandle(c, s, k.from);
      const [b, bg] = resolveHandle(c, s, k.to);
      return { args: [a, ag, b, bg], named: [a, b] };
    }
    case "transition":
      return { args: [k.op, k.target], named: [cur] };
    case "delayAbort":
    case "threadAffinity":
      return { args: [k.b], named: [cur] };
    case "suspend":
      return { args: [k.b], named: [] };
    case "traceStart":
      return { args: [k.n], named: [] };
    default:
      return { args: [], named: [] };
  }
}

/** The header's yield-request count matches the flags, and the control bit follows it. */
function yieldBookkeeping(c: Core, s: State): { counted: number; flagged: number; bit: boolean } {
  const flagged = s.slots.filter(
    (x) => x.fields.T_STATE !== c.g.STATE_FREE && (x.fields.T_FLAGS & c.g.FLAG_YIELD_REQUESTED) !== 0,
  ).length;
  return { counted: s.header.H_YIELD_REQUESTS, flagged, bit: (s.header.H_CTL & c.g.CTL_YIELD_PENDING) !== 0 };
}

const show = (k: Call, m: Made) => `${k.f}(${m.args.map((a) => (Object.is(a, -0) ? "-0" : String(a))).join(", ")})`;

async function fuzz(flavour: "release" | "debug", calls: Call[]): Promise<void> {
  const c = await newCore(flavour);
  const done: string[] = [];
  for (const k of calls) {
    const before = snapshot(c);
    const m = makeArgs(c, before, k);
    const where = `after ${[...done, show(k, m)].join("; ")}`;
    let r: number;
    try {
      r = c.x[k.f](...m.args);
    } catch (err) {
      throw new Error(`${where}: the core trapped (${String(err)})`);
    }
    done.push(show(k, m));
    const after = snapshot(c);
    if (ANSWERS_HRESULT.has(k.f) && r !== S_OK) {
      // Except the trace: while it records, a transition the rules refuse is one event more in the ring.
      const traced =
        k.f === "transition" &&
        (before.header.H_CTL & c.g.CTL_TRACING) !== 0 &&
        [HOST_E_INVALIDOPERATION, COR_E_STACKOVERFLOW, 0x8007000e /* E_OUTOFMEMORY */].includes(r >>> 0);
      const expected = traced
        ? { ...before, header: { ...before.header, H_TRACE_COUNT: before.header.H_TRACE_COUNT + 1 } }
        : before;
      expect(after, `${where}: it answered ${hrName(r >>> 0)} (or ${r}) and must change nothing`).toEqual(expected);
    } else {
      // It succeeded: the tasks it does not name are as they were (createTask may fill a new or free slot).
      const fresh = k.f === "createTask" && r >= 0 ? r : -1;
      for (let idx = 0; idx < before.slots.length; idx++) {
        if (m.named.includes(idx) || idx === fresh) continue;
        expect(after.slots[idx], `${where}: task slot ${idx}, not named by the call`).toEqual(before.slots[idx]);
      }
      expect(after.retired, `${where}: the ended tasks' counters`).toEqual(
        k.f === "exitTask" ? after.retired : before.retired,
      );
    }
    let ok: number;
    try {
      ok = c.x.checkInvariants();
    } catch (err) {
      throw new Error(`${where}: checkInvariants trapped (${String(err)})`);
    }
    expect(ok, `${where}: the core's invariants`).toBe(1);
    const y = yieldBookkeeping(c, after);
    expect(y, `${where}: the yield-request count`).toEqual({
      counted: y.flagged,
      flagged: y.flagged,
      bit: y.flagged > 0,
    });
  }
}

// Sequences per core: RUNS (exports) + RUNS / 3 (wild transitions) + RUNS (traps through the host).
const RUNS = runs(200);

describe.each(["release", "debug"] as const)("fuzzing the %s core's exports", (flavour) => {
  it(
    "no trap; a call that does not answer S_OK changes nothing; one that does changes only the tasks it names",
    () =>
      checkProperty(
        fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 60, size: "max" }), (calls) => fuzz(flavour, calls)),
        RUNS,
      ),
    timeLimit(),
  );

  it(
    "a transition with an op outside 0..3 is refused and changes nothing",
    () =>
      checkProperty(
        fc.asyncProperty(
          fc.array(call, { maxLength: 20 }),
          wildTransition.filter((k) => (k as { op: number }).op >>> 0 > 3),
          async (prefix, wild) => {
            await fuzz(flavour, [...prefix, wild]);
          },
        ),
        Math.ceil(RUNS / 3),
      ),
    timeLimit(),
  );
});

// --- through the host: a trap is E_FAIL once, then HOST_E_CLRNOTAVAILABLE for good ------------------------

interface HostWorld {
  host: Host;
  tasks: Task[];
}

/** Hosting calls from the root task, each of which reaches the core; `t` picks a task. */
const HOST_CALLS: Record<string, (w: HostWorld, t: Task) => number> = {
  createTask: (w) => {
    const out: Out<Task> = {};
    const hr = w.host.taskManager.createTask(0, function* () {}, undefined, out);
    if (out.value) w.tasks.push(out.value);
    return hr;
  },
  getCurrentTask: (w) => w.host.taskManager.getCurrentTask({}),
  leaveRuntime: (w) => w.host.taskManager.leaveRuntime(0x1000),
  enterRuntime: (w) => w.host.taskManager.enterRuntime(),
  reverseEnterRuntime: (w) => w.host.taskManager.reverseEnterRuntime(),
  reverseLeaveRuntime: (w) => w.host.taskManager.reverseLeaveRuntime(),
  beginDelayAbort: (w) => w.host.taskManager.beginDelayAbort(),
  endDelayAbort: (w) => w.host.taskManager.endDelayAbort(),
  beginThreadAffinity: (w) => w.host.taskManager.beginThreadAffinity(),
  endThreadAffinity: (w) => w.host.taskManager.endThreadAffinity(),
  sleep: (w) => w.host.taskManager.sleep(10),
  switchToTask: (w) => w.host.taskManager.switchToTask(0),
  setLocale: (w) => w.host.taskManager.setLocale(1033),
  callNeedsHostHook: (w) => w.host.taskManager.callNeedsHostHook(1, {}),
  getStackGuarantee: (w) => w.host.taskManager.getStackGuarantee({}),
  start: (_w, t) => t.start(),
  switchIn: (_w, t) => t.switchIn(),
  switchOut: (_w, t) => t.switchOut(),
  exitTask: (_w, t) => t.exitTask(),
  reset: (_w, t) => t.reset(true),
  abort: (_w, t) => t.abort(),
  rudeAbort: (_w, t) => t.rudeAbort(),
  yieldTask: (_w, t) => t.yieldTask(),
  alert: (_w, t) => t.alert(),
  setPriority: (_w, t) => t.setPriority(1),
  getPriority: (_w, t) => t.getPriority({}),
  needsPriorityScheduling: (_w, t) => t.needsPriorityScheduling({}),
  locksHeld: (_w, t) => t.locksHeld({}),
  setTaskIdentifier: (_w, t) => t.setTaskIdentifier(7),
  beginPreventAsyncAbort: (_w, t) => t.beginPreventAsyncAbort(),
  endPreventAsyncAbort: (_w, t) => t.endPreventAsyncAbort(),
  join: (_w, t) => t.join(0),
  suspendRuntime: (w) => w.host.suspendRuntime(),
  resumeRuntime: (w) => w.host.resumeRuntime(),
  crstTryEnter: (w) => w.host.createCrst().tryEnter(0, {}),
};
const NAMES = Object.keys(HOST_CALLS);
const hostCall = fc.record({ name: fc.constantFrom(...NAMES), t: fc.nat(5) });
type HostCall = { name: string; t: number };
/** What may happen between the E_FAIL and the later calls. */
const between = fc.constantFrom("nothing", "injectCoreFault again", "disable", "runUntilIdle");

async function trapThroughHost(
  core: "release" | "debug",
  before: HostCall[],
  trapped: HostCall,
  after: (HostCall | string)[],
): Promise<void> {
  const host = await createHost({ core, clock: "virtual" });
  const w: HostWorld = { host, tasks: [host.rootTask] };
  const taskOf = (c: HostCall) => w.tasks[c.t % w.tasks.length];
  for (const c of before) HOST_CALLS[c.name](w, taskOf(c));
  if (host.runtimeState !== "started") return; // nothing before may disable it; checked elsewhere
  host.injectCoreFault();
  expect(hrName(HOST_CALLS[trapped.name](w, taskOf(trapped))), `${trapped.name} with a trap armed`).toBe(
    hrName(E_FAIL),
  );
  expect(host.runtimeState).toBe("disabled");
  for (const c of after) {
    if (typeof c === "string") {
      if (c === "injectCoreFault again") host.injectCoreFault();
      else if (c === "disable") host.disable("again");
      else if (c === "runUntilIdle") host.runUntilIdle();
      continue;
    }
    expect(
      hrName(HOST_CALLS[c.name](w, taskOf(c))),
      `${c.name} after the E_FAIL (after ${JSON.stringify(after)})`,
    ).toBe(hrName(HOST_E_CLRNOTAVAILABLE));
  }
}

describe.each(["release", "debug"] as const)("a trap in the %s core, through the host", (core) => {
  it(
    "answers E_FAIL once, then HOST_E_CLRNOTAVAILABLE to every call, for good",
    () =>
      checkProperty(
        fc.asyncProperty(
          fc.array(hostCall, { maxLength: 12 }),
          hostCall,
          fc.array(fc.oneof(hostCall, hostCall, between), { minLength: 1, maxLength: 12 }),
          (before, trapped, after) => trapThroughHost(core, before, trapped, after),
        ),
        RUNS,
      ),
    timeLimit(),
  );
});
