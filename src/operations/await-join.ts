// What a fiber waits on besides the sync objects: a promise (f.await), a timer (f.sleep), another
// task's end (f.join).

import { Outcome, type Task } from "../task/task.js";
import type { SchedulerPort } from "../scheduler/port.js";
import { Cmd } from "../kernel/commands.js";
import { Op } from "./operation.js";
import { BlockingOp } from "./blocking.js";
import { BLOCK, type Waitable, type Watcher } from "../kernel/waitable.js";
import { TaskQueue } from "../kernel/queue.js";
import { ParkWait } from "../kernel/park.js";
import { HResultError, INFINITE, S_OK } from "../base/hresult.js";
import { safePoint } from "./env.js";

import { EXTRA as EXTRA_, EXTRAS as EXTRAS_ } from "../task/state.js";
import {
  DESCRIBE as DESCRIBE_,
  ENQUEUE as ENQUEUE_,
  REMOVE as REMOVE_,
  TRY_ACQUIRE as TRY_ACQUIRE_,
  WAITS_FOR as WAITS_FOR_,
  WATCH as WATCH_,
} from "../kernel/waitable.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const EXTRA: typeof EXTRA_ = EXTRA_;
const EXTRAS: typeof EXTRAS_ = EXTRAS_;
const DESCRIBE: typeof DESCRIBE_ = DESCRIBE_;
const ENQUEUE: typeof ENQUEUE_ = ENQUEUE_;
const REMOVE: typeof REMOVE_ = REMOVE_;
const TRY_ACQUIRE: typeof TRY_ACQUIRE_ = TRY_ACQUIRE_;
const WAITS_FOR: typeof WAITS_FOR_ = WAITS_FOR_;
const WATCH: typeof WATCH_ = WATCH_;
/** What f.await takes: a promise (or value), or a function of an AbortSignal that gives one. */
export type Awaitable<T> = PromiseLike<T> | T | ((signal: AbortSignal) => PromiseLike<T> | T);

/**
 * The wait behind f.await: parks the fiber until the promise settles. Given a function, it calls it
 * with a signal that aborts when the wait is cut short (the fiber aborted), so the work stops too.
 */
export class AwaitOp<T> extends Op<T> implements Waitable<Task> {
  private waiting = false;
  private parked = false;
  private settled = false;
  private controller: AbortController | null = null;
  private promise: PromiseLike<T> | T;
  constructor(
    t: Task,
    private readonly sched: SchedulerPort,
    given: Awaitable<T>,
    private readonly start: ((signal: AbortSignal) => PromiseLike<T> | T) | null,
  ) {
    super(t);
    this.promise = given as PromiseLike<T> | T;
  }
  /** @internal */
  opName(): string {
    return "f.await(…)";
  }
  next(v?: unknown): IteratorResult<T, T> {
    this.own();
    if (this.parked) return this.result(v as T);
    const sp = safePoint(this.sched, this.t);
    if (sp) return this.command(sp);
    if (this.start !== null) {
      // Called here, at the fiber's step: what it throws is thrown into the fiber.
      this.controller = new AbortController();
      this.promise = this.start(this.controller.signal);
    }
    const hr = this.sched.block(this.t, this, INFINITE, 0);
    if (hr !== BLOCK) throw new HResultError(hr, `f.await in fiber ${this.t.name} could not wait`);
    this.parked = true;
    return this.command(Cmd.Park);
  }
  [TRY_ACQUIRE](): number {
    return BLOCK; // a settled promise still answers in a later microtask
  }
  [ENQUEUE](t: Task): void {
    this.waiting = true;
    this.sched.awaiting(+1);
    const settle = (value: unknown, isThrow: boolean) => {
      if (!this.waiting) return;
      this.settled = true; // (its work is done: the signal stays as it is)
      this.sched.wake(t, value, isThrow);
    };
    // Adopted by a promise of our own: the user's value (a thenable whose then throws or never
    // calls back, a promise with a then or constructor of its own) is only ever called from a
    // promise job, where what it throws rejects this wait, never the scheduler.
    new Promise<unknown>((resolve) => resolve(this.promise)).then(
      (value) => settle(value, false),
      (err) => settle(err, true),
    );
  }
  [REMOVE](t?: Task): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.sched.awaiting(-1);
    if (this.controller !== null && !this.settled) {
      // Cut short (aborted): the awaited work is told, with the fiber's abort as the reason.
      const reason = t?.[EXTRA]?.unwinding ?? t?.[EXTRA]?.abortReason;
      try {
        this.controller.abort(reason);
      } catch {
        // (A listener of the user's threw: the fiber's abort goes on.)
      }
    }
  }
  [WAITS_FOR](): null {
    return null;
  }
  [DESCRIBE](): string {
    return "a promise";
  }
}

/** What f.sleep waits on (one for every fiber): a sleep that runs its time answers S_OK. */
export const SLEEP_WAIT = new ParkWait<Task>({ what: "a timer (sleep)", timeoutResult: S_OK });

/** Waiting for another task to end (IHostTask::Join). */
export class JoinWait implements Waitable<Task> {
  constructor(private readonly target: Task) {}
  /** A join is the runtime's: HOST_E_ABANDONED when it is disabled. */
  get abandonedOnDisable(): boolean {
    return true;
  }
  [TRY_ACQUIRE](): number {
    if (!this.target.done) return BLOCK;
    // Joining a task that already ended looks at its end too: its failure is then not reported.
    if (this.target[EXTRA] !== null) this.target[EXTRA].observed = true;
    return S_OK;
  }
  [ENQUEUE](t: Task): void {
    const x = this.target[EXTRAS]();
    x.observed = true;
    (x.joiners ??= new TaskQueue<Task>()).push(t);
  }
  [REMOVE](t: Task): void {
    this.target[EXTRA]?.joiners?.remove(t);
  }
  [WATCH](w: Watcher, on: boolean): void {
    const x = this.target[EXTRAS]();
    x.observed = true;
    if (on) (x.endWatchers ??= new Set()).add(w);
    else x.endWatchers?.delete(w);
  }
  [WAITS_FOR](): Task {
    return this.target;
  }
  [DESCRIBE](): string {
    return `task ${this.target.id} (${this.target.name}) to end`;
  }
}

/** `yield* task`: joins the task, then answers its return value or throws its error. */
export class JoinValueOp<R> extends BlockingOp<R> {
  constructor(
    t: Task,
    sched: SchedulerPort,
    private readonly target: Task,
  ) {
    super(t);
    void sched; // the task's own (t.env.sched): read by BlockingOp when it waits
  }
  protected block(sched: SchedulerPort): number {
    this.target[EXTRAS]().observed = true;
    return sched.block(this.t, new JoinWait(this.target), INFINITE, 0);
  }
  protected answer(hr: number): IteratorResult<R, R> {
    if (hr !== S_OK) {
      throw new HResultError(hr, `yield* task ${this.target.id} (${this.target.name}) in fiber ${this.t.name} failed`);
    }
    if (this.target.outcome === Outcome.Threw) throw this.target.value;
    return this.result(this.target.value as R);
  }
}
