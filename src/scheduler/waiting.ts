// Waits: a fiber blocking on a Waitable, with its timeout on the timer heap, deadlock detection
// over the chain of waits, and its wake-up.

import { BITS as BITS_, RunState, type Task, TaskBits, setWaitAlertable } from "../task/task.js";
import { TaskQueue } from "../kernel/queue.js";
import {
  E_INVALIDARG,
  HOST_E_DEADLOCK,
  HOST_E_INTERRUPTED,
  HOST_E_TIMEOUT,
  INFINITE,
  S_OK,
  WAIT_ALERTABLE,
  WAIT_NOTINDEADLOCK,
} from "../base/hresult.js";
import { isTimeout, isWaitOption } from "../base/args.js";
import type { CoreDoor } from "../core/door.js";
import { TimerHeap } from "../kernel/timers.js";
import type { Clock } from "../kernel/clock.js";
import { BLOCK, type Waitable } from "../kernel/waitable.js";
import type { Dispatcher } from "./dispatcher.js";

import {
  RESUME_THROW as RESUME_THROW_,
  RESUME_VALUE as RESUME_VALUE_,
  STATE as STATE_,
  WAIT_ON as WAIT_ON_,
} from "../task/state.js";
import { TIMER_POS as TIMER_POS_ } from "../kernel/timers.js";
import {
  ENQUEUE as ENQUEUE_,
  REMOVE as REMOVE_,
  TRY_ACQUIRE as TRY_ACQUIRE_,
  WAITS_FOR as WAITS_FOR_,
  WAITS_FOR_MANY as WAITS_FOR_MANY_,
} from "../kernel/waitable.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const BITS: typeof BITS_ = BITS_;
const RESUME_THROW: typeof RESUME_THROW_ = RESUME_THROW_;
const RESUME_VALUE: typeof RESUME_VALUE_ = RESUME_VALUE_;
const STATE: typeof STATE_ = STATE_;
const WAIT_ON: typeof WAIT_ON_ = WAIT_ON_;
const TIMER_POS: typeof TIMER_POS_ = TIMER_POS_;
const ENQUEUE: typeof ENQUEUE_ = ENQUEUE_;
const REMOVE: typeof REMOVE_ = REMOVE_;
const TRY_ACQUIRE: typeof TRY_ACQUIRE_ = TRY_ACQUIRE_;
const WAITS_FOR: typeof WAITS_FOR_ = WAITS_FOR_;
const WAITS_FOR_MANY: typeof WAITS_FOR_MANY_ = WAITS_FOR_MANY_;
/** Where waits and wakes are recorded (the host's trace recorder). */
export interface WaitTrace {
  on: boolean;
  wait(t: Task): void;
  wake(t: Task): void;
}

/** The most tasks a deadlock search through f.waitAny and a parent's children looks at. */
const MAX_SEARCH = 10_000;

export class Waits {
  private readonly timers = new TimerHeap<Task>();
  /**
   * Fibers switched out in managed mode, held while the runtime is suspended (Suspension fills
   * and empties it): here, so that a held fiber's wait can be cancelled like any other.
   */
  readonly held = new TaskQueue<Task>();

  constructor(
    private readonly door: CoreDoor,
    private readonly clock: Clock,
    private readonly driver: Dispatcher,
    private readonly trace: WaitTrace,
    /** Something became ready: the run loop runs again soon. */
    private readonly kick: () => void,
  ) {}

  /**
   * Starts a wait of the running fiber `t` on `w`: an HRESULT when it is decided at once, or BLOCK
   * when the fiber now waits (the operation then parks it).
   */
  block(t: Task, w: Waitable<Task>, ms: number, option: number): number {
    const timeoutResult = w.timeoutResult ?? HOST_E_TIMEOUT;
    const hr = this.door.available();
    if (hr !== S_OK) return hr;
    if (!isTimeout(ms) || !isWaitOption(option)) return E_INVALIDARG;
    const alertable = (option & WAIT_ALERTABLE) !== 0;
    if (alertable && this.door.takeAlert(t)) return HOST_E_INTERRUPTED;
    const now = w[TRY_ACQUIRE](t);
    if (now !== BLOCK) return now;
    if (ms === 0) return timeoutResult;
    if ((option & WAIT_NOTINDEADLOCK) === 0 && this.waitsOnItself(t, w)) return HOST_E_DEADLOCK;
    // The clock is read before anything changes: one that throws leaves no half-made wait (its
    // error is thrown into this fiber).
    const deadline = ms === INFINITE ? 0 : this.clock.now() + ms;
    w[ENQUEUE](t);
    t[WAIT_ON] = w;
    setWaitAlertable(t, alertable);
    t[STATE] = RunState.Waiting;
    if (ms !== INFINITE) this.timers.add(t, deadline);
    if (this.trace.on) this.trace.wait(t);
    return BLOCK;
  }

