// The fiber context `f` that a fiber body receives: its operations, each used with `yield*`.
// Transitions and waits that can finish at once finish inside the operation; only a real switch
// or wait reaches the scheduler. The operations themselves live in src/operations/; a fiber's
// task is fiber-task.ts's, a debug host's context debug-context.ts's.

import type { Task } from "../task/task.js";
import type { NotAsync } from "../base/body.js";
import type { WaitObject } from "../sync/objects.js";
import { bodyKindError } from "../kernel/commands.js";
import type { Waitable } from "../kernel/waitable.js";
import type { Op } from "../operations/operation.js";
import { E_INVALIDARG, HResultError, INFINITE, HOST_E_DEADLOCK, S_OK } from "../base/hresult.js";
import { describeValue, isDword, isTimeout, isWaitOption } from "../base/args.js";
import type { FiberEnv } from "../operations/env.js";
import { Transition } from "../core/generated/layout.js";
import { DoneOp, ThrowOp, TransitionOp, WaitOp, YieldOp } from "../operations/basic.js";
import { type ScopedBody, checkOption, checkTimeout, fiberStepsOp, holding } from "../sync/scoped.js";
import { ScopeOp } from "../operations/scope.js";
import { AwaitOp, JoinWait, SLEEP_WAIT, type Awaitable } from "../operations/await-join.js";
import { WaitAnyOp } from "../operations/wait-any.js";
import { MAXIMUM_WAIT_OBJECTS, type WaitAnyResult } from "../kernel/waitable.js";

import { ENV as ENV_, YIELD_TOKEN as YIELD_TOKEN_ } from "../task/state.js";
import { WAITS_FOR as WAITS_FOR_ } from "../kernel/waitable.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const ENV: typeof ENV_ = ENV_;
const YIELD_TOKEN: typeof YIELD_TOKEN_ = YIELD_TOKEN_;
const WAITS_FOR: typeof WAITS_FOR_ = WAITS_FOR_;
export { MAXIMUM_WAIT_OBJECTS, type WaitAnyResult } from "../kernel/waitable.js";

const INSPECT: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

export type { FiberEnv } from "../operations/env.js";

/** The LeaveRuntime target an f.await uses when it leaves managed code for the wait. */
export const AWAIT_TARGET = 0;

/**
 * The fiber body: a generator function (or a plain function) called as `start(f, param)`. An async
 * function or an async generator does not compile (NotAsync): the scheduler cannot drive one.
 */
// biome-ignore lint/suspicious/noExplicitAny: a body's parameter, result and the answers its yields receive are the caller's types; unknown would refuse typed bodies
export type FiberStart<P = any, R = any> = ((f: FiberContext, param: P) => Iterator<unknown, R, any> | R) & NotAsync<R>;

/**
 * Every method of FiberContext.prototype is one of `f`'s operations or answers a value (f.spawn,
 * toString): no private helpers on it (they are the module's functions), so that a debug host's
 * context (debug-context.ts) finds the operations by reflection and watches each one.
 */
export class FiberContext {
  /** The fiber's task (its one field: a million parked fibers hold a million contexts). */
  readonly task: Task;

  /** @internal */
  constructor(env: FiberEnv, task: Task) {
    void env; // the task's own: read through it
    this.task = task;
  }

  /** @internal */
  get env(): FiberEnv {
    return this.task[ENV] as FiberEnv;
  }

  /** SwitchToTask: lets the other ready fibers run. Answers S_OK. */
  yield(): Op<number> {
    return (this.task[YIELD_TOKEN] ??= new YieldOp(this.task, this.env.sched)) as YieldOp;
  }

  /** Runs `body` in managed code: between ReverseEnterRuntime and ReverseLeaveRuntime. */
  managed<R>(body: ScopedBody<R>): Op<R> {
    const wrong = bodyKindError(body, "f.managed(body)");
    if (wrong !== null) return throws(this.task, wrong);
    return new ScopeOp<R>(this.task, this.env, true, 0, body as () => unknown);
  }

