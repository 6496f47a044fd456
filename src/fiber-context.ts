// The fiber context `f` that a fiber body receives: its operations, each used with `yield*`.
// Transitions and waits that can finish at once finish inside the operation; only a real switch
// or wait reaches the scheduler.

import type { Task } from "./task.js";
import type { Scheduler } from "./scheduler/scheduler.js";
import { SafePoint } from "./scheduler/scheduler.js";
import type { CoreDoor } from "./core/door.js";
import { MUST_WAIT_FOR_RESUME } from "./core/door.js";
import { Cmd, Op, isIterator, type PushOp } from "./scheduler/op.js";
import { BLOCK, type Waitable } from "./scheduler/waitable.js";
import { TaskQueue } from "./scheduler/queue.js";
import { E_INVALIDARG, HResultError, INFINITE, S_OK, HOST_E_DEADLOCK } from "./hresult.js";
import { isDword } from "./args.js";

const OP_LEAVE = 0;
const OP_ENTER = 1;
const OP_REVERSE_ENTER = 2;
const OP_REVERSE_LEAVE = 3;
const OP_NAMES = ["LeaveRuntime", "EnterRuntime", "ReverseEnterRuntime", "ReverseLeaveRuntime"];

/** The LeaveRuntime target an f.await uses when it leaves managed code for the wait. */
export const AWAIT_TARGET = 0;

/** What the context needs from its host (the one-way flow: context → scheduler / core). */
export interface FiberEnv {
  sched: Scheduler;
  door: CoreDoor;
  /** IHostTaskManager::CallNeedsHostHook, asked once per target. */
  needsHostHook(target: number): boolean;
  isOwnTask(t: unknown): t is Task;
  isSyncObject(o: unknown): o is Waitable & { kind: string };
}

/**
 * Runs a safe point for an operation about to act: throws a deliverable abort into the fiber, or
 * answers the command the operation must hand the scheduler first (Yield, End), or 0.
 */
function safePoint(sched: Scheduler, t: Task): Cmd | 0 {
  if (!t.attention) return 0;
  switch (sched.checkpoint(t)) {
    case SafePoint.Abort:
      throw sched.takeAbort(t);
    case SafePoint.Yield:
      return Cmd.Yield;
    case SafePoint.End:
      return Cmd.End;
    default:
      return 0;
  }
}

/** f.yield(): reused, so a switch allocates nothing. */
class YieldOp extends Op<number> {
  private started = false;
  private readonly doneResult = { value: S_OK, done: true as const };
  constructor(t: Task, private readonly sched: Scheduler) {
    super(t);
  }
  next(): IteratorResult<number, number> {
    if (this.started) {
      this.started = false;
      return this.doneResult;
    }
    if (this.t.attention && safePoint(this.sched, this.t) === Cmd.End) return this.command(Cmd.End);
    this.started = true;
    return this.command(Cmd.Yield);
  }
  throw(err: unknown): never {
    this.started = false;
    throw err;
  }
}

/** A raw transition: answers the HRESULT; entering managed code waits while the runtime is suspended. */
class TransitionOp extends Op<number> {
  private waited = false;
  constructor(t: Task, private readonly env: FiberEnv, private readonly op: number, private readonly target: number) {
    super(t);
  }
  next(v?: unknown): IteratorResult<number, number> {
    if (this.waited) {
      this.waited = false;
      if (v !== S_OK) return this.result(v as number); // HOST_E_TIMEOUT, HOST_E_ABANDONED
    } else {
      const sp = safePoint(this.env.sched, this.t);
      if (sp) return this.command(sp);
    }
    const hr = this.env.door.transition(this.op, this.target);
    if (hr !== MUST_WAIT_FOR_RESUME) return this.result(hr);
    const w = this.env.sched.waitForResume(this.t, false);
    if (w !== BLOCK) return this.result(w);
    this.waited = true;
    return this.command(Cmd.Park);
  }
}