  /**
   * Would `t` waiting on `w` close a cycle of waits (Crst owners, joined tasks, f.waitAny objects,
   * a parent's children)? A chain of single waits is followed without allocating; a wait on
   * several tasks (waitsForMany) is searched: an f.waitAny is on the cycle only when every one of
   * its objects leads back to `t`, a parent waiting for its children when one of them does.
   */
  private waitsOnItself(t: Task, w: Waitable<Task>): boolean {
    let wait: Waitable<Task> | null = w;
    for (let hops = 0; wait !== null && hops <= this.driver.live; hops++) {
      const x = wait[WAITS_FOR]();
      if (x === null) return wait[WAITS_FOR_MANY] !== undefined && this.closesCycle(t, wait);
      if (x === t) return true;
      wait = x[WAIT_ON];
    }
    return false;
  }

  /**
   * The search of waitsOnItself once a wait on several tasks is met. The tasks reachable from `w`
   * through waits are collected; each is taken to be blocked for good (`t` is, if it waits on
   * `w`), then any whose wait could still end is let go, until nothing changes: what stays
   * blocked is blocked by waits on each other alone. `t` deadlocks when `w` stays blocked and
   * leads back to `t`: a cycle of others that `t` only waits on is reported by run() instead
   * (onDeadlock), as a chain of single waits is. At most MAX_SEARCH tasks are looked at (beyond
   * that: no deadlock found here).
   */
  private closesCycle(t: Task, w: Waitable<Task>): boolean {
    const blocked = new Map<Task, boolean>([[t, true]]);
    const order: Task[] = [];
    let reached = false;
    const visit = (x: Task | null): void => {
      if (x === t) reached = true;
      if (x === null || blocked.has(x)) return;
      blocked.set(x, x[WAIT_ON] !== null);
      if (x[WAIT_ON] !== null) order.push(x);
    };
    const targets = (v: Waitable<Task>): (Task | null)[] => {
      const one = v[WAITS_FOR]();
      if (one !== null) return [one];
      return v[WAITS_FOR_MANY]?.()?.tasks ?? [];
    };
    for (const x of targets(w)) visit(x);
    for (let i = 0; i < order.length; i++) {
      if (order.length > MAX_SEARCH) return false;
      for (const x of targets(order[i][WAIT_ON]!)) visit(x);
    }
    if (!reached) return false; // nothing leads back to t
    const stays = (v: Waitable<Task>): boolean => {
      const one = v[WAITS_FOR]();
      if (one !== null) return blocked.get(one) === true;
      const many = v[WAITS_FOR_MANY]?.();
      if (!many || many.tasks.length === 0) return false;
      return many.any
        ? many.tasks.every((x) => x !== null && blocked.get(x) === true)
        : many.tasks.some((x) => x !== null && blocked.get(x) === true);
    };
    for (let changed = true; changed; ) {
      changed = false;
      for (const x of order) {
        if (blocked.get(x) === true && !stays(x[WAIT_ON]!)) {
          blocked.set(x, false);
          changed = true;
        }
      }
    }
    return stays(w);
  }

  /** Ends `t`'s wait: it resumes with `value` (an HRESULT, or a promise's value), or has it thrown. */
  wake(t: Task, value: unknown, isThrow = false, first = false): void {
    this.cancel(t);
    t[RESUME_VALUE] = value;
    t[RESUME_THROW] = isThrow;
    if (this.trace.on) this.trace.wake(t);
    if (first) this.driver.enqueueFirst(t);
    else this.driver.enqueue(t);
    this.kick();
  }

  /** Takes `t` out of whatever it waits on (its wait object, a queue, its timer). */
  cancel(t: Task): void {
    if (t[WAIT_ON]) {
      t[WAIT_ON][REMOVE](t);
      t[WAIT_ON] = null;
    }
    setWaitAlertable(t, false);
    if ((t[BITS] & TaskBits.Held) !== 0) this.unhold(t);
    // (Once the task has ended, the field holds its final counters: src/task/state.ts's FINAL_COUNTS.)
    if (t[TIMER_POS] !== 0 && t[STATE] !== RunState.Done) this.timers.cancel(t);
  }

  /** Holds `t` for the collector (Suspension). */
  hold(t: Task): void {
    t[BITS] |= TaskBits.Held;
    this.held.push(t);
  }

  /** The held fiber that was held first, out of the held queue (null: none). */
  takeHeld(): Task | null {
    const t = this.held.shift();
    if (t !== null) t[BITS] &= ~TaskBits.Held;
    return t;
  }

  private unhold(t: Task): void {
    t[BITS] &= ~TaskBits.Held;
    this.held.remove(t);
  }

  /** Wakes every fiber whose timer is due; true when one was. */
  fireTimers(): boolean {
    const now = this.clock.now();
    let any = false;
    for (let t = this.timers.popDue(now); t; t = this.timers.popDue(now)) {
      // (What its wait object answers when it times out: read here rather than kept per task.)
      const w = t[WAIT_ON];
      this.wake(t, w === null || w.timeoutResult === undefined ? HOST_E_TIMEOUT : w.timeoutResult);
      any = true;
    }
    return any;
  }

  /** The earliest deadline on the timer heap (Infinity: none). */
  nextDeadline(): number {
    return this.timers.next();
  }

  /** Entries in the timer heap: the live timed waits. */
  get timerCount(): number {
    return this.timers.size;
  }
}
