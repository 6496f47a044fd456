// A task: the IHostTask surface (implemented by the host) and the ICLRTask / ICLRTask2 surface
// (implemented by the runtime, here the core) on one object, plus what a scheduler user wants to
// see (mode, depth, counters, result). Calls forward to the scheduler or the core's door.

import type { Counters, Frame, TaskRef } from "./core/door.js";
import { E_INVALIDARG, HOST_E_INVALIDOPERATION, HOST_E_TIMEOUT, S_OK } from "./hresult.js";
import { isTimeout, isWaitOption } from "./args.js";
import { setOut, type Out } from "./out.js";
import type { Queued, TaskQueue } from "./scheduler/queue.js";
import type { Host } from "./host.js";
import type { FiberContext } from "./fiber-context.js";
import type { Waitable } from "./scheduler/waitable.js";

export type TaskState = "created" | "ready" | "running" | "waiting" | "done";

export const enum Outcome {
  Pending,
  Returned,
  Threw,
}

/** The fiber body: a generator function (or a plain function) called as `start(f, param)`. */
export type FiberStart<P = any, R = any> = (f: FiberContext, param: P) => Iterator<unknown, R, any> | R;

export class Task implements TaskRef, Queued {
  /** A number unique within the host, never reused (a slot's index is). */
  readonly id: number;
  private name_: string | null;

  // The core's handle.
  /** @internal */ readonly idx: number;
  /** @internal */ readonly gen: number;
  /** @internal */ readonly base: number;
  /** @internal */ readonly host: Host;

  // Scheduling state, owned by the scheduler.
  /** @internal */ state: TaskState = "created";
  /** @internal */ start_: FiberStart | null;
  /** @internal */ param: unknown;
  /** @internal */ ctx: FiberContext | null = null;
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
  /** @internal */ waitOn: Waitable | null = null;
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

  /** @internal */ get rude(): boolean { return this.x !== null && this.x.rude; }
  /** @internal */ set rude(v: boolean) { this.extras().rude = v; }
  /** @internal */ get exitRequested(): boolean { return this.x !== null && this.x.exitRequested; }
  /** @internal */ set exitRequested(v: boolean) { this.extras().exitRequested = v; }
  /** @internal */ get abortPending(): boolean { return this.x !== null && this.x.abortPending; }
  /** @internal */ set abortPending(v: boolean) { this.extras().abortPending = v; }
  /** @internal its own abort is being thrown into it (woken with it, not yet resumed) */
  get abortInFlight(): boolean { return this.x !== null && this.x.abortInFlight; }
  set abortInFlight(v: boolean) { this.extras().abortInFlight = v; }
  /** @internal */ get joiners(): TaskQueue<Task> | null { return this.x === null ? null : this.x.joiners; }
  /** @internal */ set joiners(v: TaskQueue<Task> | null) { this.extras().joiners = v; }
  /** @internal */ get held(): Set<object> | null { return this.x === null ? null : this.x.held; }
  /** @internal */ set held(v: Set<object> | null) { this.extras().held = v; }
  /** @internal */ get unwinding(): unknown { return this.x === null ? undefined : this.x.unwinding; }
  /** @internal */ set unwinding(v: unknown) { this.extras().unwinding = v; }
  /** @internal */ get spawnSite(): string | undefined { return this.x === null ? undefined : this.x.spawnSite; }
  /** @internal */ set spawnSite(v: string | undefined) { this.extras().spawnSite = v; }
  /** @internal */ get errorFrames(): Frame[] | null { return this.x === null ? null : this.x.errorFrames; }
  /** @internal the error errorFrames belong to */
  get errorOf(): unknown { return this.x === null ? undefined : this.x.errorOf; }
  set errorOf(v: unknown) { this.extras().errorOf = v; }
  /** @internal */ set errorFrames(v: Frame[] | null) { this.extras().errorFrames = v; }
  /** @internal called once when the task ends (spawn's signal listener is removed there) */
  get onEnd(): (() => void) | null { return this.x === null ? null : this.x.onEnd; }
  set onEnd(v: (() => void) | null) { this.extras().onEnd = v; }
  /** @internal */ get settleResult(): ((t: Task) => void) | null { return this.x === null ? null : this.x.settleResult; }
  /** @internal */ set settleResult(v: ((t: Task) => void) | null) { this.extras().settleResult = v; }
  /** @internal kept when the task ends, since its slot is then reused */
  get finalCounters(): Counters | null { return this.x === null ? null : this.x.finalCounters; }
  /** @internal */ set finalCounters(v: Counters | null) { this.extras().finalCounters = v; }
  private extras(): TaskExtras {
    return (this.x ??= new TaskExtras());
  }

