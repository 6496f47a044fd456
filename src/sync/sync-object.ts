// What the host's synchronisation objects share (src/sync/objects.ts): their waiters, closing, and how a
// wait or a call finds the task that makes it.

import type { Task, TaskScheduling } from "../task/task.js";
import type { CoreDoor } from "../core/door.js";
import type { SchedulerPort } from "../scheduler/port.js";
import { currentFiber } from "../scheduler/driving.js";
import { TaskQueue } from "../kernel/queue.js";
import type { Watcher } from "../kernel/waitable.js";
import type { Op } from "../operations/operation.js";
import { DoneOp, WaitOp } from "../operations/basic.js";
import { isTimeout, isWaitOption } from "../base/args.js";
import { E_INVALIDARG, HOST_E_ABANDONED, HOST_E_INVALIDOPERATION, S_FALSE, S_OK } from "../base/hresult.js";
import { acquireFailure, checkOption, checkTimeout, scopedOp } from "./scoped.js";

import { ENV as ENV_ } from "../task/state.js";
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
const ENV: typeof ENV_ = ENV_;
const DESCRIBE: typeof DESCRIBE_ = DESCRIBE_;
const ENQUEUE: typeof ENQUEUE_ = ENQUEUE_;
const REMOVE: typeof REMOVE_ = REMOVE_;
const TRY_ACQUIRE: typeof TRY_ACQUIRE_ = TRY_ACQUIRE_;
const WAITS_FOR: typeof WAITS_FOR_ = WAITS_FOR_;
const WATCH: typeof WATCH_ = WATCH_;
const INSPECT: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

// A sync object's own state and the helpers its kinds share, keyed by symbols that only src/sync/
// (and the host, for MADE_WITH) imports, src/index.ts does not: a write by name (`crst.owner = null`,
// `ev.closed = true`) makes an own property nothing reads. State one class alone uses is a #field.
/** @internal */ export const SYNC_ENV: unique symbol = Symbol("fiberhost sync env");
/** @internal */ export const WAITERS: unique symbol = Symbol("fiberhost waiters");
/** @internal */ export const CLOSED: unique symbol = Symbol("fiberhost closed");
/** @internal */ export const MADE_WITH: unique symbol = Symbol("fiberhost madeWith");
/** @internal */ export const LABEL: unique symbol = Symbol("fiberhost label");
/** @internal */ export const NOTIFY: unique symbol = Symbol("fiberhost notify");
/** @internal */ export const WAKE_ALL: unique symbol = Symbol("fiberhost wakeAll");
/** @internal */ export const WAIT_OP: unique symbol = Symbol("fiberhost waitOp");
/** @internal */ export const CALL_NAME: unique symbol = Symbol("fiberhost callName");
/** @internal */ export const CHECK_WAIT: unique symbol = Symbol("fiberhost checkWait");
/** @internal */ export const SCOPED: unique symbol = Symbol("fiberhost scoped");
/** @internal */ export const ACQUIRE_OR_THROW: unique symbol = Symbol("fiberhost acquireOrThrow");
/** @internal */ export const CALLER: unique symbol = Symbol("fiberhost caller");
/** @internal */ export const USABLE: unique symbol = Symbol("fiberhost usable");

export interface SyncEnv {
  /** @internal */
  sched: SchedulerPort & TaskScheduling;
  /** @internal */
  door: CoreDoor;
  rootTask: Task;
  /** The task switched in: the running fiber, a task switched in by hand, or the root task. */
  currentTask(): Task;
}

// A Waitable by its members, with no `implements` clause: those members are internal, absent from
// the published types (stripInternal), where the clause would then be false.
export abstract class SyncObject {
  // A getter on the prototype, as `name` is: f.wait and f.waitAny tell a Crst by its kind.
  abstract get kind(): "crst" | "autoEvent" | "manualEvent" | "semaphore";
  /** @internal */
  readonly [WAITERS] = new TaskQueue<Task>();
  /** @internal */
  [CLOSED] = false;
  /** f.waitAny waits that include it (rare: null until one does). */
  #watchers: Set<Watcher> | null = null;
  #name: string | null;
  /** @internal */
  readonly [SYNC_ENV]: SyncEnv;
  /** The name given at creation (shown by dump(), the trace and messages), or null. */
  get name(): string | null {
    return this.#name;
  }
  /** @internal Its waiters get HOST_E_ABANDONED when the runtime is disabled. */
  get abandonedOnDisable(): boolean {
    return true;
  }

  constructor(env: SyncEnv, name: string | null = null) {
    this[SYNC_ENV] = env;
    this.#name = name;
  }

  // The Waitable steps the scheduler drives (src/kernel/waitable.ts): internal, absent from the
  // published types (a user calling tryAcquire would take the object for a task without a wait).
  /** @internal */
  abstract [TRY_ACQUIRE](t: Task): number;

  /** @internal */
  [ENQUEUE](t: Task): void {
    this[WAITERS].push(t);
  }
  /** @internal */
  [REMOVE](t: Task): void {
    this[WAITERS].remove(t);
  }
  /** @internal */
  [WAITS_FOR](): Task | null {
    return null;
  }
  /** @internal */
  [DESCRIBE](): string {
    return this[LABEL]();
  }

