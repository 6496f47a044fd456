// A task: the IHostTask surface (implemented by the host) and the ICLRTask / ICLRTask2 surface
// (implemented by the runtime, here the core) on one object, plus what a scheduler user wants to
// see (mode, depth, counters, result). Calls forward to its scheduler or its core's door: a task
// holds those two (its TaskEnv), never the host.

import type { CoreDoor, Counters } from "../core/door.js";
import type { Frame } from "../base/errors.js";
import { E_INVALIDARG, HOST_E_INVALIDOPERATION, HOST_E_TIMEOUT, HResultError, S_OK } from "../base/hresult.js";
import { Level, describeValue, isTimeout, isWaitOption } from "../base/args.js";
import { setOut, type Out } from "../base/out.js";
import type { Queued } from "../kernel/queue.js";
import { TaskExtras } from "./extras.js";

export type { HeldLock } from "./extras.js";
import type { Waitable } from "../kernel/waitable.js";

export type TaskState = "created" | "ready" | "running" | "waiting" | "done";

/**
 * @internal A task's TaskState as the scheduler keeps it: a small integer (a store of one needs no
 * write barrier, a test is one compare), named by TASK_STATES for what a user sees.
 */
export const enum RunState {
  Created,
  Ready,
  Running,
  Waiting,
  Done,
  /**
   * Ready, and known to the driver's fast path: its innermost iterator is a generator object and
   * nothing is to be thrown into it (set only by the driver, when it requeues a fiber it drove).
   */
  Resumable,
}

const TASK_STATES: readonly TaskState[] = ["created", "ready", "running", "waiting", "done", "ready"];

export const enum Outcome {
  Pending,
  Returned,
  Threw,
}

/** @internal The bits of Task.bits (Outcome once the task has ended, the others while it lives). */
export const enum TaskBits {
  /** Once it has ended: its Outcome. */
  Outcome = 3,
  /** Its wait may be ended by an alert (WAIT_ALERTABLE). */
  Alertable = 4,
  /** Its wait face was handed to a `yield*` (the operation in `pending`) and has not started the wait. */
  FaceHanded = 8,
  /** Its wait face started the wait: the next resume answers it. */
  FaceParked = 16,
  /** The wait face's phase (neither bit: free). */
  Face = FaceHanded | FaceParked,
  /** Held for the collector (in the suspension's queue of held fibers). */
  Held = 32,
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
  abort(t: Task, rude: boolean, reason?: unknown): number;
  yieldTask(t: Task): number;
  /** Closes an abort-holding region with `close`; a held-back abort is then delivered to a waiting task. */
  endAbortRegion(t: Task, close: () => number): number;
}

/** What a task reaches: its core's door and its scheduler. One object per host, shared by its tasks. */
export interface TaskEnv {
  /** @internal */
  readonly door: CoreDoor;
  /** @internal */
  readonly sched: TaskScheduling;
  /** @internal `yield* task`: an operation of the fiber running now that joins `t`, then answers its value or throws its error. */
  // biome-ignore lint/suspicious/noExplicitAny: a task of any result type; Task<unknown> would refuse Task<number>
  joinValue(t: Task<any>): Iterator<unknown, unknown, unknown>;
}

const INSPECT: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

// A TaskRef and a Queued by its fields (the door and the queues take it as one), with no
// `implements` clause: those fields are internal, absent from the published types (stripInternal),
// where the clause would then be false.
export class Task<R = unknown> {
  /** A number unique within the host, never reused (a slot's index is). */
  readonly id: number;

  // The core's handle.
  /** @internal */ readonly idx: number;
  /** @internal */ readonly gen: number;
  /** @internal */ readonly base: number;
  /** @internal */ readonly env: TaskEnv;

  // Scheduling state, owned by the scheduler.
  /** @internal */ state: RunState = RunState.Created;
  /** @internal the iterator that runs now: the body, or the innermost scope's body */
  iter: Iterator<unknown> | null = null;
  /** @internal the iterators below `iter` (f.managed / f.unmanaged bodies): an explicit stack */
  stack: Iterator<unknown>[] | null = null;
  /** @internal */ resumeValue: unknown = undefined;
  /** @internal */ resumeThrow = false;
  /** @internal set when the scheduler must look at this task at its next safe point */
  attention = false;
  /** @internal the ready-queue level (from the priority) */
  level: number = Level.Default;
  /** @internal */ waitOn: Waitable<Task> | null = null;
  /**
   * @internal 1 + its timer's index in the timer heap; 0: none. (A field of its own: kept in
   * `bits`, the spawn + run + exit case ran 5% slower in Chromium.)
   */
  timerPos = 0;
  /** @internal */ qNext: Queued | null = null;
  /** @internal */ qPrev: Queued | null = null;
  /**
   * The fiber's f.yield() operation, once made: a plain `yield` of it is the switch's fast path
   * (the driver recognises it without delegating to it). A private field: an operation reachable
   * through a task's own properties would be iterated (run) by a deep equality of tasks.
   */
  #yieldToken: object | null = null;
  /** @internal */
  get yieldToken(): object | null {
    return this.#yieldToken;
  }
  /** @internal */
  set yieldToken(op: object | null) {
    this.#yieldToken = op;
  }
  /**
   * @internal Small state packed in one integer (TaskBits), so that a parked fiber pays one field
   * for all of it: while it lives, its wait's alertability, its wait face's phase and whether it
   * is held for the collector; once it has ended, its outcome.
   */
  bits = 0;
  /**
   * @internal What the task keeps for one phase of its life, in one field rather than one per
   * phase: a fiber's body until its first run (FiberTask); while it runs, the wait operation its
   * wait face is starting (src/operations/wait-face.ts); once it has ended, what its body returned
   * or threw.
   */
  pending: unknown = null;
  /**
   * @internal Its counters when it ended, packed by CoreDoor.packCounters (its slot is then
   * reused); -1: not packed (too large), kept in its extras' finalCounters.
   */
  finalCounts = -1;
  /** @internal the rarely used state, made on first use: a million parked fibers stay small */
  /**
   * @internal The rarely used state (src/task/extras.ts), made on first use by extras(): a million
   * parked fibers stay small. Read it as `t.x !== null && t.x.field`.
   */
  x: TaskExtras<Task> | null = null;

