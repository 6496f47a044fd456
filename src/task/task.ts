// A task: the IHostTask surface (implemented by the host) and the ICLRTask / ICLRTask2 surface
// (implemented by the runtime, here the core) on one object, plus what a scheduler user wants to
// see (mode, depth, counters, result). Calls forward to its scheduler or its core's door: a task
// holds those two (its TaskEnv), never the host. The public task and the scheduler's per-fiber
// record are one object, kept together for memory: a record apart would cost every parked fiber
// an object header and a pointer (a million parked fibers is a benchmarked case).

import { type Counters, unpackCounters } from "../core/door.js";
import type { Frame } from "../base/errors.js";
import { E_INVALIDARG, HOST_E_INVALIDOPERATION, HOST_E_TIMEOUT, HResultError, S_OK } from "../base/hresult.js";
import { describeValue, isTimeout, isWaitOption } from "../base/args.js";
import { setOut, type Out } from "../base/out.js";
import { TaskExtras, resultOf } from "./extras.js";
import { TaskFields } from "./fields.js";
import { BITS as BITS_, Outcome, PENDING as PENDING_, RunState, TASK_STATES, TaskBits } from "./state.js";
import { BEGIN as BEGIN_, DROP_BODY as DROP_BODY_, ENV as ENV_, EXTRA as EXTRA_, EXTRAS as EXTRAS_ } from "./state.js";
import { FINAL_COUNTS as FINAL_COUNTS_, STATE as STATE_, identifierHalves } from "./state.js";
import type { EnvOf, SchedulingOf, TaskState } from "./state.js";
import { BASE as BASE_, GEN as GEN_, IDX as IDX_ } from "../core/names.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const BITS: typeof BITS_ = BITS_;
const PENDING: typeof PENDING_ = PENDING_;
const BEGIN: typeof BEGIN_ = BEGIN_;
const DROP_BODY: typeof DROP_BODY_ = DROP_BODY_;
const ENV: typeof ENV_ = ENV_;
const EXTRA: typeof EXTRA_ = EXTRA_;
const EXTRAS: typeof EXTRAS_ = EXTRAS_;
const FINAL_COUNTS: typeof FINAL_COUNTS_ = FINAL_COUNTS_;
const STATE: typeof STATE_ = STATE_;
const BASE: typeof BASE_ = BASE_;
const GEN: typeof GEN_ = GEN_;
const IDX: typeof IDX_ = IDX_;

export { Outcome, type TaskState } from "./state.js";
/** @internal */ export { BITS, PENDING, RunState, TaskBits, setWaitAlertable, settleTask } from "./state.js";

/** @internal What a task asks its scheduler (src/task/state.ts). */
export type TaskScheduling = SchedulingOf<Task>;

/** What a task reaches: its core's door and its scheduler (src/task/state.ts). */
// biome-ignore lint/suspicious/noExplicitAny: a task of any result type; Task<unknown> would refuse Task<number>
export type TaskEnv = EnvOf<Task<any>>;

const INSPECT: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

// A TaskRef and a Queued by its fields (the door and the queues take it as one), with no
// `implements` clause: those fields are internal, absent from the published types (stripInternal),
// where the clause would then be false. Every field the scheduler owns is keyed by a symbol no
// module a user can import exports (src/task/state.ts): nothing written by name reaches it.
export class Task<R = unknown> extends TaskFields<Task> {
  /** A number unique within the host, never reused (a slot's index is). */
  readonly id: number;

  // The core's handle.
  /** @internal */ readonly [IDX]: number;
  /** @internal */ readonly [GEN]: number;
  /** @internal */ readonly [BASE]: number;
  /** @internal */ readonly [ENV]: TaskEnv;

  /** @internal */ [EXTRAS](): TaskExtras<Task> {
    return (this[EXTRA] ??= new TaskExtras<Task>());
  }

  // Getters only, over BITS and PENDING alone (the scheduler writes them with setWaitAlertable and
  // settleTask, once, at its end): nothing a user writes by name changes how a task ended.

  /** @internal Whether its wait may be ended by an alert (WAIT_ALERTABLE). */
  get waitAlertable(): boolean {
    return (this[BITS] & TaskBits.Alertable) !== 0;
  }