/** A wait on a Waitable: finishes at once when it can, otherwise parks until woken. */
class WaitOp extends Op<number> {
  private parked = false;
  constructor(
    t: Task,
    private readonly sched: Scheduler,
    private readonly w: Waitable,
    private readonly ms: number,
    private readonly option: number,
    private readonly timeoutResult?: number,
  ) {
    super(t);
  }
  next(v?: unknown): IteratorResult<number, number> {
    if (this.parked) {
      this.parked = false;
      return this.result(v as number);
    }
    const sp = safePoint(this.sched, this.t);
    if (sp) return this.command(sp);
    const hr = this.sched.block(this.t, this.w, this.ms, this.option, this.timeoutResult);
    if (hr !== BLOCK) return this.result(hr);
    this.parked = true;
    return this.command(Cmd.Park);
  }
}

/** An operation that answers at once (bad arguments, a wait decided before it starts). */
export class DoneOp<R> extends Op<R> {
  constructor(t: Task, private readonly answer: R) {
    super(t);
  }
  next(): IteratorResult<R, R> {
    return this.result(this.answer);
  }
}

/** An operation that throws at once (the throwing operations' bad arguments). */
class ThrowOp extends Op<never> {
  constructor(t: Task, private readonly err: Error) {
    super(t);
  }
  next(): never {
    throw this.err;
  }
}

const enum ScopePhase {
  Open,
  WaitOpen,
  Body,
  WaitClose,
}

/**
 * f.managed / f.unmanaged: runs a body between an opening and a closing transition, balanced when
 * the body throws or the fiber is aborted. A failed opening means the body does not run and no
 * closing transition is made; a failing transition throws HResultError in the fiber.
 */
class ScopeOp<R> extends Op<R> implements PushOp {
  body: Iterator<unknown> | null = null;
  private phase = ScopePhase.Open;
  private hooked = true;
  /** What the body ended with, while the closing transition waits for the runtime to resume. */
  private closing: { threw: boolean; value: unknown } | null = null;

  constructor(
    t: Task,
    private readonly env: FiberEnv,
    private readonly managed: boolean,
    private readonly target: number,
    private readonly fn: () => unknown,
  ) {
    super(t);
  }

  private get openOp(): number {
    return this.managed ? OP_REVERSE_ENTER : OP_LEAVE;
  }
  private get closeOp(): number {
    return this.managed ? OP_REVERSE_LEAVE : OP_ENTER;
  }

  next(v?: unknown): IteratorResult<R, R> {
    switch (this.phase) {
      case ScopePhase.Open: {
        const sp = safePoint(this.env.sched, this.t);
        if (sp) return this.command(sp);
        this.hooked = this.managed || this.env.needsHostHook(this.target);
        return this.open();
      }
      case ScopePhase.WaitOpen:
        if (v !== S_OK) throw this.failure(this.openOp, v as number);
        return this.open();
      case ScopePhase.Body:
        return this.close(false, v);
      case ScopePhase.WaitClose: {
        const { threw, value } = this.closing!;
        if (v !== S_OK) throw this.failure(this.closeOp, v as number, threw ? value : undefined);
        return this.close(threw, value);
      }
    }
  }

  throw(err: unknown): IteratorResult<R, R> {
    switch (this.phase) {
      case ScopePhase.Body:
        return this.close(true, err);
      case ScopePhase.WaitClose: {
        // An abort arrived while the closing enter waited: keep waiting, now without a time limit.
        this.closing = { threw: true, value: err };
        return this.waitToClose(true);
      }
      default:
        throw err; // nothing was opened
    }
  }

  private open(): IteratorResult<R, R> {
    if (this.hooked) {
      const hr = this.env.door.transition(this.openOp, this.target);
      if (hr === MUST_WAIT_FOR_RESUME) {
        const w = this.env.sched.waitForResume(this.t, false);
        if (w !== BLOCK) throw this.failure(this.openOp, w);
        this.phase = ScopePhase.WaitOpen;
        return this.command(Cmd.Park);
      }
      if (hr !== S_OK) throw this.failure(this.openOp, hr);
    }
    this.phase = ScopePhase.Body;
    let body: unknown;
    try {
      body = this.fn();
    } catch (err) {
      return this.close(true, err);
    }
    if (!isIterator(body)) return this.close(false, body);
    this.body = body;
    return this.command(Cmd.Push);
  }

