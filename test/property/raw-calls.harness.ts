// The machinery of test/property/raw-calls.test.ts, kept apart so that a failing sequence can be
// replayed by hand: `await check("release", undefined, [{ k: "createTask", size: 0 }, ...])`.
//
// Differential property: generated sequences of raw contract calls from the root task, over
// several tasks driven by hand, run against the real host and against the reference model
// (test/model/contract-model.ts). After every step the two must agree on the HRESULT (and out
// value) of the call, and on everything that can be observed: each task's state, mode, depth,
// frames and counters, the totals, the live and managed counts, the current task, the runtime's
// state; and the core's invariants must hold while the runtime is enabled.
//
// Three properties, each over its own set of calls, so that one disagreement does not hide the
// others: transitions and regions on hand-switched tasks; the life cycle (start, run, exit,
// reset, aborts, stale handles, Crsts); and faults and disable. Each runs on both cores.

import { expect } from "vitest";
import fc from "fast-check";
import { createHost, type Crst, type Host, type Out, type Task } from "../../src/index.js";
import { ContractModel, type MTask, type TransitionOp } from "../model/contract-model.js";
import { DEFAULT_MAX_STACK_BYTES, S_OK, hrName } from "../model/hresults.js";
import { settle } from "./support.js";

// --- the steps ------------------------------------------------------------------------------------

export type Step =
  | { k: "createTask"; size: number | "max" | "max+8" }
  | {
      k:
        | "start"
        | "switchIn"
        | "switchOut"
        | "exitTask"
        | "yieldTask"
        | "getPriority"
        | "needsPriorityScheduling"
        | "locksHeld"
        | "alert";
      t: number;
    }
  | { k: "reset"; t: number; full: boolean }
  | { k: "abort"; t: number; rude: boolean }
  | { k: "setPriority"; t: number; p: number }
  | { k: "setTaskIdentifier"; t: number; id: number | bigint }
  | { k: "preventAsyncAbort"; t: number; begin: boolean }
  | { k: "join"; t: number; ms: number }
  | { k: "transition"; op: TransitionOp; target: number }
  | { k: "fill"; n: number }
  | { k: "delayAbort" | "threadAffinity"; begin: boolean }
  | { k: "suspend" | "resume" | "disable" | "injectCoreFault" | "run" | "getCurrentTask" }
  | {
      k: "hostOnly";
      call: "sleep" | "switchToTask" | "setLocale" | "callNeedsHostHook" | "getStackGuarantee" | "setStackGuarantee";
    }
  | { k: "crstTryEnter" | "crstLeave"; c: number };

/** A task by recency: 0 is the root task, 1 the task made last, 2 the one before, ... (see pick). */
const task = fc.nat(6);
/** The position of the task a step names: 0 the root task, t ≥ 1 the t-th most recent (cycling). */
export function pick(t: number, length: number): number {
  return t === 0 ? 0 : length - 1 - ((t - 1) % length);
}
const target = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, 1, 0x1000, 0xcafe, 0xffffffff) },
  { weight: 1, arbitrary: fc.constantFrom(-1, 2 ** 32, 1.5, NaN) },
);
const transition = fc.record({
  k: fc.constant("transition" as const),
  op: fc.constantFrom<TransitionOp>("leave", "enter", "reverseEnter", "reverseLeave"),
  target,
});
const stackSize = fc.constantFrom<number | "max" | "max+8">(
  0,
  0,
  8,
  16,
  24,
  40,
  7,
  1,
  64,
  256,
  1 << 20,
  "max",
  "max+8",
  -8,
  0.5,
  NaN,
  Infinity,
  -0,
);
const priority = fc.constantFrom(-15, -2, -1, 0, 1, 2, 15, 3, -3, 0.5, NaN, 1e10, -0, Infinity);
const identifier = fc.constantFrom<number | bigint>(0, 1, 2 ** 53 - 1, -1, 1.5, 2n ** 64n - 1n, 2n ** 64n, -1n);
const onTask = <K extends string>(...ks: K[]) => fc.record({ k: fc.constantFrom(...ks), t: task });

