// The runtime's suspension (the collector's stop-the-world): fibers switched out in managed mode
// are held, fibers entering managed code wait, until the runtime resumes or is disabled.

import { RunState, type Task } from "../task/task.js";
import { HOST_E_ABANDONED, INFINITE, S_OK, WAIT_NOTINDEADLOCK } from "../base/hresult.js";
import type { CoreDoor } from "../core/door.js";
import { TaskQueue } from "../kernel/queue.js";
import { BLOCK, type Waitable } from "../kernel/waitable.js";
import { ParkWait } from "../kernel/park.js";
import type { Dispatcher } from "./dispatcher.js";
import type { Waits } from "./waiting.js";

import { STATE as STATE_, WAIT_ON as WAIT_ON_ } from "../task/state.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const STATE: typeof STATE_ = STATE_;
const WAIT_ON: typeof WAIT_ON_ = WAIT_ON_;
export class Suspension {
  /** Fibers waiting to enter managed code until the runtime resumes. */
  private readonly resumeWaiters = new TaskQueue<Task>();
  /** What an enter into managed code waits on while the runtime is suspended. */
  readonly resumeWait: Waitable<Task>;

  constructor(
    private readonly door: CoreDoor,
    private readonly driver: Dispatcher,
    private readonly waits: Waits,
    /** ms an enter into managed code waits for a suspended runtime; INFINITE: no limit. */
    private readonly enterTimeoutMs: number,
    private readonly kick: () => void,
  ) {
    this.resumeWait = new ParkWait<Task>({
      what: "the runtime to resume",
      ready: () => (door.isSuspended() ? BLOCK : S_OK),
      parked: (t) => this.resumeWaiters.push(t),
      left: (t) => this.resumeWaiters.remove(t),
    });
  }

  /** A fiber switched out in managed mode is not resumed while the collector runs: true when held. */
  holdForGC(t: Task): boolean {
    if (this.door.rudeAbortRequested(t) || !this.door.isManaged(t)) return false;
    t[STATE] = RunState.Waiting;
    this.waits.hold(t);
    return true;
  }

  /** The running fiber waits until the runtime resumes (an enter into managed code). */
  waitForResume(t: Task, unlimited: boolean): number {
    const ms = unlimited ? INFINITE : this.enterTimeoutMs;
    return this.waits.block(t, this.resumeWait, ms, WAIT_NOTINDEADLOCK);
  }

  suspend(): number {
    return this.door.suspend(true);
  }

  resume(): number {
    const hr = this.door.suspend(false);
    if (hr === S_OK) this.release(S_OK);
    return hr;
  }

  /** Another thread of a shared runtime resumed it: release what this thread holds. */
  resumedElsewhere(): void {
    if (!this.door.isSuspended()) this.release(S_OK);
  }

  /**
   * The runtime was disabled: fibers waiting to enter it, and fibers waiting on what only the
   * runtime could signal (sync objects, joins, f.waitAny: abandonedOnDisable), are abandoned
   * (HOST_E_ABANDONED); nothing can end those waits any more (contract §4).
   */
  runtimeDisabled(live: Iterable<Task>): void {
    for (const t of [...live]) {
      const w = t[WAIT_ON];
      if (w !== null && w.abandonedOnDisable === true && t[STATE] === RunState.Waiting)
        this.waits.wake(t, HOST_E_ABANDONED);
    }
    this.release(HOST_E_ABANDONED);
  }

  private release(hr: number): void {
    for (let t = this.resumeWaiters.shift(); t; t = this.resumeWaiters.shift()) this.waits.wake(t, hr);
    for (let t = this.waits.takeHeld(); t; t = this.waits.takeHeld()) this.driver.enqueue(t);
    this.kick();
  }
}
