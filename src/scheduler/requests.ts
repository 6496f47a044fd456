// What other code asks of a fiber, delivered at its safe points: abort and rude abort, alert,
// ExitTask, YieldTask, Reset, and a manual SwitchIn / SwitchOut. The one home of abort delivery:
// the request goes to the core (which holds it, and decides when a delay region lets it through),
// and is thrown into the fiber here, at a safe point, or into its wait.

import { Outcome, RunState, type Task } from "../task/task.js";
import { HOST_E_INTERRUPTED, HOST_E_INVALIDOPERATION, S_OK } from "../base/hresult.js";
import { Level } from "../base/args.js";
import { TaskAbortError } from "../base/errors.js";
import type { CoreDoor } from "../core/door.js";
import { SafePoint } from "./port.js";
import type { Dispatcher } from "./dispatcher.js";
import type { Waits } from "./waiting.js";
import type { Lifecycle } from "./lifecycle.js";

import {
  ATTENTION as ATTENTION_,
  EXTRA as EXTRA_,
  EXTRAS as EXTRAS_,
  ITER as ITER_,
  LEVEL as LEVEL_,
  STATE as STATE_,
  WAIT_ON as WAIT_ON_,
} from "../task/state.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const ATTENTION: typeof ATTENTION_ = ATTENTION_;
const EXTRA: typeof EXTRA_ = EXTRA_;
const EXTRAS: typeof EXTRAS_ = EXTRAS_;
const ITER: typeof ITER_ = ITER_;
const LEVEL: typeof LEVEL_ = LEVEL_;
const STATE: typeof STATE_ = STATE_;
const WAIT_ON: typeof WAIT_ON_ = WAIT_ON_;
/** Times a delivered abort is thrown again before it is escalated to a rude abort (see reraiseLimited). */
export const RERAISE_LIMIT = 10_000;

export class Requests {
  constructor(
    private readonly door: CoreDoor,
    private readonly driver: Dispatcher,
    private readonly waits: Waits,
    private readonly life: Lifecycle,
    private readonly kick: () => void,
  ) {}

  /**
   * At a safe point (a yield, a wait, a transition): a pending rude abort or exit ends the fiber;
   * a deliverable abort is thrown (the caller throws takeAbort); a yield request is honoured. An
   * abort delivered and not reset is deliverable again (the core keeps it, env.ts's rules): the
   * fiber's attention stays set, so each of its safe points asks.
   */
  checkpoint(t: Task): SafePoint {
    t[ATTENTION] = false;
    if ((t[EXTRA] !== null && t[EXTRA].exitRequested) || this.door.rudeAbortRequested(t)) return SafePoint.End;
    if (this.door.abortPending(t)) {
      t[ATTENTION] = true; // thrown now and again later, or held back by a region: look again
      if (this.door.abortDeliverable(t)) return this.reraiseLimited(t);
    }
    return this.door.takeYieldRequest(t) ? SafePoint.Yield : SafePoint.None;
  }

  /**
   * A deliverable abort is thrown (SafePoint.Abort), unless the fiber has caught it and gone on
   * RERAISE_LIMIT times: a loop that catches everything would otherwise spin in one step for good,
   * holding up the host. It is then escalated to a rude abort (as a CLR host's escalation policy
   * turns a thread abort that does not finish into a rude one): the fiber ends at once.
   */
  private reraiseLimited(t: Task): SafePoint {
    const x = t[EXTRA];
    if (x === null || x.unwinding === undefined || ++x.reraised <= RERAISE_LIMIT) return SafePoint.Abort;
    this.door.abort(t, true);
    return SafePoint.End;
  }

  /**
   * The abort to throw into the fiber: made once, when its request is delivered; the same error
   * each time it is raised again, until resetAbort.
   */
  takeAbort(t: Task): TaskAbortError {
    const x = t[EXTRAS]();
    if (x.unwinding !== undefined) return x.unwinding as TaskAbortError;
    this.door.abortDelivered(t);
    const err = new TaskAbortError(t.name, false, x.abortReason, x.abortWhy);
    x.unwinding = err;
    return err;
  }

  /**
   * f.resetAbort (Thread.ResetAbort's analogue): the running fiber ends the abort delivered to it
   * and goes on; a later abort is a new one (its own reason). The core answers
   * HOST_E_INVALIDOPERATION when no abort is being delivered to it.
   */
  resetAbort(t: Task): number {
    const hr = this.door.resetAbort(t);
    if (hr !== S_OK) return hr;
    const x = t[EXTRAS]();
    x.unwinding = x.abortReason = x.abortWhy = undefined;
    x.reraised = 0;
    return S_OK;
  }

