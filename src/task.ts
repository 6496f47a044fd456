// A task: the IHostTask surface (implemented by the host) and the ICLRTask / ICLRTask2 surface
// (implemented by the runtime, here the core) on one object, plus what a scheduler user wants to
// see (mode, depth, counters, result). Calls forward to its scheduler or its core's door: a task
// holds those two (its TaskEnv), never the host.

import type { CoreDoor, Counters } from "./core/door.js";
import type { Frame } from "./errors.js";
import { E_INVALIDARG, HOST_E_INVALIDOPERATION, HOST_E_TIMEOUT, HResultError, S_OK } from "./hresult.js";
import { isTimeout, isWaitOption } from "./args.js";
import { setOut, type Out } from "./out.js";
import type { Queued, TaskQueue } from "./scheduler/queue.js";
import type { Waitable } from "./scheduler/waitable.js";

export type TaskState = "created" | "ready" | "running" | "waiting" | "done";

export const enum Outcome {
  Pending,
  Returned,
  Threw,
}

/**
 * What a task asks its scheduler (src/scheduler/scheduler.ts implements it, a layer above): the
 * IHostTask / ICLRTask calls that involve scheduling.
 */
/** @internal */
export interface TaskScheduling {
  startTask(t: Task): number;
  alert(t: Task): number;
  setPriority(t: Task, priority: number): number;
  manualSwitch(t: Task, on: boolean): number;
  exitTask(t: Task): number;
  reset(t: Task, full: boolean): number;
  abort(t: Task, rude: boolean): number;
  yieldTask(t: Task): number;
  /** Closes an abort-holding region with `close`; a held-back abort is then delivered to a waiting task. */
  endAbortRegion(t: Task, close: () => number): number;
}

/** A lock a task owns (a Crst): abandoned when the task ends owning it. */
export interface HeldLock {
  abandon(): void;
}

/** What a task reaches: its core's door and its scheduler. One object per host, shared by its tasks. */
export interface TaskEnv {
  /** @internal */
  readonly door: CoreDoor;
  /** @internal */
  readonly sched: TaskScheduling;
}

// A TaskRef and a Queued by its fields (the door and the queues take it as one), with no
// `implements` clause: those fields are internal, absent from the published types (stripInternal),
// where the clause would then be false.
export class Task {
  /** A number unique within the host, never reused (a slot's index is). */
  readonly id: number;
  private name_: string | null;

  // The core's handle.
  /** @internal */ readonly idx: number;
  /** @internal */ readonly gen: number;
  /** @internal */ readonly base: number;
  /** @internal */ readonly env: TaskEnv;

  // Scheduling state, owned by the scheduler.
  /** @internal */ state: TaskState = "created";
  /** @internal the iterator that runs now: the body, or the innermost scope's body */
  iter: Iterator<unknown> | null = null;
  /** @internal the iterators below `iter` (f.managed / f.unmanaged bodies): an explicit stack */
  stack: Iterator<unknown>[] | null = null;
  /** @internal */ resumeValue: unknown = undefined;
  /** @internal */ resumeThrow = false;
  /** @internal set when the scheduler must look at this task at its next safe point */
  attention = false;
  /** @internal the ready-queue level (from the priority) */
  level = 3;
  /** @internal */ waitOn: Waitable<Task> | null = null;
  /** @internal */ waitAlertable = false;
  /** @internal 1 + its timer's index in the timer heap; 0: none */ timerPos = 0;
  /** @internal what the wait answers when its timer fires (HOST_E_TIMEOUT, S_OK for a sleep), signed: a small integer */
  waitTimeoutResult = 0;
  /** @internal */ qNext: Queued | null = null;
  /** @internal */ qPrev: Queued | null = null;
  /** @internal */ queue: TaskQueue<any> | null = null;
  /** @internal */ outcome = Outcome.Pending;
  /** @internal */ value: unknown = undefined;
  /** @internal the rarely used state, made on first use: a million parked fibers stay small */
  private x: TaskExtras | null = null;

