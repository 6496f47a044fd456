// A reference model of fibers run by the scheduler, for programs whose outcome does not depend on
// the order in which the scheduler interleaves them. It predicts, for each fiber: how it ended
// (returned with its value, aborted, an error with its HRESULT) or that it is blocked for good;
// the HRESULT of every operation it made; its transition counters; its open frames.
//
// The instruction set is restricted so that the interleaving cannot matter:
//   - events are manual and only ever set (never reset): a wait passes once anyone sets it;
//   - joins name an earlier worker only (no cycle, so no HOST_E_DEADLOCK);
//   - a Crst is taken only as a scope (locked { ... }) whose body never waits, joins, locks or
//     exits: its owner always lets go, so a Crst delays fibers but never decides an outcome;
//   - aborts target "victims" only: fibers spawned before every worker that run straight to a wait
//     that never ends (nested scopes around it, maybe inside a delay-abort or prevent-async-abort
//     region), so an abort always finds its victim waiting there; each victim is aborted at most
//     once;
//   - ExitTask (on the running fiber itself) is never inside a locked scope.
// Left out (they depend on timing or order): timeouts on waits, auto events and semaphores,
// event reset, alerts, priorities, yield requests, rude aborts, f.await, suspension of the
// runtime, Crst waits inside a Crst, aborts of workers. The switch counters are not predicted
// exactly (they depend on the interleaving): the test checks what the README says of them, one
// switch-in per run and one switch-out per run that did not end the fiber.
//
// Because events only get set and fibers only end, every fiber's progress grows monotonically, so
// the fixpoint below (advance every fiber as far as it can, until none can) is the final state
// whatever order the real scheduler picks.

import { COUNTERS, type MCounters, type MFrame, type TransitionOp, zeroCounters } from "./contract-model.js";
import { E_INVALIDARG, HOST_E_INVALIDOPERATION, S_OK } from "./hresults.js";

export type Instr =
  | { k: "yield" }
  | { k: "sleep"; ms: number }
  | { k: "managed"; body: Instr[] }
  | { k: "unmanaged"; target: number; body: Instr[] }
  | { k: "raw"; op: TransitionOp; target: number }
  | { k: "wait"; e: number }
  | { k: "set"; e: number }
  | { k: "locked"; body: Instr[] }
  | { k: "join"; j: number }
  | { k: "abort"; v: number }
  | { k: "exit" };

/** A victim: nested scopes, and in the innermost one a wait that never ends. */
export interface Victim {
  scopes: ({ k: "managed" } | { k: "unmanaged"; target: number })[];
  /** none; a region open around the wait (it holds the abort back); a region closed before it. */
  region: "none" | "delay" | "prevent" | "closedDelay" | "closedPrevent";
  forever: "event" | "sleep";
}

export interface FiberProgram {
  victims: Victim[];
  workers: Instr[][];
  events: number;
}

export type Outcome =
  | { outcome: "returned"; value: unknown }
  | { outcome: "aborted" }
  | { outcome: "error"; hr: number }
  | { outcome: "blocked" };

export interface FiberPrediction {
  name: string;
  result: Outcome;
  /** Every logged operation's HRESULT, in order. */
  log: number[];
  /** Counters other than switchIn / switchOut. */
  counters: Omit<MCounters, "switchIn" | "switchOut">;
  /** Open frames: [] once it ended. */
  frames: MFrame[];
}

// --- the interpreter -----------------------------------------------------------------------------

/** What a blocked fiber waits for. */
type Block = { event: number } | { join: number } | { forever: true };

/** The abort thrown into a victim. */
class Abort {}
/** A failing transition inside a scope: HResultError in the real fiber. */
class HrError {
  constructor(readonly hr: number) {}
}
/** ExitTask took effect at a safe point: the fiber ends now, no handlers run. */
class End {}

interface FiberState {
  name: string;
  frames: MFrame[];
  counters: MCounters;
  log: number[];
  exitRequested: boolean;
  result: Outcome | null;
  blockedOn: Block | null;
  abortRequested: boolean;
  /** A delay-abort region or prevent-async-abort count is open. */
  inRegion: boolean;
  gen: Generator<Block, unknown, number> | null;
}

