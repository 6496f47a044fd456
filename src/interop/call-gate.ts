// One parked call at a time inside an instance whose stack fiberhost cannot keep per fiber
// (stack 'serial', see stack-finder.ts): other fibers' f.calls into it wait their turn, FIFO.

import type { Task } from "../task/task.js";
import { ABANDON as ABANDON_, type HeldLock } from "../task/extras.js";
import { TaskQueue } from "../kernel/queue.js";
import { BLOCK, type Waitable } from "../kernel/waitable.js";
import type { SchedulerPort } from "../scheduler/port.js";
import { S_OK } from "../base/hresult.js";

import { EXTRA as EXTRA_, EXTRAS as EXTRAS_ } from "../task/state.js";
import {
  DESCRIBE as DESCRIBE_,
  ENQUEUE as ENQUEUE_,
  REMOVE as REMOVE_,
  TRY_ACQUIRE as TRY_ACQUIRE_,
  WAITS_FOR as WAITS_FOR_,
} from "../kernel/waitable.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const EXTRA: typeof EXTRA_ = EXTRA_;
const EXTRAS: typeof EXTRAS_ = EXTRAS_;
const DESCRIBE: typeof DESCRIBE_ = DESCRIBE_;
const ENQUEUE: typeof ENQUEUE_ = ENQUEUE_;
const REMOVE: typeof REMOVE_ = REMOVE_;
const TRY_ACQUIRE: typeof TRY_ACQUIRE_ = TRY_ACQUIRE_;
const WAITS_FOR: typeof WAITS_FOR_ = WAITS_FOR_;
const ABANDON: typeof ABANDON_ = ABANDON_;
/**
 * One parked call at a time inside an instance whose stack fiberhost cannot keep per fiber: an
 * f.call that opens while another call holds the instance waits (a managed wait, FIFO); the call
 * that holds it passes it to the first waiter when it ends. A call takes the instance when it
 * parks, or when it is handed it.
 */
export class CallGate implements Waitable<Task>, HeldLock {
  private owner: Task | null = null;
  private readonly waiters = new TaskQueue<Task>();
  private sched: SchedulerPort | null = null;

  [TRY_ACQUIRE](t: Task): number {
    return this.owner === null || this.owner === t ? S_OK : BLOCK;
  }
  [ENQUEUE](t: Task): void {
    this.waiters.push(t);
  }
  [REMOVE](t: Task): void {
    this.waiters.remove(t);
  }
  [WAITS_FOR](): Task | null {
    return this.owner;
  }
  [DESCRIBE](): string {
    return "a guest instance whose stack holds another fiber's parked call (stack 'serial')";
  }

  /** `t`'s call parked inside the instance: it holds it until it ends. */
  hold(t: Task, sched: SchedulerPort): void {
    this.sched = sched;
    if (this.owner !== t) this.take(t);
  }

  /**
   * The owner is listed with the task's locks, so that a fiber ending without its call ending (a
   * rude abort, ExitTask: its operations never run again) still passes the instance on.
   */
  private take(t: Task): void {
    this.owner = t;
    (t[EXTRAS]().held ??= new Set()).add(this);
  }

  /** `t`'s call ended (returned, threw, abandoned, or never opened): the next waiter gets the instance. */
  release(t: Task): void {
    if (this.owner !== t) return;
    t[EXTRA]?.held?.delete(this);
    this.owner = null;
    const next = this.waiters.shift();
    if (next === null) return;
    this.take(next);
    this.sched!.wake(next, S_OK);
  }

  /** The owner ended (HeldLock): as if its call had. */
  [ABANDON](): void {
    if (this.owner !== null) this.release(this.owner);
  }

  /** Fibers waiting for the instance (for tests and dumps). */
  get waiting(): number {
    return this.waiters.size;
  }
}