  private close(threw: boolean, value: unknown): IteratorResult<R, R> {
    if (this.hooked) {
      const hr = this.env.door.transition(this.closeOp, 0);
      if (hr === MUST_WAIT_FOR_RESUME) {
        this.closing = { threw, value };
        // The closing enter of a scope unwound by an abort waits for the resume without a limit.
        return this.waitToClose(threw && value === this.t.unwinding);
      }
      if (hr !== S_OK) throw this.failure(this.closeOp, hr, threw ? value : undefined);
    }
    this.phase = ScopePhase.Open;
    if (threw) throw value;
    return this.result(value as R);
  }

  private waitToClose(unlimited: boolean): IteratorResult<R, R> {
    const w = this.env.sched.waitForResume(this.t, unlimited);
    if (w !== BLOCK) {
      const { threw, value } = this.closing!;
      throw this.failure(this.closeOp, w, threw ? value : undefined);
    }
    this.phase = ScopePhase.WaitClose;
    return this.command(Cmd.Park);
  }

  private failure(op: number, hr: number, cause?: unknown): HResultError {
    const err = new HResultError(hr, `${OP_NAMES[op]} failed in fiber ${this.t.name}`);
    if (cause !== undefined) (err as { cause?: unknown }).cause = cause;
    return err;
  }
}

/** The wait behind f.await: parks the fiber until the promise settles. */
class AwaitOp<T> extends Op<T> implements Waitable {
  private waiting = false;
  private parked = false;
  constructor(t: Task, private readonly sched: Scheduler, private readonly promise: PromiseLike<T>) {
    super(t);
  }
  next(v?: unknown): IteratorResult<T, T> {
    if (this.parked) return this.result(v as T);
    const sp = safePoint(this.sched, this.t);
    if (sp) return this.command(sp);
    const hr = this.sched.block(this.t, this, INFINITE, 0);
    if (hr !== BLOCK) throw new HResultError(hr, `f.await in fiber ${this.t.name} could not wait`);
    this.parked = true;
    return this.command(Cmd.Park);
  }
  tryAcquire(): number {
    return BLOCK; // a settled promise still answers in a later microtask
  }
  enqueue(t: Task): void {
    this.waiting = true;
    this.sched.awaiting(+1);
    const settle = (value: unknown, isThrow: boolean) => {
      if (this.waiting) this.sched.wake(t, value, isThrow);
    };
    Promise.resolve(this.promise).then(
      (value) => settle(value, false),
      (err) => settle(err, true),
    );
  }
  remove(): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.sched.awaiting(-1);
  }
  waitsFor(): null {
    return null;
  }
  describe(): string {
    return "a promise";
  }
}

class SleepWait implements Waitable {
  static readonly instance = new SleepWait();
  tryAcquire(): number {
    return BLOCK;
  }
  enqueue(): void {}
  remove(): void {}
  waitsFor(): null {
    return null;
  }
  describe(): string {
    return "a timer (sleep)";
  }
}

/** Waiting for another task to end (IHostTask::Join). */
class JoinWait implements Waitable {
  constructor(private readonly target: Task) {}
  tryAcquire(): number {
    return this.target.done ? S_OK : BLOCK;
  }
  enqueue(t: Task): void {
    (this.target.joiners ??= new TaskQueue<Task>()).push(t);
  }
  remove(t: Task): void {
    this.target.joiners?.remove(t);
  }
  waitsFor(): Task {
    return this.target;
  }
  describe(): string {
    return `task ${this.target.id} (${this.target.name}) to end`;
  }
}

export class FiberContext {
  /** The fiber's task. */
  readonly task: Task;
  private readonly env: FiberEnv;
  private yieldOp: YieldOp | null = null;

  /** @internal */
  constructor(env: FiberEnv, task: Task) {
    this.env = env;
    this.task = task;
  }