  /** @internal */
  constructor(host: Host, idx: number, id: number, name: string | null, start: FiberStart | null, param: unknown) {
    this.host = host;
    this.idx = idx;
    this.gen = host.door.generationOf(idx);
    this.base = host.door.baseOf(idx);
    this.id = id;
    this.name_ = name;
    this.start_ = start;
    this.param = param;
  }

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
    return this.live() && this.host.door.isManaged(this) ? "managed" : "unmanaged";
  }

  /** Open transition frames (0 once the task has ended). */
  get depth(): number {
    return this.live() ? this.host.door.depth(this) : 0;
  }

  /** The open frames, outermost first. */
  frames(): Frame[] {
    return this.live() ? this.host.door.frames(this) : [];
  }

  /** A snapshot of this task's counters (the last values it had, once it has ended). */
  counters(): Counters {
    return this.live() || !this.finalCounters ? this.host.door.counters(this) : { ...this.finalCounters };
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
    return this.host.door.isLive(this);
  }

  // --- IHostTask --------------------------------------------------------------------------------

  /** Makes a created (suspended) task runnable. */
  start(): number {
    return this.host.sched.startTask(this);
  }

  /** Wakes the task from an alertable wait (HOST_E_INTERRUPTED), or is remembered for its next one. */
  alert(): number {
    return this.host.sched.alert(this);
  }

  /**
   * IHostTask::Join from synchronous code: S_OK when the task has ended, HOST_E_TIMEOUT for ms = 0,
   * HOST_E_INVALIDOPERATION otherwise (the JS thread cannot block: use `yield* f.join(task, ms)` in
   * a fiber, or `await task.result`).
   */
  join(ms: number, option = 0): number {
    if (!isTimeout(ms) || !isWaitOption(option)) return this.host.door.orUnavailable(E_INVALIDARG);
    const hr = this.host.door.available();
    if (hr !== S_OK) return hr;
    if (this.done) return S_OK;
    return ms === 0 ? HOST_E_TIMEOUT : HOST_E_INVALIDOPERATION;
  }

  /** THREAD_PRIORITY_* values only: higher runs first, FIFO within a level. */
  setPriority(priority: number): number {
    return this.host.sched.setPriority(this, priority);
  }

  getPriority(out: Out<number>): number {
    const hr = this.host.door.check(this);
    return hr !== S_OK ? hr : setOut(out, this.host.door.priority(this));
  }

  // --- ICLRTask / ICLRTask2 ----------------------------------------------------------------------

  switchIn(): number {
    return this.host.sched.manualSwitch(this, true);
  }

  switchOut(): number {
    return this.host.sched.manualSwitch(this, false);
  }

  /** On the current task only: ends it (a fiber ends at its next yield, without running handlers). */
  exitTask(): number {
    return this.host.sched.exitTask(this);
  }

  /** Returns a created, not started task to its first state; its frames are cleared. */
  reset(full = true): number {
    return this.host.sched.reset(this, full);
  }

  /** Throws a TaskAbortError into the fiber at its next safe point (delay regions hold it back). */
  abort(): number {
    return this.host.sched.abort(this, false);
  }

  /** Ends the fiber without running its handlers. */
  rudeAbort(): number {
    return this.host.sched.abort(this, true);
  }

  /** TRUE exactly when the task is in managed mode: switched out there, it delays the collector. */
  needsPriorityScheduling(out: Out<boolean>): number {
    const hr = this.host.door.check(this);
    return hr !== S_OK ? hr : setOut(out, this.host.door.isManaged(this));
  }

  /** Asks another task to yield at its next safe point or transition. */
  yieldTask(): number {
    return this.host.sched.yieldTask(this);
  }

  /** How many Crsts the task holds. */
  locksHeld(out: Out<number>): number {
    const hr = this.host.door.check(this);
    return hr !== S_OK ? hr : setOut(out, this.host.door.locksHeld(this));
  }

  /** A 64-bit identifier: a non-negative safe integer or a bigint below 2^64. */
  setTaskIdentifier(id: number | bigint): number {
    let big: bigint;
    if (typeof id === "bigint") big = id;
    else if (typeof id === "number" && Number.isSafeInteger(id)) big = BigInt(id);
    else return this.host.door.orUnavailable(E_INVALIDARG);
    if (big < 0n || big >= 1n << 64n) return this.host.door.orUnavailable(E_INVALIDARG);
    return this.host.door.setTaskIdentifier(this, Number(big & 0xffffffffn) | 0, Number(big >> 32n) | 0);
  }

  beginPreventAsyncAbort(): number {
    return this.host.door.preventAsyncAbort(this, true);
  }

  /** Closing the last prevent-async-abort count lets a held-back abort through at the next safe point. */
  endPreventAsyncAbort(): number {
    return this.host.sched.endAbortRegion(this, () => this.host.door.preventAsyncAbort(this, false));
  }
}

/** What few tasks need: kept apart from Task so that a parked fiber costs less memory. */
class TaskExtras {
  rude = false;
  exitRequested = false;
  abortPending = false;
  abortInFlight = false;
  joiners: TaskQueue<Task> | null = null;
  held: Set<object> | null = null;
  unwinding: unknown = undefined;
  spawnSite: string | undefined = undefined;
  errorFrames: Frame[] | null = null;
  errorOf: unknown = undefined;
  resultPromise: Promise<unknown> | null = null;
  settleResult: ((t: Task) => void) | null = null;
  finalCounters: Counters | null = null;
  onEnd: (() => void) | null = null;
}