/** Calls on tasks switched in by hand: the transitions, the regions, the per-task reads and requests. */
export const handSteps: fc.Arbitrary<Step>[] = [
  fc.record({ k: fc.constant("createTask" as const), size: stackSize }),
  fc.record({ k: fc.constant("createTask" as const), size: fc.constant(0) }),
  onTask("switchIn", "switchOut"),
  onTask("switchIn", "switchOut"),
  transition,
  transition,
  transition,
  transition,
  fc.record({ k: fc.constant("fill" as const), n: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ k: fc.constantFrom("delayAbort" as const, "threadAffinity" as const), begin: fc.boolean() }),
  fc.record({ k: fc.constant("preventAsyncAbort" as const), t: task, begin: fc.boolean() }),
  onTask("yieldTask", "getPriority", "needsPriorityScheduling", "locksHeld", "alert"),
  fc.record({ k: fc.constant("setPriority" as const), t: task, p: priority }),
  fc.record({ k: fc.constant("setTaskIdentifier" as const), t: task, id: identifier }),
  fc.record({ k: fc.constantFrom("suspend" as const, "resume" as const, "getCurrentTask" as const) }),
];

/** The life cycle: start and run, ExitTask, Reset, aborts, synchronous Join, Crsts; stale handles follow. */
export const lifeSteps: fc.Arbitrary<Step>[] = [
  ...handSteps,
  onTask("start", "exitTask"),
  onTask("start", "exitTask", "switchIn", "switchOut"),
  onTask("start"),
  fc.record({ k: fc.constant("createTask" as const), size: fc.constant(0) }),
  fc.record({ k: fc.constant("reset" as const), t: task, full: fc.boolean() }),
  fc.record({ k: fc.constant("abort" as const), t: task, rude: fc.boolean() }),
  fc.record({ k: fc.constant("abort" as const), t: task, rude: fc.boolean() }),
  fc.record({ k: fc.constant("join" as const), t: task, ms: fc.constantFrom(0, 10) }),
  fc.record({ k: fc.constant("run" as const) }),
  fc.record({ k: fc.constant("run" as const) }),
  fc.record({ k: fc.constantFrom("crstTryEnter" as const, "crstLeave" as const), c: fc.nat(1) }),
];

/** Everything, with faults injected into the core and the runtime disabled. */
export const faultSteps: fc.Arbitrary<Step>[] = [
  ...lifeSteps,
  fc.record({ k: fc.constant("injectCoreFault" as const) }),
  fc.record({ k: fc.constant("disable" as const) }),
  fc.record({
    k: fc.constant("hostOnly" as const),
    call: fc.constantFrom(
      "sleep" as const,
      "switchToTask" as const,
      "setLocale" as const,
      "callNeedsHostHook" as const,
      "getStackGuarantee" as const,
      "setStackGuarantee" as const,
    ),
  }),
];

export const program = (steps: fc.Arbitrary<Step>[], maxLength: number) =>
  fc.record({
    maxStackSize: fc.constantFrom<number | undefined>(undefined, 256, 100, 16),
    steps: fc.array(fc.oneof(...steps), { minLength: 1, maxLength, size: "max" }),
  });

// --- running a step on both sides ---------------------------------------------------------------

interface World {
  host: Host;
  model: ContractModel;
  tasks: Task[]; // parallel to model.tasks
  crsts: Crst[];
}

/** What a step answered: an HRESULT, maybe an out value (a task by its position), maybe several. */
type Answer = { hr: number | string; value?: unknown } | { hrs: (number | string)[] };

const OP_CALL: Record<TransitionOp, (w: World, target: number) => number> = {
  leave: (w, target) => w.host.taskManager.leaveRuntime(target),
  enter: (w) => w.host.taskManager.enterRuntime(),
  reverseEnter: (w) => w.host.taskManager.reverseEnterRuntime(),
  reverseLeave: (w) => w.host.taskManager.reverseLeaveRuntime(),
};