  /** @internal How it ended (Pending until then). */
  get outcome(): Outcome {
    return (this[BITS] & TaskBits.Outcome) as Outcome;
  }

  /** @internal What its body returned or threw, once it has ended (undefined until then). */
  get value(): unknown {
    return (this[BITS] & TaskBits.Outcome) !== Outcome.Pending ? this[PENDING] : undefined;
  }

  /** @internal the abort being thrown into it (an f.managed scope closes without a time limit for it) */
  get unwinding(): unknown {
    return this[EXTRA] === null ? undefined : this[EXTRA].unwinding;
  }

  /** @internal */
  constructor(env: TaskEnv, idx: number, id: number, name: string | null) {
    super(); // (the scheduler's fields first, in TaskFields' order: one hidden class)
    this[ENV] = env;
    this[IDX] = idx;
    const base = env.door.baseOf(idx); // (over the core's views: no call into it)
    this[BASE] = base;
    this[GEN] = env.door.generationAt(base);
    this.id = id;
    if (name !== null) this[EXTRAS]().name = name;
  }

  /**
   * @internal The body's first call, made once by the scheduler: what it gives (an iterator to
   * drive, or a plain function's result). A fiber's task (FiberTask, src/fiber/context.ts) has a body;
   * a bare task (the root task) has none.
   */
  [BEGIN](): unknown {
    throw new HResultError(HOST_E_INVALIDOPERATION, `task ${this.name} has no body to run`);
  }

  /** @internal The task ended: what its body's first call needed is let go. */
  [DROP_BODY](): void {}

  // --- what a user sees --------------------------------------------------------------------------

  /** The name given at spawn, or `fiber-<id>`. */
  get name(): string {
    const x = this[EXTRA];
    return x !== null && x.name !== null ? x.name : `fiber-${this.id}`;
  }
  /** A string; anything else is refused (HResultError E_INVALIDARG): every message and dump shows it. */
  set name(name: string) {
    if (typeof name !== "string")
      throw new HResultError(E_INVALIDARG, `task.name takes a string, not ${describeValue(name)}`);
    this[EXTRAS]().name = name;
  }

  /** 'created', 'ready', 'running', 'waiting' or 'done'. */
  getState(): TaskState {
    return TASK_STATES[this[STATE]];
  }

  /** True once the task has ended, however it ended. */
  get done(): boolean {
    // (Its outcome bits, set once at its end, rather than its `state`, a field the scheduler writes.)
    return (this[BITS] & TaskBits.Outcome) !== Outcome.Pending;
  }

  /** The mode of the top frame: a reverse-enter frame is managed; a leave frame or none, unmanaged. */
  get mode(): "managed" | "unmanaged" {
    return this.live() && this[ENV].door.isManaged(this) ? "managed" : "unmanaged";
  }

  /** Open transition frames (0 once the task has ended). */
  get depth(): number {
    return this.live() ? this[ENV].door.depth(this) : 0;
  }

  /** The open frames, outermost first. */
  frames(): Frame[] {
    return this.live() ? this[ENV].door.frames(this) : [];
  }

  /** A snapshot of this task's counters (the last values it had, once it has ended). */
  counters(): Counters {
    if (this.live()) return this[ENV].door.counters(this);
    if (this[FINAL_COUNTS] > 0) return unpackCounters(this[FINAL_COUNTS] - 1);
    const final = this[EXTRA] === null ? null : this[EXTRA].finalCounters;
    return final === null ? this[ENV].door.counters(this) : { ...final };
  }

  /**
   * Settles with the fiber's return value, or rejects with its error (a TaskAbortError when it was
   * aborted and did not catch the abort). Never reported as an unhandled rejection.
   */
  get result(): Promise<R> {
    return resultOf(this[EXTRAS](), this) as Promise<R>;
  }

  /**
   * `const v = yield* task` in a fiber: waits for the task to end, then answers its return value or
   * throws its error (`f.join` answers the HRESULT instead).
   */
  // biome-ignore lint/suspicious/noExplicitAny: `yield* task` inside a body whose yields are typed by its caller (see FiberStart)
  [Symbol.iterator](): Iterator<unknown, R, any> {
    return this[ENV].joinValue(this) as Iterator<unknown, R, never>;
  }

