// The park-only wait: a fiber waits on it until whoever parked it wakes it (a timer, a promise, a
// guest, its children, the runtime's resume), or its timeout, an alert or an abort ends the wait.
// One kind for every such wait (a sleep, a parent waiting for its children, a fiber parked inside
// a guest or an external call, an enter waiting for the runtime to resume), told apart only by
// what it says: describe() for dumps and inspection, waitsForMany() for deadlock detection.

import { HOST_E_TIMEOUT } from "../base/hresult.js";
import { BLOCK, type Waitable } from "./waitable.js";

import {
  DESCRIBE as DESCRIBE_,
  ENQUEUE as ENQUEUE_,
  REMOVE as REMOVE_,
  TRY_ACQUIRE as TRY_ACQUIRE_,
  WAITS_FOR as WAITS_FOR_,
  WAITS_FOR_MANY as WAITS_FOR_MANY_,
} from "./waitable.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const DESCRIBE: typeof DESCRIBE_ = DESCRIBE_;
const ENQUEUE: typeof ENQUEUE_ = ENQUEUE_;
const REMOVE: typeof REMOVE_ = REMOVE_;
const TRY_ACQUIRE: typeof TRY_ACQUIRE_ = TRY_ACQUIRE_;
const WAITS_FOR: typeof WAITS_FOR_ = WAITS_FOR_;
const WAITS_FOR_MANY: typeof WAITS_FOR_MANY_ = WAITS_FOR_MANY_;
/** What a ParkWait says and does beyond parking; every member optional but `what`. */
export interface ParkSpec<T> {
  /** For dumps: what the fiber waits for (a function when it changes, a parent's child count). */
  readonly what: string | (() => string);
  /** For deadlock detection: the tasks it waits for (see Waitable.waitsForMany). */
  readonly many?: () => { any: boolean; tasks: (T | null)[] } | null;
  /** The wait is over before it starts (S_OK), or not (BLOCK): the resume of a runtime not suspended. */
  readonly ready?: () => number;
  /** A fiber parks on it (its waker keeps the fiber, or counts it). */
  readonly parked?: (t: T) => void;
  /** A fiber leaves it (woken, timed out, alerted, aborted); called also when `t` is not parked. */
  readonly left?: (t: T) => void;
  /** What it answers when its time runs out (HOST_E_TIMEOUT; a sleep: S_OK). */
  readonly timeoutResult?: number;
}

export class ParkWait<T = unknown> implements Waitable<T> {
  readonly timeoutResult: number;
  /**
   * For deadlock detection: a field, undefined unless the spec gives it, so that a wait on no task
   * (a sleep) is not searched (the scheduler searches only waits that have it).
   */
  readonly [WAITS_FOR_MANY]: (() => { any: boolean; tasks: (T | null)[] } | null) | undefined;
  private readonly spec: ParkSpec<T>;

  constructor(spec: ParkSpec<T>) {
    this.spec = spec;
    this.timeoutResult = spec.timeoutResult ?? HOST_E_TIMEOUT;
    this[WAITS_FOR_MANY] = spec.many;
  }

  [TRY_ACQUIRE](): number {
    const ready = this.spec.ready;
    return ready === undefined ? BLOCK : ready();
  }
  [ENQUEUE](t: T): void {
    this.spec.parked?.(t);
  }
  [REMOVE](t: T): void {
    this.spec.left?.(t);
  }
  [WAITS_FOR](): null {
    return null;
  }
  [DESCRIBE](): string {
    const what = this.spec.what;
    return typeof what === "string" ? what : what();
  }
}
