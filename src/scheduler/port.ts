// What the operations (src/operations/, src/interop/) ask the scheduler: a small port, so that an
// operation reaches the waits and the safe points and nothing else of the scheduler.

import type { Task } from "../task/task.js";
import type { TaskAbortError } from "../base/errors.js";
import type { Waitable } from "../kernel/waitable.js";

/** What a safe point found (see SchedulerPort.checkpoint). */
export const enum SafePoint {
  None,
  Abort,
  Yield,
  End,
}

export interface SchedulerPort {
  /**
   * Starts a wait of the running fiber `t` on `w`: an HRESULT when it is decided at once, or BLOCK
   * when the fiber now waits (the operation then parks it).
   */
  block(t: Task, w: Waitable<Task>, ms: number, option: number): number;
  /** Ends `t`'s wait: it resumes with `value` (an HRESULT, or a promise's value), or has it thrown. */
  wake(t: Task, value: unknown, isThrow?: boolean): void;
  /** The running fiber waits until the runtime resumes (an enter into managed code). */
  waitForResume(t: Task, unlimited: boolean): number;
  /** An f.await (or a guest's promise) began (+1) or ended (−1): run() does not settle meanwhile. */
  awaiting(delta: number): void;
  /**
   * At a safe point (a yield, a wait, a transition): a pending rude abort or exit ends the fiber;
   * a deliverable abort is thrown (the caller throws takeAbort); a yield request is honoured.
   */
  checkpoint(t: Task): SafePoint;
  /** The abort to throw into the fiber: made once, thrown again at each later safe point until reset. */
  takeAbort(t: Task): TaskAbortError;
  /** f.resetAbort: ends the abort delivered to the running fiber `t` (S_OK, HOST_E_INVALIDOPERATION). */
  resetAbort(t: Task): number;
}
