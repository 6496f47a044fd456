// The plain operations: a yield, a raw transition, a wait, and the ones that answer at once.

import type { Task } from "../task/task.js";
import type { SchedulerPort } from "../scheduler/port.js";
import type { Transition } from "../core/generated/layout.js";
import { Cmd } from "../kernel/commands.js";
import { currentFiber, foreignOperation } from "../scheduler/driving.js";
import { BLOCK, type Waitable } from "../kernel/waitable.js";
import { Op, noteRan } from "./operation.js";
import { BlockingOp } from "./blocking.js";
import { type FaceWait, takeFace } from "./wait-face.js";
import { S_OK } from "../base/hresult.js";
import { isTimeout } from "../base/args.js";
import { safePoint, transitionOrWait, type FiberEnv } from "./env.js";

import { ATTENTION as ATTENTION_ } from "../task/state.js";
import { DESCRIBE as DESCRIBE_ } from "../kernel/waitable.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const ATTENTION: typeof ATTENTION_ = ATTENTION_;
const DESCRIBE: typeof DESCRIBE_ = DESCRIBE_;
/** f.yield(): reused, so a switch allocates nothing. */
export class YieldOp extends Op<number> {
  private started = false;
  private readonly doneResult = { value: S_OK, done: true as const };
  constructor(
    t: Task,
    private readonly sched: SchedulerPort,
  ) {
    super(t);
    noteRan(this); // (made once, reused: `yield f.yield()` is recognised without running it)
  }
  // `yield* f.yield()` asks for the iterator at every switch: the token, made once, was noted as
  // run when it was made (the constructor), so it skips Op's noteRan (a module variable's load
  // and a look at its task's extras a switch).
  override [Symbol.iterator](): this {
    return this;
  }
  next(): IteratorResult<number, number> {
    if (this.started) {
      this.started = false;
      return this.doneResult;
    }
    if (this.t[ATTENTION]) {
      // Only a safe point acts for the context's task (its abort, exit or yield request), so only
      // here is another fiber's use refused: without one, the operation yields the fiber that
      // yields it (the Yield command moves the fiber being driven), and the switch's hot path
      // stays free of the check (it cost ~6% of a switch).
      if (currentFiber() !== this.t) throw foreignOperation(this.t);
      if (safePoint(this.sched, this.t) === Cmd.End) return this.command(Cmd.End);
    }
    this.started = true;
    return this.command(Cmd.Yield);
  }
  throw(err: unknown): never {
    this.started = false;
    throw err;
  }
}

/** A raw transition: answers the HRESULT; entering managed code waits while the runtime is suspended. */
export class TransitionOp extends Op<number> {
  private waited = false;
  constructor(
    t: Task,
    private readonly env: FiberEnv,
    private readonly op: Transition,
    private readonly target: number,
  ) {
    super(t);
  }
  /** @internal */
  opName(): string {
    return "a runtime transition (f.leaveRuntime, f.enterRuntime, f.reverseEnterRuntime or f.reverseLeaveRuntime)";
  }
  next(v?: unknown): IteratorResult<number, number> {
    this.own();
    if (this.waited) {
      this.waited = false;
      if (v !== S_OK) return this.result(v as number); // HOST_E_TIMEOUT, HOST_E_ABANDONED
    } else {
      const sp = safePoint(this.env.sched, this.t);
      if (sp) return this.command(sp);
    }
    const hr = transitionOrWait(this.env, this.t, this.op, this.target);
    if (hr !== BLOCK) return this.result(hr);
    this.waited = true;
    return this.command(Cmd.Park);
  }
}

/**
 * A wait on a Waitable: finishes at once when it can, otherwise parks until woken. A `yield*` of it
 * delegates to the fiber's task (its wait face, src/operations/wait-face.ts) when it can, so that
 * the operation is not held while the fiber waits.
 */
export class WaitOp extends BlockingOp<number> implements FaceWait {
  constructor(
    t: Task,
    sched: SchedulerPort,
    private readonly w: Waitable<Task>,
    ms: number,
    private readonly option: number,
  ) {
    super(t);
    void sched; // the task's own (t.env.sched): not kept, a parked fiber holds this operation
    // Kept signed: INFINITE (2^32 − 1) would be a boxed double in every parked fiber's operation.
    this.ms = isTimeout(ms) ? ms | 0 : NaN; // NaN: not a timeout, block() answers E_INVALIDARG
  }
  private readonly ms: number;
  // (The face's iterator is not this operation: typed as one, as `yield*` needs no more.)
  [Symbol.iterator](): this {
    noteRan(this);
    return (takeFace(this.t, this) ?? this) as this;
  }
  /** @internal */
  opName(): string {
    return `a wait on ${this.w[DESCRIBE]()}`;
  }
  block(sched: SchedulerPort): number {
    return sched.block(this.t, this.w, Number.isNaN(this.ms) ? NaN : this.ms >>> 0, this.option);
  }
  protected answer(hr: number): IteratorResult<number, number> {
    return this.result(hr);
  }
}

/** An operation that answers at once (bad arguments, a wait decided before it starts). */
export class DoneOp<R> extends Op<R> {
  constructor(
    t: Task,
    private readonly answer: R,
  ) {
    super(t);
  }
  next(): IteratorResult<R, R> {
    noteRan(this);
    return this.result(this.answer);
  }
}

/** An operation that throws at once (the throwing operations' bad arguments). */
export class ThrowOp extends Op<never> {
  constructor(
    t: Task,
    private readonly err: Error,
  ) {
    super(t);
  }
  next(): never {
    noteRan(this);
    throw this.err;
  }
}
