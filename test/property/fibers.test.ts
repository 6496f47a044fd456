// Differential property over fibers run by the scheduler on a virtual clock: generated programs
// of a few fibers, each running a list of instructions (yield, sleep, managed / unmanaged scopes,
// raw transitions, manual-event wait and set, Crst scopes, join, abort of a victim, ExitTask),
// against the model in test/model/fiber-model.ts (which says what the programs leave out, and
// why). After host.runUntilIdle() every fiber must have ended as the model says (returned with
// its value, aborted, an error with its HRESULT) or be blocked where the model says; no fiber is
// lost; each operation answered what the model says; the counters, frames and totals agree; the
// switch counters follow the README (a fiber is switched in each time it runs and switched out
// each time it stops without ending); and the core's invariants hold.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  createHost,
  INFINITE,
  S_OK,
  type Crst,
  type FiberContext,
  type Host,
  type ManualEvent,
  type Task,
} from "../../src/index.js";
import { predict, type FiberProgram, type Instr, type Victim } from "../model/fiber-model.js";
import type { TransitionOp } from "../model/contract-model.js";
import { hrName } from "../model/hresults.js";
import { checkProperty, runs, settle, timeLimit } from "./support.js";

/** CallNeedsHostHook: calls to targets ≡ 3 (mod 4) get no LeaveRuntime / EnterRuntime. */
const needsHostHook = (target: number) => target % 4 !== 3;
const EVENTS = 3;

// --- programs --------------------------------------------------------------------------------------

const target = fc.constantFrom(0, 1, 2, 3, 7, 0x1000, 0xffffffff);
const rawOp = fc.constantFrom<TransitionOp>("leave", "enter", "reverseEnter", "reverseLeave");

/**
 * Instructions; `inLock`: inside a locked scope (no wait, join, lock or exit there). Joins and
 * aborts name their fiber by a number resolved when the program is assembled (see assemble).
 */
function instrs(depth: number, inLock: boolean): fc.Arbitrary<Instr[]> {
  const leaves: fc.Arbitrary<Instr>[] = [
    fc.constant<Instr>({ k: "yield" }),
    fc.record({ k: fc.constant("sleep" as const), ms: fc.integer({ min: 1, max: 30 }) }),
    fc.record({ k: fc.constant("raw" as const), op: rawOp, target }),
    fc.record({ k: fc.constant("raw" as const), op: rawOp, target }),
    fc.record({ k: fc.constant("set" as const), e: fc.nat(EVENTS - 1) }),
    fc.record({ k: fc.constant("abort" as const), v: fc.nat(3) }),
  ];
  if (!inLock) {
    leaves.push(
      fc.record({ k: fc.constant("wait" as const), e: fc.nat(EVENTS - 1) }),
      fc.record({ k: fc.constant("join" as const), j: fc.nat(5) }),
      fc.constant<Instr>({ k: "exit" }),
    );
  }
  const nested: fc.Arbitrary<Instr>[] =
    depth === 0
      ? []
      : [
          fc.record({ k: fc.constant("managed" as const), body: instrs(depth - 1, inLock) }),
          fc.record({ k: fc.constant("managed" as const), body: instrs(depth - 1, inLock) }),
          fc.record({ k: fc.constant("unmanaged" as const), target, body: instrs(depth - 1, inLock) }),
          ...(inLock ? [] : [fc.record({ k: fc.constant("locked" as const), body: instrs(depth - 1, true) })]),
        ];
  return fc.array(fc.oneof(...leaves, ...nested), { maxLength: 5 });
}

const victim: fc.Arbitrary<Victim> = fc.record({
  scopes: fc.array(
    fc.oneof(fc.constant({ k: "managed" as const }), fc.record({ k: fc.constant("unmanaged" as const), target })),
    { maxLength: 3 },
  ),
  region: fc.constantFrom<Victim["region"]>("none", "none", "delay", "prevent", "closedDelay", "closedPrevent"),
  forever: fc.constantFrom<Victim["forever"]>("event", "sleep"),
});

/**
 * Resolves the numbers in a program: a join names an earlier worker (none: a yield instead); an
 * abort names a victim (none: a yield), and only the first abort of each victim is kept (later
 * ones become yields), so no victim is aborted twice.
 */