  /** SwitchToTask: lets the other ready fibers run. Answers S_OK. */
  yield(): Op<number> {
    return (this.yieldOp ??= new YieldOp(this.task, this.env.sched));
  }

  /** Runs `body` in managed code: between ReverseEnterRuntime and ReverseLeaveRuntime. */
  managed<R>(body: () => Iterator<unknown, R, any> | R): Op<R> {
    if (typeof body !== "function") return this.throws(`managed(body) takes a function, not ${typeof body}`);
    return new ScopeOp<R>(this.task, this.env, true, 0, body as () => unknown);
  }

  /** Runs `body` as an unmanaged call to `target`: between LeaveRuntime(target) and EnterRuntime. */
  unmanaged<R>(target: number, body: () => Iterator<unknown, R, any> | R): Op<R> {
    if (!isDword(target)) return this.throws(`unmanaged(target) takes an integer in 0 … 2^32−1, not ${String(target)}`);
    if (typeof body !== "function") return this.throws(`unmanaged(target, body) takes a function, not ${typeof body}`);
    return new ScopeOp<R>(this.task, this.env, false, target, body as () => unknown);
  }

  leaveRuntime(target: number): Op<number> {
    if (!isDword(target)) return new DoneOp(this.task, E_INVALIDARG);
    return new TransitionOp(this.task, this.env, OP_LEAVE, target);
  }
  enterRuntime(): Op<number> {
    return new TransitionOp(this.task, this.env, OP_ENTER, 0);
  }
  reverseEnterRuntime(): Op<number> {
    return new TransitionOp(this.task, this.env, OP_REVERSE_ENTER, 0);
  }
  reverseLeaveRuntime(): Op<number> {
    return new TransitionOp(this.task, this.env, OP_REVERSE_LEAVE, 0);
  }

  /** Sleeps `ms` (INFINITE or omitted: until alerted or aborted). Sleep(0) yields. */
  sleep(ms: number = INFINITE, option = 0): Op<number> {
    if (ms === 0) return this.yield();
    return new WaitOp(this.task, this.env.sched, SleepWait.instance, ms, option, S_OK);
  }

  /** Waits for `task` to end: S_OK however it ended, HOST_E_TIMEOUT, HOST_E_INTERRUPTED. */
  join(task: Task, ms: number = INFINITE, option = 0): Op<number> {
    if (!this.env.isOwnTask(task)) return new DoneOp(this.task, E_INVALIDARG);
    if (task === this.task) return new DoneOp(this.task, HOST_E_DEADLOCK);
    return new WaitOp(this.task, this.env.sched, new JoinWait(task), ms, option);
  }

  /** Waits on an event or a semaphore of this host (a Crst is entered with crst.enter(option)). */
  wait(object: Waitable, ms: number = INFINITE, option = 0): Op<number> {
    if (!this.env.isSyncObject(object) || object.kind === "crst") return new DoneOp(this.task, E_INVALIDARG);
    return new WaitOp(this.task, this.env.sched, object, ms, option);
  }

  /** @internal a wait on one of the host's sync objects, made by the object itself */
  waitOn(object: Waitable, ms: number, option: number): Op<number> {
    return new WaitOp(this.task, this.env.sched, object, ms, option);
  }

  /** An operation that throws HResultError(E_INVALIDARG) in the fiber: the throwing operations' bad input. */
  private throws(message: string): Op<never> {
    return new ThrowOp(this.task, new HResultError(E_INVALIDARG, message));
  }

  /**
   * Parks the fiber until `promise` settles, then answers its value or throws its error. A fiber in
   * managed mode leaves the runtime for the wait (LeaveRuntime(AWAIT_TARGET) … EnterRuntime), so
   * it does not hold up a suspension.
   */
  await<T>(promise: PromiseLike<T> | T): Op<T> {
    const park = new AwaitOp<T>(this.task, this.env.sched, Promise.resolve(promise));
    if (!this.env.door.isManaged(this.task)) return park;
    return new ScopeOp<T>(this.task, this.env, false, AWAIT_TARGET, () => park);
  }
}