  /** @internal */ get exitRequested(): boolean {
    return this.x !== null && this.x.exitRequested;
  }
  /** @internal */ set exitRequested(v: boolean) {
    this.extras().exitRequested = v;
  }
  /** @internal its own abort is being thrown into it (woken with it, not yet resumed) */
  get abortInFlight(): boolean {
    return this.x !== null && this.x.abortInFlight;
  }
  set abortInFlight(v: boolean) {
    this.extras().abortInFlight = v;
  }
  /** @internal */ get joiners(): TaskQueue<Task> | null {
    return this.x === null ? null : this.x.joiners;
  }
  /** @internal */ set joiners(v: TaskQueue<Task> | null) {
    this.extras().joiners = v;
  }
  /** @internal the Crsts it owns, abandoned when it ends */
  get held(): Set<HeldLock> | null {
    return this.x === null ? null : this.x.held;
  }
  set held(v: Set<HeldLock> | null) {
    this.extras().held = v;
  }
  /** @internal */ get unwinding(): unknown {
    return this.x === null ? undefined : this.x.unwinding;
  }
  /** @internal */ set unwinding(v: unknown) {
    this.extras().unwinding = v;
  }
  /** @internal */ get spawnSite(): string | undefined {
    return this.x === null ? undefined : this.x.spawnSite;
  }
  /** @internal */ set spawnSite(v: string | undefined) {
    this.extras().spawnSite = v;
  }
  /** @internal */ get errorFrames(): Frame[] | null {
    return this.x === null ? null : this.x.errorFrames;
  }
  /** @internal the error errorFrames belong to */
  get errorOf(): unknown {
    return this.x === null ? undefined : this.x.errorOf;
  }
  set errorOf(v: unknown) {
    this.extras().errorOf = v;
  }
  /** @internal */ set errorFrames(v: Frame[] | null) {
    this.extras().errorFrames = v;
  }
  /** @internal called once when the task ends (spawn's signal listener is removed there) */
  get onEnd(): (() => void) | null {
    return this.x === null ? null : this.x.onEnd;
  }
  set onEnd(v: (() => void) | null) {
    this.extras().onEnd = v;
  }
  /** @internal */ get settleResult(): ((t: Task) => void) | null {
    return this.x === null ? null : this.x.settleResult;
  }
  /** @internal */ set settleResult(v: ((t: Task) => void) | null) {
    this.extras().settleResult = v;
  }
  /** @internal kept when the task ends, since its slot is then reused */
  get finalCounters(): Counters | null {
    return this.x === null ? null : this.x.finalCounters;
  }
  /** @internal */ set finalCounters(v: Counters | null) {
    this.extras().finalCounters = v;
  }
  private extras(): TaskExtras {
    return (this.x ??= new TaskExtras());
  }

  /** @internal */
  constructor(env: TaskEnv, idx: number, id: number, name: string | null) {
    this.env = env;
    this.idx = idx;
    this.gen = env.door.generationOf(idx);
    this.base = env.door.baseOf(idx);
    this.id = id;
    this.name_ = name;
  }

  /**
   * @internal The body's first call, made once by the scheduler: what it gives (an iterator to
   * drive, or a plain function's result). A fiber's task (FiberTask, fiber-context.ts) has a body;
   * a bare task (the root task) has none.
   */
  begin(): unknown {
    throw new HResultError(HOST_E_INVALIDOPERATION, `task ${this.name} has no body to run`);
  }

  /** @internal The task ended: what its body's first call needed is let go. */
  dropBody(): void {}

  // --- what a user sees --------------------------------------------------------------------------

  /** The name given at spawn, or `fiber-<id>`. */
  get name(): string {
    return this.name_ ?? `fiber-${this.id}`;
  }
  set name(name: string) {
    this.name_ = name;
  }

  /** 'created', 'ready', 'running', 'waiting' or 'done'. */
  getState(): TaskState {
    return this.state;
  }

  /** True once the task has ended, however it ended. */
  get done(): boolean {
    return this.state === "done";
  }

  /** The mode of the top frame: a reverse-enter frame is managed; a leave frame or none, unmanaged. */
  get mode(): "managed" | "unmanaged" {
    return this.live() && this.env.door.isManaged(this) ? "managed" : "unmanaged";
  }

  /** Open transition frames (0 once the task has ended). */
  get depth(): number {
    return this.live() ? this.env.door.depth(this) : 0;
  }

  /** The open frames, outermost first. */
  frames(): Frame[] {
    return this.live() ? this.env.door.frames(this) : [];
  }

  /** A snapshot of this task's counters (the last values it had, once it has ended). */
  counters(): Counters {
    return this.live() || !this.finalCounters ? this.env.door.counters(this) : { ...this.finalCounters };
  }

  /**
   * Settles with the fiber's return value, or rejects with its error (a TaskAbortError when it was
   * aborted and did not catch the abort). Never reported as an unhandled rejection.
   */
  get result(): Promise<unknown> {
    const x = this.extras();
    if (!x.resultPromise) {
      x.resultPromise =
        this.outcome === Outcome.Returned
          ? new Promise((resolve) => resolve(this.value)) // (not Promise.resolve: it asks a promise's constructor)
          : this.outcome === Outcome.Threw
            ? Promise.reject(this.value)
            : new Promise((resolve, reject) => {
                this.settleResult = (t) => (t.outcome === Outcome.Returned ? resolve(t.value) : reject(t.value));
              });
      x.resultPromise.catch(() => {});
    }
    return x.resultPromise;
  }