function assemble(victims: Victim[], workers: Instr[][]): FiberProgram {
  const aborted = new Set<number>();
  const fix = (list: Instr[], self: number): Instr[] =>
    list.map((ins): Instr => {
      switch (ins.k) {
        case "join":
          return self === 0 ? { k: "yield" } : { k: "join", j: ins.j % self };
        case "abort": {
          if (victims.length === 0) return { k: "yield" };
          const v = ins.v % victims.length;
          if (aborted.has(v)) return { k: "yield" };
          aborted.add(v);
          return { k: "abort", v };
        }
        case "managed":
        case "locked":
          return { ...ins, body: fix(ins.body, self) };
        case "unmanaged":
          return { ...ins, body: fix(ins.body, self) };
        default:
          return ins;
      }
    });
  return { victims, workers: workers.map((w, i) => fix(w, i)), events: EVENTS };
}

const programs = fc
  .record({
    victims: fc.array(victim, { maxLength: 2 }),
    workers: fc.array(instrs(3, false), { minLength: 1, maxLength: 4 }),
  })
  .map(({ victims, workers }) => assemble(victims, workers));

/**
 * The same programs, run first with the runtime suspended, then resumed: fibers in unmanaged code
 * run on, and one entering managed code waits for the resume (enterTimeoutMs is INFINITE), so the
 * end is the same as without the suspension. Victims are left out: an abort could then find a
 * victim still waiting for the resume instead of at its wait, which depends on the order.
 */
const suspendedPrograms = fc
  .array(instrs(3, false), { minLength: 1, maxLength: 4 })
  .map((workers) => assemble([], workers));

// --- running a program on a real host ----------------------------------------------------------------

interface Env {
  host: Host;
  events: ManualEvent[];
  never: ManualEvent;
  crst: Crst;
  victims: Task[];
  workers: Task[];
}

/** The instructions as a fiber body; `log` gets the HRESULT of each logged operation. */
function* interpret(env: Env, f: FiberContext, list: Instr[], log: number[]): Generator<unknown, void, unknown> {
  for (const ins of list) {
    switch (ins.k) {
      case "yield":
        yield* f.yield();
        break;
      case "sleep":
        log.push(yield* f.sleep(ins.ms));
        break;
      case "managed":
        yield* f.managed(() => interpret(env, f, ins.body, log));
        break;
      case "unmanaged":
        yield* f.unmanaged(ins.target, () => interpret(env, f, ins.body, log));
        break;
      case "raw": {
        const op =
          ins.op === "leave"
            ? f.leaveRuntime(ins.target)
            : ins.op === "enter"
              ? f.enterRuntime()
              : ins.op === "reverseEnter"
                ? f.reverseEnterRuntime()
                : f.reverseLeaveRuntime();
        log.push(yield* op);
        break;
      }
      case "wait":
        log.push(yield* f.wait(env.events[ins.e]));
        break;
      case "set":
        env.events[ins.e].set();
        break;
      case "locked":
        log.push(yield* env.crst.enter());
        try {
          yield* interpret(env, f, ins.body, log);
        } finally {
          log.push(env.crst.leave());
        }
        break;
      case "join":
        log.push(yield* f.join(env.workers[ins.j]));
        break;
      case "abort":
        log.push(env.victims[ins.v].abort());
        break;
      case "exit":
        log.push(f.task.exitTask());
        break;
    }
  }
}

function* victimBody(env: Env, f: FiberContext, v: Victim, depth: number): Generator<unknown, void, unknown> {
  if (depth < v.scopes.length) {
    const s = v.scopes[depth];
    const inner = () => victimBody(env, f, v, depth + 1);
    yield* s.k === "managed" ? f.managed(inner) : f.unmanaged(s.target, inner);
    return;
  }
  const tm = env.host.taskManager;
  const expectOk = (hr: number, what: string) => {
    if (hr !== S_OK) throw new Error(`${what} answered ${hrName(hr)}`);
  };
  if (v.region === "delay" || v.region === "closedDelay") expectOk(tm.beginDelayAbort(), "BeginDelayAbort");
  if (v.region === "prevent" || v.region === "closedPrevent")
    expectOk(f.task.beginPreventAsyncAbort(), "BeginPreventAsyncAbort");
  if (v.region === "closedDelay") expectOk(tm.endDelayAbort(), "EndDelayAbort");
  if (v.region === "closedPrevent") expectOk(f.task.endPreventAsyncAbort(), "EndPreventAsyncAbort");
  yield* v.forever === "event" ? f.wait(env.never) : f.sleep(INFINITE);
  throw new Error("a wait that never ends ended");
}

