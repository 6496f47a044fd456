// One parked call at a time inside an instance whose stack fiberhost cannot keep per fiber
// (stack 'serial', see stack-finder.ts): other fibers' f.calls into it wait their turn, FIFO.

import type { Task } from "../task/task.js";
import type { HeldLock } from "../task/extras.js";
import { TaskQueue } from "../kernel/queue.js";
import { BLOCK, type Waitable } from "../kernel/waitable.js";
import type { SchedulerPort } from "../scheduler/port.js";
import { S_OK } from "../base/hresult.js";

import { EXTRA, EXTRAS } from "../task/state.js";
import { DESCRIBE, ENQUEUE, REMOVE, TRY_ACQUIRE, WAITS_FOR } from "../kernel/waitable.js";
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
  abandon(): void {
    if (this.owner !== null) this.release(this.owner);
  }

  /** Fibers waiting for the instance (for tests and dumps). */
  get waiting(): number {
    return this.waiters.size;
  }
}