  /** @internal */
  live(): boolean {
    return this.env.door.isLive(this);
  }

  // --- IHostTask --------------------------------------------------------------------------------

  /** Makes a created (suspended) task runnable. */
  start(): number {
    return this.env.sched.startTask(this);
  }

  /** Wakes the task from an alertable wait (HOST_E_INTERRUPTED), or is remembered for its next one. */
  alert(): number {
    return this.env.sched.alert(this);
  }

  /**
   * IHostTask::Join from synchronous code: S_OK when the task has ended, HOST_E_TIMEOUT for ms = 0,
   * HOST_E_INVALIDOPERATION otherwise (the JS thread cannot block: use `yield* f.join(task, ms)` in
   * a fiber, or `await task.result`).
   */
  join(ms: number, option = 0): number {
    if (!isTimeout(ms) || !isWaitOption(option)) return this.env.door.orUnavailable(E_INVALIDARG);
    const hr = this.env.door.available();
    if (hr !== S_OK) return hr;
    if (this.done) return S_OK;
    return ms === 0 ? HOST_E_TIMEOUT : HOST_E_INVALIDOPERATION;
  }

  /** THREAD_PRIORITY_* values only: higher runs first, FIFO within a level. */
  setPriority(priority: number): number {
    return this.env.sched.setPriority(this, priority);
  }

  getPriority(out: Out<number>): number {
    const hr = this.env.door.check(this);
    return hr !== S_OK ? hr : setOut(out, this.env.door.priority(this));
  }

  // --- ICLRTask / ICLRTask2 ----------------------------------------------------------------------

  switchIn(): number {
    return this.env.sched.manualSwitch(this, true);
  }

  switchOut(): number {
    return this.env.sched.manualSwitch(this, false);
  }

  /** On the current task only: ends it (a fiber ends at its next yield, without running handlers). */
  exitTask(): number {
    return this.env.sched.exitTask(this);
  }

  /** Returns a created, not started task to its first state; its frames are cleared. */
  reset(full = true): number {
    return this.env.sched.reset(this, full);
  }

  /** Throws a TaskAbortError into the fiber at its next safe point (delay regions hold it back). */
  abort(): number {
    return this.env.sched.abort(this, false);
  }

  /** Ends the fiber without running its handlers. */
  rudeAbort(): number {
    return this.env.sched.abort(this, true);
  }

  /** TRUE exactly when the task is in managed mode: switched out there, it delays the collector. */
  needsPriorityScheduling(out: Out<boolean>): number {
    const hr = this.env.door.check(this);
    return hr !== S_OK ? hr : setOut(out, this.env.door.isManaged(this));
  }

  /** Asks another task to yield at its next safe point or transition. */
  yieldTask(): number {
    return this.env.sched.yieldTask(this);
  }

  /** How many Crsts the task holds. */
  locksHeld(out: Out<number>): number {
    const hr = this.env.door.check(this);
    return hr !== S_OK ? hr : setOut(out, this.env.door.locksHeld(this));
  }

  /** A 64-bit identifier: a non-negative safe integer or a bigint below 2^64. */
  setTaskIdentifier(id: number | bigint): number {
    let big: bigint;
    if (typeof id === "bigint") big = id;
    else if (typeof id === "number" && Number.isSafeInteger(id)) big = BigInt(id);
    else return this.env.door.orUnavailable(E_INVALIDARG);
    if (big < 0n || big >= 1n << 64n) return this.env.door.orUnavailable(E_INVALIDARG);
    return this.env.door.setTaskIdentifier(this, Number(big & 0xffffffffn) | 0, Number(big >> 32n) | 0);
  }

  beginPreventAsyncAbort(): number {
    return this.env.door.preventAsyncAbort(this, true);
  }

  /** Closing the last prevent-async-abort count lets a held-back abort through at the next safe point. */
  endPreventAsyncAbort(): number {
    return this.env.sched.endAbortRegion(this, () => this.env.door.preventAsyncAbort(this, false));
  }
}

/** What few tasks need: kept apart from Task so that a parked fiber costs less memory. */
class TaskExtras {
  exitRequested = false;
  abortInFlight = false;
  joiners: TaskQueue<Task> | null = null;
  held: Set<HeldLock> | null = null;
  unwinding: unknown = undefined;
  spawnSite: string | undefined = undefined;
  errorFrames: Frame[] | null = null;
  errorOf: unknown = undefined;
  resultPromise: Promise<unknown> | null = null;
  settleResult: ((t: Task) => void) | null = null;
  finalCounters: Counters | null = null;
  onEnd: (() => void) | null = null;
}
