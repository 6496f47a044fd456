// The shape every parking wait shares: a safe point first, then the wait itself (an answer at
// once, or BLOCK: the fiber parks), then, once woken, the answer to the HRESULT it was woken with.

import type { SchedulerPort } from "../scheduler/port.js";
import { Cmd } from "../kernel/commands.js";
import { BLOCK } from "../kernel/waitable.js";
import { Op } from "./operation.js";
import { safePoint, type FiberEnv } from "./env.js";

import { ENV as ENV_ } from "../task/state.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const ENV: typeof ENV_ = ENV_;
export abstract class BlockingOp<R> extends Op<R> {
  private parked = false;

  /** Starts the wait: its HRESULT when it is decided at once, or BLOCK when the fiber now waits. */
  protected abstract block(sched: SchedulerPort): number;

  /** What the operation answers for the wait's HRESULT (decided at once, or the one it woke with). */
  protected abstract answer(hr: number): IteratorResult<R, R>;

  /** An error thrown into the fiber while it waits (an abort) ended the wait: a later run waits again. */
  throw(err: unknown): IteratorResult<R, R> {
    this.parked = false;
    throw err;
  }

  next(v?: unknown): IteratorResult<R, R> {
    this.own();
    if (this.parked) {
      this.parked = false;
      return this.answer(v as number);
    }
    // The task's own scheduler, not a field: a parked fiber holds this operation.
    const sched = (this.t[ENV] as FiberEnv).sched;
    const sp = safePoint(sched, this.t);
    if (sp) return this.command(sp);
    const hr = this.block(sched);
    if (hr !== BLOCK) return this.answer(hr);
    this.parked = true;
    return this.command(Cmd.Park);
  }
}