async function check(core: "release" | "debug", program: FiberProgram, suspendFirst = false): Promise<void> {
  const host = await createHost({ core, clock: "virtual", callNeedsHostHook: needsHostHook });
  const env: Env = {
    host,
    events: Array.from({ length: program.events }, () => host.createManualEvent(false)),
    never: host.createManualEvent(false),
    crst: host.createCrst(),
    victims: [],
    workers: [],
  };
  if (suspendFirst) expect(host.suspendRuntime()).toBe(S_OK);
  const logs: number[][] = [];
  program.victims.forEach((v, i) => {
    const log: number[] = [];
    logs.push(log);
    env.victims.push(host.spawn((f) => victimBody(env, f, v, 0), { name: `victim-${i}` }));
  });
  program.workers.forEach((w, i) => {
    const log: number[] = [];
    logs.push(log);
    env.workers.push(
      host.spawn(
        function* (f) {
          yield* interpret(env, f, w, log);
          return i;
        },
        { name: `worker-${i}` },
      ),
    );
  });

  // Each fiber's result read from the start: the failures the model predicts are observed (not
  // reported to onError, which fails the test), whenever this check reaches them.
  const settled = [...env.victims, ...env.workers].map((t) => settle(t.result));
  host.runUntilIdle();
  if (suspendFirst) {
    // docs/contract.md §3: while the runtime is suspended no task enters managed mode.
    expect(host.countManaged(), "tasks in managed mode while the runtime is suspended").toBe(0);
    expect(host.resumeRuntime()).toBe(S_OK);
    host.runUntilIdle();
  }

  const predicted = predict(program, needsHostHook);
  const tasks = [...env.victims, ...env.workers];
  const real = [];
  for (let i = 0; i < tasks.length; i++) {
    const t = tasks[i];
    let result: unknown;
    if (!t.done) {
      // Blocked, not lost: it waits on something.
      result = { outcome: "blocked", state: t.getState() };
    } else {
      const s = await settled[i]!;
      result =
        s.outcome === "returned"
          ? { outcome: "returned", value: s.value }
          : s.outcome === "aborted"
            ? { outcome: "aborted" }
            : {
                outcome: "error",
                hr: hrName((s.error as { hr?: number }).hr ?? `not an HResultError: ${String(s.error)}`),
              };
    }
    const { switchIn, switchOut, ...counters } = t.counters();
    real.push({
      name: t.name,
      result,
      log: logs[i].map(hrName),
      counters,
      frames: t.frames(),
      // README: switched in whenever it runs, switched out whenever it stops without ending.
      switches: t.done
        ? switchIn - switchOut
        : switchIn - switchOut === 0 && switchIn >= 1
          ? 0
          : `in ${switchIn}, out ${switchOut}`,
    });
  }
  const expected = predicted.map((p) => ({
    name: p.name,
    result:
      p.result.outcome === "blocked"
        ? { outcome: "blocked", state: "waiting" }
        : p.result.outcome === "error"
          ? { outcome: "error", hr: hrName(p.result.hr) }
          : p.result,
    log: p.log.map(hrName),
    counters: p.counters,
    frames: p.frames,
    switches: p.result.outcome === "blocked" ? 0 : 1,
  }));
  expect(real).toEqual(expected);

  // The host's view agrees with the fibers'.
  const totals = host.counters();
  const sum = (name: keyof typeof totals) =>
    tasks.reduce((n, t) => n + t.counters()[name], 0) + host.rootTask.counters()[name];
  for (const name of Object.keys(totals) as (keyof typeof totals)[])
    expect(totals[name], `total ${name}`).toBe(sum(name));
  const blocked = predicted.filter((p) => p.result.outcome === "blocked");
  expect(host.liveTaskCount, "live tasks: the root task and the blocked fibers").toBe(1 + blocked.length);
  expect(host.countManaged(), "blocked fibers in managed mode").toBe(
    blocked.filter((p) => p.frames.length > 0 && p.frames[p.frames.length - 1].kind === "reverseEnter").length,
  );
  expect(env.crst.getOwner(), "no fiber keeps the Crst").toBe(null);
  expect(host.checkInvariants(), "the core's invariants").toBe(true);
  expect(host.runtimeState).toBe("started");
}

// Sequences per core: RUNS + RUNS / 2.
const RUNS = runs(500);

describe.each(["release", "debug"] as const)("fibers on a virtual clock agree with the model (%s core)", (core) => {
  it(
    "outcomes, HRESULTs, counters and frames; every fiber ends unless the model says it is blocked",
    () =>
      checkProperty(
        fc.asyncProperty(programs, (program) => check(core, program)),
        RUNS,
      ),
    timeLimit(),
  );

  it(
    "the same end when the programs start with the runtime suspended and it resumes once they are idle",
    () =>
      checkProperty(
        fc.asyncProperty(suspendedPrograms, (program) => check(core, program, true)),
        Math.ceil(RUNS / 2),
      ),
    timeLimit(),
  );
});