  /** A fiber's first run, and a pending rude abort or exit, are handled before it resumes. */
  beforeResume(t: Task): void {
    if (t[EXTRA] !== null && t[EXTRA].family !== null && t[EXTRA].family.ending !== null)
      return this.life.endAfterChildren(t);
    const sp = t[ATTENTION] ? this.checkpoint(t) : SafePoint.None;
    if (sp === SafePoint.End) return this.life.end(t);
    if (sp === SafePoint.Yield) return this.driver.enqueue(t); // asked to yield: it does, before it runs
    if (t[ITER]) {
      // A resumed fiber gets its abort at its next operation, so no wake result is lost.
      if (sp === SafePoint.Abort) t[ATTENTION] = true;
      return;
    }
    // Aborted before it ever ran: the body does not run.
    if (sp === SafePoint.Abort) return this.life.finish(t, Outcome.Threw, this.takeAbort(t));
    this.life.firstRun(t);
  }

  alert(t: Task): number {
    const hr = this.door.check(t);
    if (hr !== S_OK) return hr;
    if (t[WAIT_ON] !== null && t.waitAlertable) {
      this.waits.wake(t, HOST_E_INTERRUPTED);
      return S_OK;
    }
    return this.door.alert(t);
  }

  /** `why`: what structured concurrency aborts it for (family.ts), said by its TaskAbortError's message. */
  abort(t: Task, rude: boolean, reason?: unknown, why?: string): number {
    // This fiber's own abort already on its way into it, or delivered and not reset, is the one
    // asked for: aborts coalesce. (Only its own: a TaskAbortError of another fiber, from an
    // f.await of its result, does not stand for this one.) A fiber whose body has ended and
    // waits for its children to unwind has nothing left to abort.
    const x0 = t[EXTRA];
    if (x0 !== null && ((!rude && (x0.abortInFlight || x0.unwinding !== undefined)) || x0.family?.ending != null))
      return this.door.check(t);
    const hr = this.door.abort(t, rude); // the core holds the request (and whether it is rude)
    if (hr !== S_OK) return hr;
    // The first abort's reason is the one its TaskAbortError gives (a later one is not a second abort).
    if (
      (reason !== undefined || why !== undefined) &&
      t[EXTRA]?.abortReason === undefined &&
      t[EXTRA]?.abortWhy === undefined
    ) {
      const x = t[EXTRAS]();
      x.abortReason = reason;
      x.abortWhy = why;
    }
    t[ATTENTION] = true;
    if (t[STATE] === RunState.Waiting) {
      if (rude) this.waits.wake(t, undefined);
      else this.deliverToWaiter(t);
    }
    this.kick();
    return S_OK;
  }

  /** An abort held back by a region is delivered to a waiting fiber once the region closes. */
  endAbortRegion(t: Task, close: () => number): number {
    const hr = close();
    if (hr === S_OK && t[STATE] === RunState.Waiting && this.door.abortPending(t)) this.deliverToWaiter(t);
    return hr;
  }

  private deliverToWaiter(t: Task): void {
    if (t[WAIT_ON] === null || !this.door.abortDeliverable(t)) return; // held for the collector: later
    this.waits.wake(t, this.takeAbort(t), true);
    t[EXTRAS]().abortInFlight = true; // until the driver throws it in
  }

  yieldTask(t: Task): number {
    const hr = this.door.yieldTask(t);
    if (hr === S_OK) t[ATTENTION] = true;
    return hr;
  }

  /**
   * ExitTask. The running fiber asking for its own exit ends at its next safe point, without
   * running its handlers; until then it stays switched in, so its transitions stay its own. Any
   * other task (a task switched in by hand, the root task) is the core's to decide.
   */
  exitTask(t: Task): number {
    if (t !== this.driver.running) {
      const hr = this.door.exitTask(t);
      if (hr === S_OK) {
        this.driver.unqueue(t); // (its slot is free: the ready rings hold slot indices)
        this.life.finish(t, Outcome.Returned, undefined); // a task switched in by hand
      }
      return hr;
    }
    const hr = this.door.check(t);
    if (hr === S_OK) {
      t[EXTRAS]().exitRequested = true;
      t[ATTENTION] = true;
    }
    return hr;
  }

  /**
   * ICLRTask::SwitchIn/SwitchOut by hand, for tasks the scheduler does not drive: a created task
   * may be switched in; a task switched in by hand may be switched out (also once started).
   */
  manualSwitch(t: Task, on: boolean): number {
    const driven = on ? t[STATE] !== RunState.Created && !t.done : t === this.driver.running;
    if (!driven) return on ? this.door.switchIn(t) : this.door.switchOut(t);
    return this.door.available() || HOST_E_INVALIDOPERATION; // a rule, not an argument check: the core first
  }

  /** ICLRTask::Reset: the core resets a created task (its requests too); the host forgets its own. */
  reset(t: Task, full: boolean): number {
    const hr = this.door.reset(t, full);
    if (hr === S_OK) {
      if (t[EXTRA] !== null) t[EXTRA].exitRequested = false;
      t[ATTENTION] = false;
      if (full) t[LEVEL] = Level.Default;
    }
    return hr;
  }
}
