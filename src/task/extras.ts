// What few tasks need: kept apart from Task (src/task/task.ts) so that a parked fiber costs less
// memory. Generic over the task type, so that this module needs nothing of task.ts.

import type { Counters } from "../core/door.js";
import type { Frame } from "../base/errors.js";
import type { Queued, TaskQueue } from "../kernel/queue.js";
import { Outcome } from "./state.js";

// The result promise and its settle, keyed by symbols this module alone holds: a user who reaches a
// task's extras (an internal field) still cannot replace the promise `task.result` answers.
const RESULT: unique symbol = Symbol("fiberhost result");
const SETTLE: unique symbol = Symbol("fiberhost settle");

// Keyed by a symbol src/index.ts does not export: a user calling or overwriting `abandon` by name
// on a Crst would free it under its owner, or keep it held after its owner ended.
/** @internal */ export const ABANDON: unique symbol = Symbol("fiberhost abandon");

/** A lock a task owns (a Crst): abandoned when the task ends owning it. */
export interface HeldLock {
  /** @internal Its owner ended while holding it. */
  [ABANDON](): void;
}

export class TaskExtras<T extends Queued> {
  /** The name given at spawn (or set later); null: `fiber-<id>`. */
  name: string | null = null;
  /** ExitTask asked by the running fiber itself: it ends at its next safe point. */
  exitRequested = false;
  /** Its own abort is being thrown into it (woken with it, not yet resumed). */
  abortInFlight = false;
  /** Fibers joining it (IHostTask::Join). */
  joiners: TaskQueue<T> | null = null;
  /** The Crsts it owns, abandoned when it ends. */
  held: Set<HeldLock> | null = null;
  /**
   * The abort delivered to it and not reset (f.resetAbort): thrown again at each of its safe points
   * outside a delay region, and how it ends (src/operations/env.ts's rules).
   */
  unwinding: unknown = undefined;
  /** How many times that abort was thrown again: past a limit it is escalated to a rude abort (requests.ts). */
  reraised = 0;
  /** The stack at spawn, when the host records spawn sites. */
  spawnSite: string | undefined = undefined;
  /** The frames where errorOf first left a body. */
  errorFrames: Frame[] | null = null;
  errorOf: unknown = undefined;
  [RESULT]: Promise<unknown> | null = null;
  [SETTLE]: ((t: T) => void) | null = null;
  /** Its counters when it ended (its slot is then reused). */
  finalCounters: Counters | null = null;
  /** Called once when the task ends (spawn's signal listener is removed there). */
  onEnd: (() => void) | null = null;
  /** The reason given to its first abort (task.abort(reason), a signal's reason): the TaskAbortError's cause. */
  abortReason: unknown = undefined;
  /** Why structured concurrency aborted it ("parent ended", "sibling b failed"): its TaskAbortError's message says it. */
  abortWhy: string | undefined = undefined;
  /** Its end is looked at: its result was asked for, or a fiber joined it. An unobserved failure is reported. */
  observed = false;
  /**
   * The fiber that spawned it with f.spawn (it ends before its parent does), and its siblings
   * before and after it in that parent's list of children that have not ended. Here rather than in
   * `family`: a child then costs one object (these), not two.
   */
  parent: T | null = null;
  prevSibling: T | null = null;
  nextSibling: T | null = null;
  /** Its f.spawn children (only a fiber that spawned one has this). */
  family: FamilyLinks<T> | null = null;
  /** The first operation it made and never ran, once another fiber made one (src/operations/operation.ts). */
  unrun: object | null = null;
  /** f.waitAny waits that include it: told when it ends. */
  endWatchers: Set<{ fire(): void }> | null = null;
}

/**
 * A fiber's children (f.spawn): apart, so that other fibers' extras stay small. The children are a
 * list threaded through their own extras (prevSibling/nextSibling), in spawn order: adopting and
 * forgetting a child is a few stores, where a Set of thousands of children cost a hash and a
 * rehash now and then (f.spawn ran 4× slower than host.spawn with it).
 */
export class FamilyLinks<T> {
  /** Its f.spawn children that have not ended, first and last, and how many. */
  first: T | null = null;
  last: T | null = null;
  count = 0;
  /** How it ended while its children still unwind: its end waits for them. */
  ending: { threw: boolean; value: unknown } | null = null;
  /** The error of a child whose unobserved failure aborts it: its own failure then. */
  childFailure: unknown = undefined;
  /** The name of that child: its siblings are aborted as "sibling <name> failed". */
  failedChild: string | undefined = undefined;
}

/** What resultOf reads of a task: how it ended, and what its body returned or threw. */
type Ended = Queued & { readonly outcome: Outcome; readonly value: unknown };

/**
 * A task's `result`: made once, settled at once for an ended task (its `outcome` and `value`), or
 * when it ends (settleResult); its rejection is never reported as unhandled.
 */
export function resultOf<T extends Ended>(x: TaskExtras<T>, t: T): Promise<unknown> {
  x.observed = true;
  let p = x[RESULT];
  if (p === null) {
    const outcome = t.outcome;
    p =
      outcome === Outcome.Returned
        ? new Promise((resolve) => resolve(t.value)) // (not Promise.resolve: it asks a promise's constructor)
        : outcome === Outcome.Threw
          ? Promise.reject(t.value)
          : new Promise((resolve, reject) => {
              x[SETTLE] = (ended) => (ended.outcome === Outcome.Returned ? resolve(ended.value) : reject(ended.value));
            });
    p.catch(() => {});
    x[RESULT] = p;
  }
  return p;
}

/** The task ended: a `result` asked for before then settles now. */
export function settleResult<T extends Ended>(x: TaskExtras<T>, t: T): void {
  const settle = x[SETTLE];
  x[SETTLE] = null;
  if (settle !== null) settle(t);
}