  /** @internal */
  extras(): TaskExtras<Task> {
    return (this.x ??= new TaskExtras<Task>());
  }

  /** @internal Whether its wait may be ended by an alert (WAIT_ALERTABLE). */
  get waitAlertable(): boolean {
    return (this.bits & TaskBits.Alertable) !== 0;
  }
  set waitAlertable(on: boolean) {
    this.bits = on ? this.bits | TaskBits.Alertable : this.bits & ~TaskBits.Alertable;
  }

  /** @internal How it ended (Pending until then). */
  get outcome(): Outcome {
    return this.state === RunState.Done ? ((this.bits & TaskBits.Outcome) as Outcome) : Outcome.Pending;
  }
  set outcome(outcome: Outcome) {
    this.bits = (this.bits & ~TaskBits.Outcome) | outcome;
  }

  /** @internal What its body returned or threw, once it has ended (undefined until then). */
  get value(): unknown {
    return this.state === RunState.Done ? this.pending : undefined;
  }
  set value(value: unknown) {
    this.pending = value;
  }

  /** @internal the abort being thrown into it (an f.managed scope closes without a time limit for it) */
  get unwinding(): unknown {
    return this.x === null ? undefined : this.x.unwinding;
  }

  /** @internal */
  constructor(env: TaskEnv, idx: number, id: number, name: string | null) {
    this.env = env;
    this.idx = idx;
    const base = env.door.baseOf(idx); // (over the core's views: no call into it)
    this.base = base;
    this.gen = env.door.generationAt(base);
    this.id = id;
    if (name !== null) this.extras().name = name;
  }

  /**
   * @internal The body's first call, made once by the scheduler: what it gives (an iterator to
   * drive, or a plain function's result). A fiber's task (FiberTask, src/fiber/context.ts) has a body;
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
    const x = this.x;
    return x !== null && x.name !== null ? x.name : `fiber-${this.id}`;
  }
  /** A string; anything else is refused (HResultError E_INVALIDARG): every message and dump shows it. */
  set name(name: string) {
    if (typeof name !== "string")
      throw new HResultError(E_INVALIDARG, `task.name takes a string, not ${describeValue(name)}`);
    this.extras().name = name;
  }

  /** 'created', 'ready', 'running', 'waiting' or 'done'. */
  getState(): TaskState {
    return TASK_STATES[this.state];
  }

  /** True once the task has ended, however it ended. */
  get done(): boolean {
    return this.state === RunState.Done;
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
    if (this.live()) return this.env.door.counters(this);
    if (this.finalCounts >= 0) return this.env.door.unpackCounters(this.finalCounts);
    const final = this.x === null ? null : this.x.finalCounters;
    return final === null ? this.env.door.counters(this) : { ...final };
  }

  /**
   * Settles with the fiber's return value, or rejects with its error (a TaskAbortError when it was
   * aborted and did not catch the abort). Never reported as an unhandled rejection.
   */
  get result(): Promise<R> {
    const x = this.extras();
    x.observed = true;
    if (!x.resultPromise) {
      x.resultPromise =
        this.outcome === Outcome.Returned
          ? new Promise((resolve) => resolve(this.value)) // (not Promise.resolve: it asks a promise's constructor)
          : this.outcome === Outcome.Threw
            ? Promise.reject(this.value)
            : new Promise((resolve, reject) => {
                x.settleResult = (t) => (t.outcome === Outcome.Returned ? resolve(t.value) : reject(t.value));
              });
      x.resultPromise.catch(() => {});
    }
    return x.resultPromise as Promise<R>;
  }

  /**
   * `const v = yield* task` in a fiber: waits for the task to end, then answers its return value or
   * throws its error (`f.join` answers the HRESULT instead).
   */
  // biome-ignore lint/suspicious/noExplicitAny: `yield* task` inside a body whose yields are typed by its caller (see FiberStart)
  [Symbol.iterator](): Iterator<unknown, R, any> {
    return this.env.joinValue(this) as Iterator<unknown, R, never>;
  }

  /** One line: `Task #3 "worker" waiting managed depth 2`. */
  toString(): string {
    const live = this.state !== RunState.Done;
    const where = live ? ` ${this.mode} depth ${this.depth}` : this.outcome === Outcome.Threw ? " threw" : " returned";
    return `Task #${this.id} ${JSON.stringify(this.name)} ${this.getState()}${where}`;
  }

  /** What JSON.stringify shows: id, name, state, mode, depth. */
  toJSON(): { id: number; name: string; state: TaskState; mode: "managed" | "unmanaged"; depth: number } {
    return { id: this.id, name: this.name, state: this.getState(), mode: this.mode, depth: this.depth };
  }

  /** @internal Node's util.inspect (console.log): the one line of toString, not the internals. */
  [INSPECT](): string {
    return this.toString();
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

  /**
   * Throws a TaskAbortError into the fiber at its next safe point (delay regions hold it back);
   * `reason` becomes its `cause`, and the reason of the signal an `f.await(signal => …)` gave.
   */
  abort(reason?: unknown): number {
    return this.env.sched.abort(this, false, reason);
  }

  /** Ends the fiber without running its handlers. */
  rudeAbort(reason?: unknown): number {
    return this.env.sched.abort(this, true, reason);
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