  /** @internal Its kind, and its name when it has one: `autoEvent "jobs"`. */
  [LABEL](): string {
    return this.name === null ? this.kind : `${this.kind} ${JSON.stringify(this.name)}`;
  }

  /** One line, for messages and logs. */
  toString(): string {
    return `${this[LABEL]()}${this[CLOSED] ? " closed" : ""} (${this[WAITERS].size} waiting)`;
  }

  toJSON(): { kind: string; name: string | null; closed: boolean; waiting: number } {
    return { kind: this.kind, name: this.#name, closed: this[CLOSED], waiting: this[WAITERS].size };
  }

  /** @internal Node's util.inspect (console.log): toString's one line. */
  [INSPECT](): string {
    return this.toString();
  }

  /** @internal */
  [WATCH](w: Watcher, on: boolean): void {
    if (on) (this.#watchers ??= new Set()).add(w);
    else this.#watchers?.delete(w);
  }

  /** @internal It may be acquirable now (set, released, closed): f.waitAny waits on it are told, after its own waiters. */
  [NOTIFY](): void {
    if (this.#watchers === null || this.#watchers.size === 0) return;
    for (const w of [...this.#watchers]) w.fire();
  }

  /** @internal Made by the host whose sync objects share `env`? */
  [MADE_WITH](env: SyncEnv): boolean {
    return this[SYNC_ENV] === env;
  }

  /** Fibers waiting now, oldest first. */
  waiting(): Task[] {
    return this[WAITERS].toArray();
  }

  /** Closes the object: fibers waiting on it get HOST_E_ABANDONED, and so do later waits. */
  close(): number {
    if (this[CLOSED]) return S_FALSE;
    this[CLOSED] = true;
    this[WAKE_ALL](HOST_E_ABANDONED);
    this[NOTIFY]();
    return S_OK;
  }

  /** @internal */
  [WAKE_ALL](hr: number): void {
    const waiters = this[WAITERS];
    const sched = this[SYNC_ENV].sched;
    for (let t = waiters.shift(); t; t = waiters.shift()) sched.wake(t, hr);
  }

  /**
   * @internal A wait by the fiber running now; outside a fiber it answers HOST_E_INVALIDOPERATION (it would
   * block), and in a fiber of another host E_INVALIDARG.
   */
  [WAIT_OP](ms: number, option: number): Op<number> {
    const env = this[SYNC_ENV];
    // The fiber running now across hosts, not this host's: a fiber of another host, driven from
    // inside one of this host's fibers, must not have its wait attached to the fiber driving it.
    const t = currentFiber();
    if (t === null || t.done) return new DoneOp(env.rootTask, HOST_E_INVALIDOPERATION);
    if (t[ENV].sched !== env.sched) return new DoneOp(t, env.door.orUnavailable(E_INVALIDARG));
    return new WaitOp(t, env.sched, this, ms, option);
  }

  /** @internal `crst "a".lock(body)`: a scoped form's call, as its messages name it. */
  [CALL_NAME](form: string): string {
    return `${this[LABEL]()}.${form}`;
  }

  /** @internal The checks of a scoped form's timeout and option, where it is made: HResultError(E_INVALIDARG). */
  [CHECK_WAIT](form: string, ms: number, option: number): void {
    if (!isTimeout(ms)) checkTimeout(ms, this[CALL_NAME](form));
    if (!isWaitOption(option)) checkOption(option, this[CALL_NAME](form));
  }

  /** @internal The operation of a scoped form (src/sync/scoped.ts), in the fiber that makes it. */
  [SCOPED]<R>(form: string, steps: Generator<unknown, R, unknown>): Op<R> {
    return scopedOp(this[SYNC_ENV].rootTask, steps, () => this[CALL_NAME](form));
  }

  /** @internal A scoped form's wait: throws HResultError (what failed, what to do) unless it answers S_OK. */
  *[ACQUIRE_OR_THROW](form: string, ms: number, option: number): Generator<unknown, void, unknown> {
    const hr = yield* this[WAIT_OP](ms, option);
    if (hr === S_OK) return;
    throw acquireFailure(this[CALL_NAME](form), this[DESCRIBE](), hr, ms, this[CLOSED], this.kind === "crst");
  }

  /**
   * @internal The task that calls, or null when it is a fiber of another host: calls that act for their
   * caller (TryEnter, Leave, the waits) answer E_INVALIDARG then. Set, Reset, ReleaseSemaphore and
   * close name no caller and stay usable from anywhere.
   */
  [CALLER](): Task | null {
    const env = this[SYNC_ENV];
    const f = currentFiber();
    if (f !== null && f[ENV].sched !== env.sched) return null;
    return env.currentTask();
  }

  /**
   * @internal The checks before a Set, Reset or ReleaseSemaphore: the runtime's state first
   * (HOST_E_CLRNOTAVAILABLE; E_FAIL once on an armed trap), then HOST_E_INVALIDOPERATION once closed.
   */
  [USABLE](): number {
    const hr = this[SYNC_ENV].door.available();
    if (hr !== S_OK) return hr;
    return this[CLOSED] ? HOST_E_INVALIDOPERATION : S_OK;
  }
}