export function predict(program: FiberProgram, needsHostHook: (target: number) => boolean): FiberPrediction[] {
  const events = new Array<boolean>(program.events).fill(false);
  const victims: FiberState[] = program.victims.map((_, i) => fresh(`victim-${i}`));
  const workers: FiberState[] = program.workers.map((_, i) => fresh(`worker-${i}`));
  const all = [...victims, ...workers];

  function fresh(name: string): FiberState {
    return {
      name,
      frames: [],
      counters: zeroCounters(),
      log: [],
      exitRequested: false,
      result: null,
      blockedOn: null,
      abortRequested: false,
      inRegion: false,
      gen: null,
    };
  }

  /** RULES (README): the HRESULT of a transition, and its push or pop when it succeeds. */
  function transition(f: FiberState, op: TransitionOp, target: number): number {
    const top = f.frames.length === 0 ? "none" : f.frames[f.frames.length - 1].kind;
    const ok =
      op === "leave"
        ? top === "reverseEnter"
        : op === "enter"
          ? top === "leave"
          : op === "reverseLeave"
            ? top === "reverseEnter"
            : true;
    if (!ok) return HOST_E_INVALIDOPERATION;
    if (op === "leave") f.frames.push({ kind: "leave", target });
    else if (op === "reverseEnter") f.frames.push({ kind: "reverseEnter", target: 0 });
    else f.frames.pop();
    const counter = {
      leave: "leaveRuntime",
      enter: "enterRuntime",
      reverseEnter: "reverseEnterRuntime",
      reverseLeave: "reverseLeaveRuntime",
    } as const;
    f.counters[counter[op]]++;
    return S_OK;
  }

  /** A safe point: an operation is about to act. A requested exit ends the fiber here. */
  function safePoint(f: FiberState): void {
    if (f.exitRequested) throw new End();
  }

  /** f.managed / f.unmanaged: balanced even when the body throws; a failing transition throws. */
  function* scope(
    f: FiberState,
    managed: boolean,
    target: number,
    body: () => Generator<Block, void, number>,
  ): Generator<Block, void, number> {
    safePoint(f);
    const hooked = managed || needsHostHook(target);
    if (hooked) {
      const hr = transition(f, managed ? "reverseEnter" : "leave", target);
      if (hr !== S_OK) throw new HrError(hr); // the body does not run, nothing to close
    }
    let thrown: unknown = null;
    try {
      yield* body();
    } catch (e) {
      if (e instanceof End) throw e; // no handlers run
      thrown = e;
    }
    if (hooked) {
      const hr = transition(f, managed ? "reverseLeave" : "enter", 0);
      if (hr !== S_OK) throw new HrError(hr);
    }
    if (thrown !== null) throw thrown;
  }

  function* run(f: FiberState, self: number, instrs: Instr[]): Generator<Block, void, number> {
    for (const ins of instrs) {
      switch (ins.k) {
        case "yield":
          safePoint(f);
          break;
        case "sleep":
          safePoint(f);
          f.log.push(S_OK);
          break;
        case "managed":
          yield* scope(f, true, 0, () => run(f, self, ins.body));
          break;
        case "unmanaged":
          yield* scope(f, false, ins.target, () => run(f, self, ins.body));
          break;
        case "raw":
          safePoint(f);
          f.log.push(transition(f, ins.op, ins.target));
          break;
        case "wait":
          safePoint(f);
          f.log.push(yield { event: ins.e });
          break;
        case "set":
          events[ins.e] = true;
          break;
        case "locked": {
          safePoint(f); // crst.enter() is a wait
          f.log.push(S_OK);
          let ended = false;
          try {
            yield* run(f, self, ins.body);
          } catch (e) {
            ended = e instanceof End;
            throw e;
          } finally {
            if (!ended) f.log.push(S_OK); // crst.leave()
          }
          break;
        }
        case "join":
          safePoint(f);
          f.log.push(yield { join: ins.j });
          break;
        case "abort": {
          const v = victims[ins.v];
          // A victim is either waiting for good (it ran first) or already ended by an error.
          if (v.result !== null) {
            f.log.push(E_INVALIDARG);
          } else {
            v.abortRequested = true;
            f.log.push(S_OK);
          }
          break;
        }
        case "exit":
          f.exitRequested = true;
          f.log.push(S_OK);
          break;
      }
    }
  }

  function* victimBody(f: FiberState, v: Victim, depth: number): Generator<Block, void, number> {
    if (depth < v.scopes.length) {
      const s = v.scopes[depth];
      return yield* scope(f, s.k === "managed", s.k === "managed" ? 0 : s.target, () => victimBody(f, v, depth + 1));
    }
    if (v.region === "delay" || v.region === "prevent") f.inRegion = true;
    safePoint(f);
    yield { forever: true };
  }

  function* workerBody(f: FiberState, i: number): Generator<Block, unknown, number> {
    yield* run(f, i, program.workers[i]);
    return i;
  }

  /** Runs `f` until it blocks or ends; `resume` is how it continues. */
  function advance(f: FiberState, resume: () => IteratorResult<Block, unknown>): void {
    let r: IteratorResult<Block, unknown>;
    try {
      r = resume();
    } catch (e) {
      finish(
        f,
        e instanceof Abort
          ? { outcome: "aborted" }
          : e instanceof End
            ? { outcome: "returned", value: undefined }
            : { outcome: "error", hr: (e as HrError).hr },
      );
      return;
    }
    if (r.done) finish(f, { outcome: "returned", value: r.value });
    else f.blockedOn = r.value;
  }

  /** The fiber ended: ExitTask clears its frames, counting open reverse enters. */
  function finish(f: FiberState, result: Outcome): void {
    for (const fr of f.frames) if (fr.kind === "reverseEnter") f.counters.unmatchedReverseEnter++;
    f.frames = [];
    f.result = result;
    f.blockedOn = null;
  }

  // Victims first: spawned first, each runs to its wait before any worker runs.
  program.victims.forEach((v, i) => {
    const f = victims[i];
    f.gen = victimBody(f, v, 0) as Generator<Block, unknown, number>;
    advance(f, () => f.gen!.next());
  });
  workers.forEach((f, i) => {
    f.gen = workerBody(f, i);
  });
  const started = new Set<FiberState>(victims);

  for (let progress = true; progress; ) {
    progress = false;
    for (const f of all) {
      if (f.result !== null) continue;
      if (!started.has(f)) {
        started.add(f);
        advance(f, () => f.gen!.next());
        progress = true;
        continue;
      }
      const b = f.blockedOn!;
      if ("event" in b && events[b.event]) {
        advance(f, () => f.gen!.next(S_OK));
        progress = true;
      } else if ("join" in b && workers[b.join].result !== null) {
        advance(f, () => f.gen!.next(S_OK));
        progress = true;
      } else if ("forever" in b && f.abortRequested && !f.inRegion) {
        advance(f, () => f.gen!.throw(new Abort()));
        progress = true;
      }
    }
  }

  return all.map((f) => {
    const counters = {} as Omit<MCounters, "switchIn" | "switchOut">;
    for (const c of COUNTERS) if (c !== "switchIn" && c !== "switchOut") counters[c] = f.counters[c];
    return { name: f.name, result: f.result ?? { outcome: "blocked" }, log: f.log, counters, frames: f.frames };
  });
}
