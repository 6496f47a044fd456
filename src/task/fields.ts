// The scheduler's state on a task (src/task/task.ts), every field keyed by a symbol no module a
// user can import exports (src/task/state.ts, src/core/names.ts, src/kernel/): nothing written by
// name reaches it. A class of its own, the task's base, so that the fields are stored by one
// constructor in one fixed order: every task has one hidden class.

import { Level } from "../base/args.js";
import type { Queued } from "../kernel/queue.js";
import type { Waitable } from "../kernel/waitable.js";
import { Q_NEXT as Q_NEXT_, Q_PREV as Q_PREV_ } from "../kernel/queue.js";
import { TIMER_POS as TIMER_POS_ } from "../kernel/timers.js";
import type { TaskExtras } from "./extras.js";
import { BITS as BITS_, PENDING as PENDING_, RunState } from "./state.js";
import { ATTENTION as ATTENTION_, EXTRA as EXTRA_, ITER as ITER_ } from "./state.js";
import { LEVEL as LEVEL_, RESUME_THROW as RESUME_THROW_, RESUME_VALUE as RESUME_VALUE_ } from "./state.js";
import { STACK as STACK_, STATE as STATE_, WAIT_ON as WAIT_ON_, YIELD_TOKEN as YIELD_TOKEN_ } from "./state.js";

// The keys as module-local consts: an imported binding is read through its module's cell (with a
// check that it is initialised) at every use, where a local const is folded into the optimised
// code (with imported keys, the switch ran 15% slower).
const Q_NEXT: typeof Q_NEXT_ = Q_NEXT_;
const Q_PREV: typeof Q_PREV_ = Q_PREV_;
const TIMER_POS: typeof TIMER_POS_ = TIMER_POS_;
const BITS: typeof BITS_ = BITS_;
const PENDING: typeof PENDING_ = PENDING_;
const ATTENTION: typeof ATTENTION_ = ATTENTION_;
const EXTRA: typeof EXTRA_ = EXTRA_;
const ITER: typeof ITER_ = ITER_;
const LEVEL: typeof LEVEL_ = LEVEL_;
const RESUME_THROW: typeof RESUME_THROW_ = RESUME_THROW_;
const RESUME_VALUE: typeof RESUME_VALUE_ = RESUME_VALUE_;
const STACK: typeof STACK_ = STACK_;
const STATE: typeof STATE_ = STATE_;
const WAIT_ON: typeof WAIT_ON_ = WAIT_ON_;
const YIELD_TOKEN: typeof YIELD_TOKEN_ = YIELD_TOKEN_;

/** A task's scheduler-owned fields, all internal (T: the task type, which the waits and extras name). */
export abstract class TaskFields<T extends Queued> {
  // Scheduling state, owned by the scheduler.
  /** @internal */ declare [STATE]: RunState;
  /** @internal the iterator that runs now: the body, or the innermost scope's body */
  declare [ITER]: Iterator<unknown> | null;
  /**
   * @internal the iterators below `iter` (f.managed / f.unmanaged bodies): an explicit stack. (A
   * field of its own: kept in the extras, a fiber parked inside a scope or in a plain `yield op`
   * would pay for a whole extras record, 192 bytes, to save these 8.)
   */
  declare [STACK]: Iterator<unknown>[] | null;
  /** @internal */ declare [RESUME_VALUE]: unknown;
  /** @internal */ declare [RESUME_THROW]: boolean;
  /** @internal set when the scheduler must look at this task at its next safe point */
  declare [ATTENTION]: boolean;
  /** @internal the ready-queue level (from the priority) */
  declare [LEVEL]: number;
  /** @internal */ declare [WAIT_ON]: Waitable<T> | null;
  /**
   * @internal 1 + its timer's index in the timer heap; 0: none. (A field of its own: kept in
   * `bits`, the spawn + run + exit case ran 5% slower in Chromium.) Once the task has ended:
   * its final counters, under the same key (FINAL_COUNTS, src/task/state.ts).
   */
  declare [TIMER_POS]: number;
  /** @internal */ declare [Q_NEXT]: Queued | null;
  /** @internal */ declare [Q_PREV]: Queued | null;
  /**
   * The fiber's f.yield() operation, once made: a plain `yield` of it is the switch's fast path
   * (the driver recognises it without delegating to it). A private field: an operation reachable
   * through a task's own properties would be iterated (run) by a deep equality of tasks.
   */
  #yieldToken: object | null = null;
  /** @internal */
  get [YIELD_TOKEN](): object | null {
    return this.#yieldToken;
  }
  /** @internal */
  set [YIELD_TOKEN](op: object | null) {
    this.#yieldToken = op;
  }
  /**
   * @internal True when `v` is a task: a brand check of the private field, which asks `v` nothing
   * (no Proxy trap, no getter runs) and costs a map check, where `instanceof` walked a generator's
   * prototype chain at every spawn (about 5% of a spawn's time).
   */
  static isTask(v: object): boolean {
    return #yieldToken in v;
  }
  /**
   * @internal Small state packed in one integer (TaskBits), so that a parked fiber pays one field
   * for all of it: while it lives, its wait's alertability, its wait face's phase and whether it
   * is held for the collector; once it has ended, its outcome. Keyed by a symbol (BITS): no user
   * write reaches it.
   */
  declare [BITS]: number;
  /**
   * @internal What the task keeps for its phase: one field, tagged by the phase rather than one
   * field per phase, each read only by the phase's owner. Until its first run (no `iter`): its body
   * (FiberTask.begin). While TaskBits.FaceHanded is set: the wait its face starts (faceOp,
   * src/operations/wait-face.ts). Once Done: what its body returned or threw (`value`). Keyed by a
   * symbol (PENDING), as BITS.
   */
  declare [PENDING]: unknown;
  /**
   * @internal The rarely used state (src/task/extras.ts), made on first use by extras(): a million
   * parked fibers stay small. Read it as `t[EXTRA] !== null && t[EXTRA].field`.
   */
  declare [EXTRA]: TaskExtras<T> | null;

  constructor() {
    // The scheduler's fields, stored here in one fixed order (as named fields' initialisers were,
    // before the core's handle): every task then has one hidden class. (Not initialisers of
    // symbol-keyed fields: TypeScript would read each key from a module variable at every spawn.)
    this[STATE] = RunState.Created;
    this[ITER] = null;
    this[STACK] = null;
    this[RESUME_VALUE] = undefined;
    this[RESUME_THROW] = false;
    this[ATTENTION] = false;
    this[LEVEL] = Level.Default;
    this[WAIT_ON] = null;
    this[TIMER_POS] = 0;
    this[Q_NEXT] = null;
    this[Q_PREV] = null;
    this[BITS] = 0;
    this[PENDING] = null;
    this[EXTRA] = null;
  }
}