function realStep(w: World, s: Step): Answer {
  const { host } = w;
  const tm = host.taskManager;
  const t = "t" in s ? w.tasks[pick(s.t, w.tasks.length)] : undefined;
  const out: Out<unknown> = {};
  const withOut = (hr: number): Answer => ({ hr, value: hr === S_OK ? out.value : undefined });
  switch (s.k) {
    case "createTask": {
      const size = s.size === "max" ? w.model.maxStackSize : s.size === "max+8" ? w.model.maxStackSize + 8 : s.size;
      const o: Out<Task> = {};
      const hr = tm.createTask(size, function* () {}, undefined, o);
      if (hr === S_OK && o.value) w.tasks.push(o.value);
      return { hr, value: hr === S_OK ? w.tasks.length - 1 : undefined };
    }
    case "start":
      return { hr: t!.start() };
    case "switchIn":
      return { hr: t!.switchIn() };
    case "switchOut":
      return { hr: t!.switchOut() };
    case "exitTask":
      return { hr: t!.exitTask() };
    case "reset":
      return { hr: t!.reset(s.full) };
    case "abort":
      return { hr: s.rude ? t!.rudeAbort() : t!.abort() };
    case "yieldTask":
      return { hr: t!.yieldTask() };
    case "alert":
      return { hr: t!.alert() };
    case "setPriority":
      return { hr: t!.setPriority(s.p) };
    case "getPriority":
      return withOut(t!.getPriority(out as Out<number>));
    case "needsPriorityScheduling":
      return withOut(t!.needsPriorityScheduling(out as Out<boolean>));
    case "locksHeld":
      return withOut(t!.locksHeld(out as Out<number>));
    case "setTaskIdentifier":
      return { hr: t!.setTaskIdentifier(s.id) };
    case "preventAsyncAbort":
      return { hr: s.begin ? t!.beginPreventAsyncAbort() : t!.endPreventAsyncAbort() };
    case "join":
      return { hr: t!.join(s.ms) };
    case "transition":
      return { hr: OP_CALL[s.op](w, s.target) };
    case "fill": {
      const hrs: number[] = [];
      for (let i = 0; i < s.n; i++) hrs.push(i % 2 === 0 ? tm.reverseEnterRuntime() : tm.leaveRuntime(i));
      return { hrs };
    }
    case "delayAbort":
      return { hr: s.begin ? tm.beginDelayAbort() : tm.endDelayAbort() };
    case "threadAffinity":
      return { hr: s.begin ? tm.beginThreadAffinity() : tm.endThreadAffinity() };
    case "suspend":
      return { hr: host.suspendRuntime() };
    case "resume":
      return { hr: host.resumeRuntime() };
    case "disable":
      host.disable("test");
      return { hr: S_OK };
    case "injectCoreFault":
      host.injectCoreFault();
      return { hr: S_OK };
    case "getCurrentTask": {
      const hr = tm.getCurrentTask(out as Out<Task>);
      return { hr, value: hr === S_OK ? w.tasks.indexOf(out.value as Task) : undefined };
    }
    case "hostOnly":
      switch (s.call) {
        case "sleep":
          return { hr: tm.sleep(10) };
        case "switchToTask":
          return { hr: tm.switchToTask(0) };
        case "setLocale":
          return { hr: tm.setLocale(1033) };
        case "callNeedsHostHook":
          return withOut(tm.callNeedsHostHook(5, out as Out<boolean>));
        case "getStackGuarantee":
          return withOut(tm.getStackGuarantee(out as Out<number>));
        case "setStackGuarantee":
          return { hr: tm.setStackGuarantee(4096) };
      }
      break;
    case "run":
      try {
        host.runUntilIdle();
        return { hr: S_OK };
      } catch (e) {
        return { hr: (e as { hr?: number }).hr ?? `threw ${String(e)}` };
      }
    case "crstTryEnter":
      return withOut(w.crsts[s.c].tryEnter(0, out as Out<boolean>));
    case "crstLeave":
      return { hr: w.crsts[s.c].leave() };
  }
  throw new Error(`unknown step ${JSON.stringify(s)}`);
}

function modelStep(w: World, s: Step): Answer {
  const m = w.model;
  const t: MTask | undefined = "t" in s ? m.tasks[pick(s.t, m.tasks.length)] : undefined;
  const out = (r: { hr: number; value?: unknown }): Answer => ({ hr: r.hr, value: r.value });
  switch (s.k) {
    case "createTask": {
      const size = s.size === "max" ? m.maxStackSize : s.size === "max+8" ? m.maxStackSize + 8 : s.size;
      const r = m.createTask(size);
      return { hr: r.hr, value: r.value?.n };
    }
    case "start":
      return { hr: m.start(t!) };
    case "switchIn":
      return { hr: m.switchIn(t!) };
    case "switchOut":
      return { hr: m.switchOut(t!) };
    case "exitTask":
      return { hr: m.exitTask(t!) };
    case "reset":
      return { hr: m.reset(t!, s.full) };
    case "abort":
      return { hr: m.abort(t!, s.rude) };
    case "yieldTask":
      return { hr: m.yieldTask(t!) };
    case "alert":
      return { hr: m.alert(t!) };
    case "setPriority":
      return { hr: m.setPriority(t!, s.p) };
    case "getPriority":
      return out(m.getPriority(t!));
    case "needsPriorityScheduling":
      return out(m.needsPriorityScheduling(t!));
    case "locksHeld":
      return out(m.locksHeld(t!));
    case "setTaskIdentifier":
      return { hr: m.setTaskIdentifier(t!, s.id) };
    case "preventAsyncAbort":
      return { hr: m.preventAsyncAbort(t!, s.begin) };
    case "join":
      return { hr: m.join(t!, s.ms) };
    case "transition":
      return { hr: m.transition(s.op, s.target) };
    case "fill": {
      const hrs: number[] = [];
      for (let i = 0; i < s.n; i++) hrs.push(i % 2 === 0 ? m.transition("reverseEnter") : m.transition("leave", i));
      return { hrs };
    }
    case "delayAbort":
      return { hr: m.delayAbort(s.begin) };
    case "threadAffinity":
      return { hr: m.threadAffinity(s.begin) };
    case "suspend":
      return { hr: m.suspendRuntime() };
    case "resume":
      return { hr: m.resumeRuntime() };
    case "disable":
      m.disable();
      return { hr: S_OK };
    case "injectCoreFault":
      m.injectCoreFault();
      return { hr: S_OK };
    case "getCurrentTask": {
      const r = m.getCurrentTask();
      return { hr: r.hr, value: r.value?.n };
    }
    case "hostOnly":
      switch (s.call) {
        case "sleep":
          return { hr: m.sleep() };
        case "switchToTask":
          return { hr: m.switchToTask() };
        case "setLocale":
          return { hr: m.setLocale() };
        case "callNeedsHostHook":
          return out(m.callNeedsHostHook());
        case "getStackGuarantee":
          return out(m.getStackGuarantee());
        case "setStackGuarantee":
          return { hr: m.setStackGuarantee() };
      }
      break;
    case "run":
      return { hr: m.run() };
    case "crstTryEnter":
      return out(m.crstTryEnter(m.crsts[s.c]));
    case "crstLeave":
      return { hr: m.crstLeave(m.crsts[s.c]) };
  }
  throw new Error(`unknown step ${JSON.stringify(s)}`);
}

