// What a fiber waits on besides the sync objects: a promise (f.await), a timer (f.sleep), another
// task's end (f.join).

import type { Task } from "../task.js";
import type { SchedulerPort } from "../scheduler/port.js";
import { Cmd } from "../scheduler/op.js";
import { Op } from "./op.js";
import { BLOCK, type Waitable } from "../scheduler/waitable.js";
import { TaskQueue } from "../scheduler/queue.js";
import { HResultError, INFINITE, S_OK } from "../hresult.js";
import { safePoint } from "./env.js";

/** The wait behind f.await: parks the fiber until the promise settles. */
export class AwaitOp<T> extends Op<T> implements Waitable<Task> {
  private waiting = false;
  private parked = false;
  constructor(
    t: Task,
    private readonly sched: SchedulerPort,
    private readonly promise: PromiseLike<T> | T,
  ) {
    super(t);
  }
  next(v?: unknown): IteratorResult<T, T> {
    this.own();
    if (this.parked) return this.result(v as T);
    const sp = safePoint(this.sched, this.t);
    if (sp) return this.command(sp);
    const hr = this.sched.block(this.t, this, INFINITE, 0);
    if (hr !== BLOCK) throw new HResultError(hr, `f.await in fiber ${this.t.name} could not wait`);
    this.parked = true;
    return this.command(Cmd.Park);
  }
  tryAcquire(): number {
    return BLOCK; // a settled promise still answers in a later microtask
  }
  enqueue(t: Task): void {
    this.waiting = true;
    this.sched.awaiting(+1);
    const settle = (value: unknown, isThrow: boolean) => {
      if (this.waiting) this.sched.wake(t, value, isThrow);
    };
    // Adopted by a promise of our own: the user's value (a thenable whose then throws or never
    // calls back, a promise with a then or constructor of its own) is only ever called from a
    // promise job, where what it throws rejects this wait, never the scheduler.
    new Promise<unknown>((resolve) => resolve(this.promise)).then(
      (value) => settle(value, false),
      (err) => settle(err, true),
    );
  }
  remove(): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.sched.awaiting(-1);
  }
  waitsFor(): null {
    return null;
  }
  describe(): string {
    return "a promise";
  }
}

export class SleepWait implements Waitable<Task> {
  static readonly instance = new SleepWait();
  /** A sleep that runs its time answers S_OK. */
  readonly timeoutResult = S_OK;
  tryAcquire(): number {
    return BLOCK;
  }
  enqueue(): void {}
  remove(): void {}
  waitsFor(): null {
    return null;
  }
  describe(): string {
    return "a timer (sleep)";
  }
}

/** Waiting for another task to end (IHostTask::Join). */
export class JoinWait implements Waitable<Task> {
  constructor(private readonly target: Task) {}
  tryAcquire(): number {
    return this.target.done ? S_OK : BLOCK;
  }
  enqueue(t: Task): void {
    (this.target.extras().joiners ??= new TaskQueue<Task>()).push(t);
  }
  remove(t: Task): void {
    this.target.x?.joiners?.remove(t);
  }
  waitsFor(): Task {
    return this.target;
  }
  describe(): string {
    return `task ${this.target.id} (${this.target.name}) to end`;
  }
}