  /** One line: `Task #3 "worker" waiting managed depth 2`. */
  toString(): string {
    const live = this[STATE] !== RunState.Done;
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

  /** @internal */ live(): boolean {
    return this[ENV].door.isLive(this);
  }

  // --- IHostTask --------------------------------------------------------------------------------

  /** Makes a created (suspended) task runnable. */
  start(): number {
    return this[ENV].sched.startTask(this);
  }

  /** Wakes the task from an alertable wait (HOST_E_INTERRUPTED), or is remembered for its next one. */
  alert(): number {
    return this[ENV].sched.alert(this);
  }

  /**
   * IHostTask::Join from synchronous code: S_OK when the task has ended, HOST_E_TIMEOUT for ms = 0,
   * HOST_E_INVALIDOPERATION otherwise (the JS thread cannot block: use `yield* f.join(task, ms)` in
   * a fiber, or `await task.result`).
   */
  join(ms: number, option = 0): number {
    if (!isTimeout(ms) || !isWaitOption(option)) return this[ENV].door.orUnavailable(E_INVALIDARG);
    const hr = this[ENV].door.available();
    if (hr !== S_OK) return hr;
    if (this.done) return S_OK;
    return ms === 0 ? HOST_E_TIMEOUT : HOST_E_INVALIDOPERATION;
  }

  /** THREAD_PRIORITY_* values only: higher runs first, FIFO within a level. */
  setPriority(priority: number): number {
    return this[ENV].sched.setPriority(this, priority);
  }

  getPriority(out: Out<number>): number {
    const hr = this[ENV].door.check(this);
    return hr !== S_OK ? hr : setOut(out, this[ENV].door.priority(this));
  }

  // --- ICLRTask / ICLRTask2 ----------------------------------------------------------------------

  switchIn(): number {
    return this[ENV].sched.manualSwitch(this, true);
  }

  switchOut(): number {
    return this[ENV].sched.manualSwitch(this, false);
  }

  /** On the current task only: ends it (a fiber ends at its next yield, without running handlers). */
  exitTask(): number {
    return this[ENV].sched.exitTask(this);
  }

  /** Returns a created, not started task to its first state; its frames are cleared. */
  reset(full = true): number {
    return this[ENV].sched.reset(this, full);
  }

  /**
   * Throws a TaskAbortError into the fiber at its next safe point (delay regions hold it back);
   * `reason` becomes its `cause`, and the reason of the signal an `f.await(signal => …)` gave.
   */
  abort(reason?: unknown): number {
    return this[ENV].sched.abort(this, false, reason);
  }

  /** Ends the fiber without running its handlers. */
  rudeAbort(reason?: unknown): number {
    return this[ENV].sched.abort(this, true, reason);
  }

  /** TRUE exactly when the task is in managed mode: switched out there, it delays the collector. */
  needsPriorityScheduling(out: Out<boolean>): number {
    const hr = this[ENV].door.check(this);
    return hr !== S_OK ? hr : setOut(out, this[ENV].door.isManaged(this));
  }

  /** Asks another task to yield at its next safe point or transition. */
  yieldTask(): number {
    return this[ENV].sched.yieldTask(this);
  }

  /** How many Crsts the task holds. */
  locksHeld(out: Out<number>): number {
    const hr = this[ENV].door.check(this);
    return hr !== S_OK ? hr : setOut(out, this[ENV].door.locksHeld(this));
  }

  /** A 64-bit identifier: a non-negative safe integer or a bigint below 2^64. */
  setTaskIdentifier(id: number | bigint): number {
    const halves = identifierHalves(id);
    if (halves === null) return this[ENV].door.orUnavailable(E_INVALIDARG);
    return this[ENV].door.setTaskIdentifier(this, halves[0], halves[1]);
  }

  beginPreventAsyncAbort(): number {
    return this[ENV].door.preventAsyncAbort(this, true);
  }

  /** Closing the last prevent-async-abort count lets a held-back abort through at the next safe point. */
  endPreventAsyncAbort(): number {
    return this[ENV].sched.endAbortRegion(this, () => this[ENV].door.preventAsyncAbort(this, false));
  }
}