  /** Runs `body` as an unmanaged call to `target`: between LeaveRuntime(target) and EnterRuntime. */
  unmanaged<R>(target: number, body: ScopedBody<R>): Op<R> {
    if (!isDword(target))
      return throws(this.task, `unmanaged(target) takes an integer in 0 … 2^32−1, not ${describeValue(target)}`);
    const wrong = bodyKindError(body, "f.unmanaged(target, body)");
    if (wrong !== null) return throws(this.task, wrong);
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

  /**
   * Sleeps `ms` (INFINITE or omitted: until alerted or aborted). Sleep(0) yields. Throws
   * HResultError(E_INVALIDARG) for an `ms` that is not a timeout or an unknown option bit, as
   * every `f` wait does: a programming error, not an answer to be ignored.
   */
  sleep(ms: number = INFINITE, option = 0): Op<number> {
    checkWait(ms, option, "f.sleep");
    if (ms === 0) return this.yield(); // Sleep(0) is a yield
    return new WaitOp(this.task, this.env.sched, SLEEP_WAIT, ms, option);
  }

  /** Waits for `task` to end: S_OK however it ended, HOST_E_TIMEOUT, HOST_E_INTERRUPTED. */
  join(task: Task, ms: number = INFINITE, option = 0): Op<number> {
    checkWait(ms, option, "f.join");
    if (!this.env.isOwnTask(task)) return new DoneOp(this.task, E_INVALIDARG);
    if (task === this.task) return new DoneOp(this.task, HOST_E_DEADLOCK);
    return new WaitOp(this.task, this.env.sched, new JoinWait(task), ms, option);
  }

  /** Waits on an event or a semaphore of this host (a Crst is entered with crst.enter(option)). */
  wait(object: WaitObject, ms: number = INFINITE, option = 0): Op<number> {
    checkWait(ms, option, "f.wait");
    // (Checked as unknown: a caller's types may be wrong, and a Crst is refused at run time too.)
    const o: unknown = object;
    if (!this.env.isSyncObject(o) || o.kind === "crst") return new DoneOp(this.task, E_INVALIDARG);
    return new WaitOp(this.task, this.env.sched, o, ms, option);
  }

  /**
   * WaitForMultipleObjects: waits until one of `objects` (events and semaphores of this host, its
   * tasks) can be acquired, and acquires that one only. Answers { hr, index }: S_OK and the index of
   * the object acquired (the first in order when several can be at once), HOST_E_ABANDONED and the
   * index of a closed object, HOST_E_TIMEOUT / HOST_E_INTERRUPTED and −1, E_INVALIDARG and −1 for
   * bad input (not an array, empty, more than 64, a Crst, a duplicate, another host's object, an
   * array whose reads throw). HOST_E_DEADLOCK and −1 when every object waits, through joins, Crst
   * owners, other waitAnys or a parent's children, on this fiber (its own task alone, as f.join).
   * The array is read once, by index (never through its iterator), when the call is made.
   */
  // biome-ignore lint/suspicious/noExplicitAny: a task of any result type; Task<unknown> would refuse Task<number> (its result's callbacks take R)
  waitAny(objects: readonly (WaitObject | Task<any>)[], ms: number = INFINITE, option = 0): Op<WaitAnyResult> {
    checkWait(ms, option, "f.waitAny");
    const members = waitAnyMembers(this.env, objects);
    if (members === null) return new DoneOp(this.task, { hr: E_INVALIDARG, index: -1 });
    if (members.length === 1 && members[0][WAITS_FOR]() === this.task)
      return new DoneOp(this.task, { hr: HOST_E_DEADLOCK, index: -1 });
    return new WaitAnyOp(this.task, this.env.sched, members, ms, option);
  }

  /**
   * Runs `body` in a delay-abort region: an abort requested meanwhile is held back, and one
   * already delivered (an abort sticks until f.resetAbort) is not thrown again, so that cleanup in
   * a `finally` can wait: `finally { yield* f.delayAbort(function* () { yield* f.sleep(10); }) }`.
   * Regions nest (ICLRTask2's prevent-async-abort count); each closes however its body ends. A
   * held-back abort is thrown at the first operation after the outermost region closes (code
   * after the region in the same `finally` still runs). A rude abort is not held. Answers what the
   * body returns.
   */
  // biome-ignore lint/suspicious/noExplicitAny: the body's yields receive whatever its operations answer; unknown would refuse a typed generator
  delayAbort<R>(body: () => Iterator<unknown, R, any> | R): Op<R> {
    const wrong = bodyKindError(body, "f.delayAbort(body)");
    if (wrong !== null) return throws(this.task, wrong);
    return fiberStepsOp(this.task, delayRegion(this.task, body as ScopedBody<R>));
  }

  /**
   * Thread.ResetAbort's analogue: ends the abort delivered to this fiber (call it where it caught
   * the TaskAbortError), which then is not thrown again, and the fiber ends as its body does.
   * Answers S_OK; HOST_E_INVALIDOPERATION when no abort is being delivered to it (none was, it was
   * reset already, or it is only requested) or when called outside this fiber.
   */
  resetAbort(): number {
    return this.env.sched.resetAbort(this.task);
  }

  /**
   * Starts a child fiber that belongs to this one: when this fiber ends (returns, throws, is
   * aborted), its children still running are aborted and its end waits until they have unwound; a
   * child's failure that nothing observed (its result, a join) fails this fiber. Options as
   * host.spawn's. Throws HResultError on bad input (use host.spawn for a detached fiber).
   */
  spawn<R, P = undefined>(
    body: FiberStart<P, R>,
    // (No `= {}` default: no options read none, as host.spawn's; an empty object was made and read per child.)
    options?: { name?: string; priority?: number; stackSize?: number; signal?: AbortSignal; param?: P },
  ): Task<R> {
    return this.env.spawnChild(this.task, body, options) as Task<R>;
  }

  /** One line: `FiberContext of Task #3 "worker" running managed depth 0`. */
  toString(): string {
    return `FiberContext of ${this.task}`;
  }

  toJSON(): { task: ReturnType<Task["toJSON"]> } {
    return { task: this.task.toJSON() };
  }

  /** @internal */
  [INSPECT](): string {
    return this.toString();
  }

  /**
   * Calls a guest's export (`guest.exports.name` from host.instantiate) on this fiber's task. A
   * suspending import that answers a promise parks the fiber inside the guest (in unmanaged mode)
   * until it settles; the guest then goes on where it stopped (src/interop/guest-call.ts). Typed by
   * the export's own signature: with `host.instantiate<E>()`'s E, wrong arguments do not compile
   * (an untyped guest's exports are `any`, and so are their arguments and result).
   */
  // biome-ignore lint/suspicious/noExplicitAny: any export of a guest, whatever its parameters; unknown[] would refuse (x: number) => R
  call<F extends (...args: any[]) => unknown>(fn: F, ...args: Parameters<F>): Op<ReturnType<F>> {
    return this.env.callExport(this.task, fn, args) as Op<ReturnType<F>>;
  }

  /**
   * Parks the fiber until `promise` settles, then answers its value or throws its error. Given a
   * function, calls it with an AbortSignal and awaits what it gives (`f.await(signal => fetch(url,
   * { signal }))`): the signal aborts when the fiber is aborted during the wait, so the work stops
   * too. A fiber in managed mode leaves the runtime for the wait (LeaveRuntime(AWAIT_TARGET) …
   * EnterRuntime), so it does not hold up a suspension.
   */
  await<T>(promise: PromiseLike<T> | T | ((signal: AbortSignal) => PromiseLike<T> | T)): Op<T> {
    const start = typeof promise === "function" ? (promise as (signal: AbortSignal) => PromiseLike<T> | T) : null;
    const park = new AwaitOp<T>(this.task, this.env.sched, promise as Awaitable<T>, start);
    if (!this.env.door.isManaged(this.task)) return park;
    return new ScopeOp<T>(this.task, this.env, false, AWAIT_TARGET, () => park);
  }
}

/**
 * The objects, as a snapshot: `length` read once and checked before any element is, then each
 * element by index (an array's iterator, or a subclass's, is user code that could answer other
 * objects, or more than 64). Null for bad input, or when a read throws (a Proxy, a getter).
 */
function waitAnyMembers(env: FiberEnv, objects: unknown): Waitable<Task>[] | null {
  try {
    if (!Array.isArray(objects)) return null; // (a revoked Proxy throws here)
    const n = (objects as unknown[]).length;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAXIMUM_WAIT_OBJECTS) return null;
    const members: Waitable<Task>[] = [];
    const seen = new Set<unknown>();
    for (let i = 0; i < n; i++) {
      const o = (objects as unknown[])[i];
      if (seen.has(o)) return null;
      seen.add(o);
      if (env.isOwnTask(o) && o.id !== 0) members.push(new JoinWait(o));
      else if (env.isSyncObject(o) && o.kind !== "crst") members.push(o);
      else return null;
    }
    return members;
  } catch {
    return null;
  }
}

/** Throws HResultError(E_INVALIDARG) naming a wait's `ms` or `option` that is not a valid value. */
function checkWait(ms: unknown, option: unknown, call: string): void {
  if (!isTimeout(ms)) checkTimeout(ms, `${call}(…, ms)`);
  if (!isWaitOption(option)) checkOption(option, `${call}(…, ms, option)`);
}

/** f.delayAbort's steps: the region opened, the body run and the region closed however it ends. */
function* delayRegion<R>(t: Task, body: ScopedBody<R>): Generator<unknown, R, unknown> {
  const hr = t.beginPreventAsyncAbort();
  if (hr !== S_OK) throw new HResultError(hr, `f.delayAbort(body) could not open its region in fiber ${t.name}`);
  return yield* holding(body, "f.delayAbort(body)", () => t.endPreventAsyncAbort());
}

/** An operation that throws HResultError(E_INVALIDARG) in the fiber: the throwing operations' bad input. */
function throws(t: Task, message: string): Op<never> {
  return new ThrowOp(t, new HResultError(E_INVALIDARG, message));
}
