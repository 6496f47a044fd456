// Waits: a fiber blocking on a Waitable, with its timeout on the timer heap, deadlock detection
// over the chain of waits, and its wake-up.

import { RunState, type Task, TaskBits } from "../task.js";
import { TaskQueue } from "./queue.js";
import {
  E_INVALIDARG,
  HOST_E_DEADLOCK,
  HOST_E_INTERRUPTED,
  HOST_E_TIMEOUT,
  INFINITE,
  S_OK,
  WAIT_ALERTABLE,
  WAIT_NOTINDEADLOCK,
} from "../hresult.js";
import { isTimeout, isWaitOption } from "../args.js";
import type { CoreDoor } from "../core/door.js";
import { TimerHeap } from "./timers.js";
import type { Clock } from "./clock.js";
import { BLOCK, type Waitable } from "./waitable.js";
import type { Driver } from "./driver.js";

/** Where waits and wakes are recorded (the host's trace recorder). */
export interface WaitTrace {
  on: boolean;
  wait(t: Task): void;
  wake(t: Task): void;
}

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
    private readonly driver: Driver,
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
    const now = w.tryAcquire(t);
    if (now !== BLOCK) return now;
    if (ms === 0) return timeoutResult;
    if ((option & WAIT_NOTINDEADLOCK) === 0 && this.waitsOnItself(t, w)) return HOST_E_DEADLOCK;
    // The clock is read before anything changes: one that throws leaves no half-made wait (its
    // error is thrown into this fiber).
    const deadline = ms === INFINITE ? 0 : this.clock.now() + ms;
    w.enqueue(t);
    t.waitOn = w;
    t.waitAlertable = alertable;
    t.state = RunState.Waiting;
    if (ms !== INFINITE) this.timers.add(t, deadline);
    if (this.trace.on) this.trace.wait(t);
    return BLOCK;
  }

  /** Would `t` waiting on `w` close a cycle of waits (Crst owners, joined tasks)? */
  private waitsOnItself(t: Task, w: Waitable<Task>): boolean {
    let x = w.waitsFor();
    for (let hops = 0; x !== null && hops <= this.driver.live; hops++) {
      if (x === t) return true;
      x = x.waitOn ? x.waitOn.waitsFor() : null;
    }
    return false;
  }

  /** Ends `t`'s wait: it resumes with `value` (an HRESULT, or a promise's value), or has it thrown. */
  wake(t: Task, value: unknown, isThrow = false): void {
    this.cancel(t);
    t.resumeValue = value;
    t.resumeThrow = isThrow;
    if (this.trace.on) this.trace.wake(t);
    this.driver.enqueue(t);
    this.kick();
  }

  /** Takes `t` out of whatever it waits on (its wait object, a queue, its timer). */
  cancel(t: Task): void {
    if (t.waitOn) {
      t.waitOn.remove(t);
      t.waitOn = null;
    }
    t.waitAlertable = false;
    if ((t.bits & TaskBits.Held) !== 0) this.unhold(t);
    if (t.timerPos) this.timers.cancel(t);
  }

  /** Holds `t` for the collector (Suspension). */
  hold(t: Task): void {
    t.bits |= TaskBits.Held;
    this.held.push(t);
  }

  /** The held fiber that was held first, out of the held queue (null: none). */
  takeHeld(): Task | null {
    const t = this.held.shift();
    if (t !== null) t.bits &= ~TaskBits.Held;
    return t;
  }

  private unhold(t: Task): void {
    t.bits &= ~TaskBits.Held;
    this.held.remove(t);
  }

  /** Wakes every fiber whose timer is due; true when one was. */
  fireTimers(): boolean {
    const now = this.clock.now();
    let any = false;
    for (let t = this.timers.popDue(now); t; t = this.timers.popDue(now)) {
      // (What its wait object answers when it times out: read here rather than kept per task.)
      const w = t.waitOn;
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
