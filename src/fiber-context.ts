// The fiber context `f` that a fiber body receives: its operations, each used with `yield*`.
// Transitions and waits that can finish at once finish inside the operation; only a real switch
// or wait reaches the scheduler. The operations themselves live in src/operations/.

import { Task } from "./task.js";
import { bodyKindError } from "./scheduler/op.js";
import type { Waitable } from "./scheduler/waitable.js";
import type { Op } from "./operations/op.js";
import { E_INVALIDARG, HResultError, INFINITE, HOST_E_DEADLOCK } from "./hresult.js";
import { describeValue, isDword, isWaitOption } from "./args.js";
import type { FiberEnv } from "./operations/env.js";
import { Transition } from "./core/generated/layout.js";
import { DoneOp, ThrowOp, TransitionOp, WaitOp, YieldOp } from "./operations/basic.js";
import { ScopeOp } from "./operations/scope.js";
import { AwaitOp, JoinWait, SleepWait } from "./operations/waits.js";

export type { FiberEnv } from "./operations/env.js";

/** The LeaveRuntime target an f.await uses when it leaves managed code for the wait. */
export const AWAIT_TARGET = 0;

/** The fiber body: a generator function (or a plain function) called as `start(f, param)`. */
export type FiberStart<P = any, R = any> = (f: FiberContext, param: P) => Iterator<unknown, R, any> | R;

/**
 * A fiber's task: a task with a body, which its first run calls with a new context. (The context
 * is made then, not at spawn: a fiber that never runs costs no context.)
 */
export class FiberTask extends Task {
  declare readonly env: FiberEnv;
  private start_: FiberStart | null;
  private param: unknown;

  /** @internal */
  constructor(env: FiberEnv, idx: number, id: number, start: FiberStart, param: unknown) {
    super(env, idx, id, null);
    this.start_ = start;
    this.param = param;
  }

  /** @internal */
  begin(): unknown {
    const start = this.start_;
    const param = this.param;
    this.dropBody();
    if (start === null) return super.begin();
    return start(new FiberContext(this.env, this), param);
  }

  /** @internal */
  dropBody(): void {
    this.start_ = null;
    this.param = undefined;
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
    const wrong = bodyKindError(body, "f.managed(body)");
    if (wrong !== null) return this.throws(wrong);
    return new ScopeOp<R>(this.task, this.env, true, 0, body as () => unknown);
  }

  /** Runs `body` as an unmanaged call to `target`: between LeaveRuntime(target) and EnterRuntime. */
  unmanaged<R>(target: number, body: () => Iterator<unknown, R, any> | R): Op<R> {
    if (!isDword(target))
      return this.throws(`unmanaged(target) takes an integer in 0 … 2^32−1, not ${describeValue(target)}`);
    const wrong = bodyKindError(body, "f.unmanaged(target, body)");
    if (wrong !== null) return this.throws(wrong);
    return new ScopeOp<R>(this.task, this.env, false, target, body as () => unknown);
  }

  leaveRuntime(target: number): Op<number> {
    if (!isDword(target)) return new DoneOp(this.task, E_INVALIDARG);
    return new TransitionOp(this.task, this.env, Transition.LEAVE, target);
  }
  enterRuntime(): Op<number> {
    return new TransitionOp(this.task, this.env, Transition.ENTER, 0);
  }
  reverseEnterRuntime(): Op<number> {
    return new TransitionOp(this.task, this.env, Transition.REVERSE_ENTER, 0);
  }
  reverseLeaveRuntime(): Op<number> {
    return new TransitionOp(this.task, this.env, Transition.REVERSE_LEAVE, 0);
  }

  /** Sleeps `ms` (INFINITE or omitted: until alerted or aborted). Sleep(0) yields. */
  sleep(ms: number = INFINITE, option = 0): Op<number> {
    // Sleep(0) is a yield, once its option is known good (a bad one is the wait's E_INVALIDARG).
    if (ms === 0 && isWaitOption(option)) return this.yield();
    return new WaitOp(this.task, this.env.sched, SleepWait.instance, ms, option);
  }

  /** Waits for `task` to end: S_OK however it ended, HOST_E_TIMEOUT, HOST_E_INTERRUPTED. */
  join(task: Task, ms: number = INFINITE, option = 0): Op<number> {
    if (!this.env.isOwnTask(task)) return new DoneOp(this.task, E_INVALIDARG);
    if (task === this.task) return new DoneOp(this.task, HOST_E_DEADLOCK);
    return new WaitOp(this.task, this.env.sched, new JoinWait(task), ms, option);
  }

  /** Waits on an event or a semaphore of this host (a Crst is entered with crst.enter(option)). */
  wait(object: Waitable<Task>, ms: number = INFINITE, option = 0): Op<number> {
    if (!this.env.isSyncObject(object) || object.kind === "crst") return new DoneOp(this.task, E_INVALIDARG);
    return new WaitOp(this.task, this.env.sched, object, ms, option);
  }

  /** An operation that throws HResultError(E_INVALIDARG) in the fiber: the throwing operations' bad input. */
  private throws(message: string): Op<never> {
    return new ThrowOp(this.task, new HResultError(E_INVALIDARG, message));
  }

  /**
   * Calls a guest's export (`guest.exports.name` from host.instantiate) on this fiber's task. A
   * suspending import that answers a promise parks the fiber inside the guest (in unmanaged mode)
   * until it settles; the guest then goes on where it stopped (src/interop/call-op.ts).
   */
  call<R = any>(fn: (...args: any[]) => R, ...args: unknown[]): Op<R> {
    return this.env.callExport(this.task, fn, args) as Op<R>;
  }

  /**
   * Parks the fiber until `promise` settles, then answers its value or throws its error. A fiber in
   * managed mode leaves the runtime for the wait (LeaveRuntime(AWAIT_TARGET) … EnterRuntime), so
   * it does not hold up a suspension.
   */
  await<T>(promise: PromiseLike<T> | T): Op<T> {
    const park = new AwaitOp<T>(this.task, this.env.sched, promise);
    if (!this.env.door.isManaged(this.task)) return park;
    return new ScopeOp<T>(this.task, this.env, false, AWAIT_TARGET, () => park);
  }
}
