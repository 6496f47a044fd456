// A task's states and small bits, as the scheduler keeps them, and what it reaches (task.ts has
// the task itself; generic over the task type, so that this module needs nothing of task.ts).

import type { CoreDoor } from "../core/door.js";
import { TIMER_POS } from "../kernel/timers.js";

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

export const TASK_STATES: readonly TaskState[] = ["created", "ready", "running", "waiting", "done", "ready"];

export const enum Outcome {
  Pending,
  Returned,
  Threw,
}

/**
 * @internal The keys of the task's state that decides its outcome (TaskBits, and what it keeps
 * for its phase: its result once it has ended): symbols no module a user can import exports
 * (src/index.ts does not), so that no write by name (`t.bits = 2`, `t.pending = "x"`) reaches
 * them. A symbol-keyed property costs what a named one does (a symbol is a property name to the
 * engine's inline caches: measured, see .changes/types-private.md), where a `#field` read from
 * the modules that need it would need an accessor each.
 */
export const BITS: unique symbol = Symbol("fiberhost task bits");
/** @internal See BITS. */
export const PENDING: unique symbol = Symbol("fiberhost task pending");

/**
 * @internal The keys of the rest of the scheduler's state on a task (its run state, iterators,
 * resume value, wait, …) and of the methods only the scheduler calls, as BITS: none of them can be
 * written or called by name from outside. Every one is initialised in the constructor in one
 * order, as named fields were, so that tasks keep one hidden class.
 */
export const STATE: unique symbol = Symbol("fiberhost task state");
export const ITER: unique symbol = Symbol("fiberhost task iter");
export const STACK: unique symbol = Symbol("fiberhost task stack");
export const RESUME_VALUE: unique symbol = Symbol("fiberhost task resume_value");
export const RESUME_THROW: unique symbol = Symbol("fiberhost task resume_throw");
export const ATTENTION: unique symbol = Symbol("fiberhost task attention");
export const LEVEL: unique symbol = Symbol("fiberhost task level");
export const WAIT_ON: unique symbol = Symbol("fiberhost task wait_on");
export const YIELD_TOKEN: unique symbol = Symbol("fiberhost task yield_token");
/**
 * @internal A task's final counters (CoreDoor.packCounters, plus one; 0: not packed, kept in its
 * extras' finalCounters) once it has ended, in the field that holds its timer's position while it
 * lives (TIMER_POS, src/kernel/timers.ts): the two are never needed at once, and a parked fiber
 * pays one field for both.
 */
export const FINAL_COUNTS: typeof TIMER_POS = TIMER_POS;
export const EXTRA: unique symbol = Symbol("fiberhost task extra");
export const ENV: unique symbol = Symbol("fiberhost task env");
export const BEGIN: unique symbol = Symbol("fiberhost task begin");
export const DROP_BODY: unique symbol = Symbol("fiberhost task drop_body");
export const EXTRAS: unique symbol = Symbol("fiberhost task extras");

/** @internal The bits of Task[BITS] (Outcome once the task has ended, the others while it lives). */
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
 * What a task asks its scheduler (src/scheduler/scheduler.ts implements it, a layer
 * above): the IHostTask / ICLRTask calls that involve scheduling.
 */
export interface SchedulingOf<T> {
  startTask(t: T): number;
  alert(t: T): number;
  setPriority(t: T, priority: number): number;
  manualSwitch(t: T, on: boolean): number;
  exitTask(t: T): number;
  reset(t: T, full: boolean): number;
  abort(t: T, rude: boolean, reason?: unknown): number;
  yieldTask(t: T): number;
  /** Closes an abort-holding region with `close`; a held-back abort is then delivered to a waiting task. */
  endAbortRegion(t: T, close: () => number): number;
}

/**
 * task.setTaskIdentifier's argument as the core takes it, two signed 32-bit halves (low, high);
 * null unless it is a non-negative safe integer or a bigint below 2^64.
 */
export function identifierHalves(id: unknown): [number, number] | null {
  let big: bigint;
  if (typeof id === "bigint") big = id;
  else if (typeof id === "number" && Number.isSafeInteger(id)) big = BigInt(id);
  else return null;
  if (big < 0n || big >= 1n << 64n) return null;
  return [Number(big & 0xffffffffn) | 0, Number(big >> 32n) | 0];
}

/** What a task reaches: its core's door and its scheduler. One object per host, shared by its tasks. */
export interface EnvOf<T> {
  /** @internal */
  readonly door: CoreDoor;
  /** @internal */
  readonly sched: SchedulingOf<T>;
  /** @internal `yield* task`: an operation of the fiber running now that joins `t`, then answers its value or throws its error. */
  joinValue(t: T): Iterator<unknown, unknown, unknown>;
}

/** @internal Sets whether `t`'s wait may be ended by an alert (a function, not a setter: see Task[BITS]). */
export function setWaitAlertable(t: { [BITS]: number }, on: boolean): void {
  t[BITS] = on ? t[BITS] | TaskBits.Alertable : t[BITS] & ~TaskBits.Alertable;
}

/** @internal Keeps how `t` ended (its outcome) and what its body returned or threw: once, at its end. */
export function settleTask(t: { [BITS]: number; [PENDING]: unknown }, outcome: Outcome, value: unknown): void {
  t[BITS] = (t[BITS] & ~TaskBits.Outcome) | outcome;
  t[PENDING] = value;
}