const named = (a: Answer): unknown =>
  "hrs" in a
    ? a.hrs.map((h) => (typeof h === "number" ? hrName(h) : h))
    : { hr: typeof a.hr === "number" ? hrName(a.hr) : a.hr, value: a.value };

// --- what is compared after every step ---------------------------------------------------------

async function observeReal(w: World) {
  const { host } = w;
  const out: Out<Task> = {};
  // GetCurrentTask is a hosting call like any other: it would meet an injected fault.
  const ask = !w.model.disabled && !w.model.faultArmed;
  const current = ask && host.taskManager.getCurrentTask(out) === S_OK ? w.tasks.indexOf(out.value!) : "n/a";
  const tasks = [];
  for (let n = 0; n < w.tasks.length; n++) {
    const t = w.tasks[n];
    // A fiber that ended has settled its result; one that has not is never awaited.
    const outcome = t.done ? (await settle(t.result)).outcome : "pending";
    tasks.push({
      n,
      state: t.getState(),
      done: t.done,
      outcome,
      mode: t.mode,
      depth: t.depth,
      frames: t.frames(),
      counters: t.counters(),
    });
  }
  return {
    runtimeState: host.runtimeState,
    current,
    totals: host.counters(),
    liveTasks: host.liveTaskCount,
    managed: host.countManaged(),
    tasks,
  };
}

function observeModel(w: World) {
  const m = w.model;
  return {
    runtimeState: m.runtimeState(),
    current: m.disabled || m.faultArmed ? "n/a" : m.current.n,
    totals: m.totals(),
    liveTasks: m.liveTasks(),
    managed: m.countManaged(),
    tasks: m.tasks.map((t) => ({
      n: t.n,
      state: t.hostState,
      done: t.hostState === "done",
      // A task ended by hand (ExitTask) settles its result as returned, like a fiber that ran.
      outcome: t.hostState === "done" ? t.outcome : "pending",
      mode: m.mode(t),
      depth: t.frames.length,
      frames: t.frames.map((f) => ({ ...f })),
      counters: { ...t.counters },
    })),
  };
}

export async function check(core: "release" | "debug", maxStackSize: number | undefined, steps: Step[]): Promise<void> {
  const host = await createHost({ core, clock: "virtual", ...(maxStackSize === undefined ? {} : { maxStackSize }) });
  const w: World = {
    host,
    model: new ContractModel({ maxStackSize: maxStackSize ?? DEFAULT_MAX_STACK_BYTES, crsts: 2 }),
    tasks: [host.rootTask],
    crsts: [host.createCrst(), host.createCrst()],
  };
  for (let i = 0; i < steps.length; i++) {
    const s = steps[i];
    const where = `step ${i} ${JSON.stringify(s, (_k, v) => (typeof v === "bigint" ? `${v}n` : v))}`;
    const real = realStep(w, s);
    const predicted = modelStep(w, s);
    expect(named(real), `${where}: the answer`).toEqual(named(predicted));
    expect(await observeReal(w), `${where}: the state after it`).toEqual(observeModel(w));
    if (!w.model.disabled) expect(host.checkInvariants(), `${where}: the core's invariants`).toBe(true);
  }
}
