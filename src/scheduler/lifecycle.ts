// A fiber's life in the scheduler: started (IHostTask::Start), run for the first time, ended.

import { Outcome, RunState, type Task, settleTask } from "../task/task.js";
import { ABANDON as ABANDON_, settleResult } from "../task/extras.js";
import { E_INVALIDARG, HResultError, S_OK } from "../base/hresult.js";
import { PRIORITY_LEVELS } from "../base/args.js";
import { TaskAbortError, attachFiberInfo, classifyThrown } from "../base/errors.js";
import type { CoreDoor } from "../core/door.js";
import { bodyResultError, isIterator } from "../kernel/commands.js";
import type { Dispatcher } from "./dispatcher.js";
import type { Waits } from "./waiting.js";
import { type Family, unobservedFailure } from "./family.js";
import type { FailureReport } from "./failure-reports.js";

import {
  BEGIN as BEGIN_,
  DROP_BODY as DROP_BODY_,
  EXTRA as EXTRA_,
  EXTRAS as EXTRAS_,
  FINAL_COUNTS as FINAL_COUNTS_,
  ITER as ITER_,
  STACK as STACK_,
  STATE as STATE_,
} from "../task/state.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const BEGIN: typeof BEGIN_ = BEGIN_;
const DROP_BODY: typeof DROP_BODY_ = DROP_BODY_;
const EXTRA: typeof EXTRA_ = EXTRA_;
const EXTRAS: typeof EXTRAS_ = EXTRAS_;
const FINAL_COUNTS: typeof FINAL_COUNTS_ = FINAL_COUNTS_;
const ITER: typeof ITER_ = ITER_;
const STACK: typeof STACK_ = STACK_;
const STATE: typeof STATE_ = STATE_;
const ABANDON: typeof ABANDON_ = ABANDON_;
/** How bodyResultError names a fiber's body (its message begins with it). */
const BODY = "the body";

export class Lifecycle {
  constructor(
    private readonly door: CoreDoor,
    private readonly driver: Dispatcher,
    private readonly waits: Waits,
    /** The host forgets an ended task (its slot in the host's table). */
    private readonly forget: (t: Task) => void,
    private readonly kick: () => void,
    private readonly family: Family,
    /** A failure unobserved at its fiber's end: FailureReports decides later whether it still is. */
    private readonly report: FailureReport,
  ) {}

  /** Fibers that ended: returned, or threw (aborted ones included). run()'s report reads them. */
  returned = 0;
  threw = 0;

  /** A parent whose children have all unwound ends now, as its body did. */
  endAfterChildren(t: Task): void {
    const { outcome, value } = this.family.takeEnding(t);
    this.finish(t, outcome, value);
  }

  startTask(t: Task): number {
    // A spawn's fiber comes started from the core (CreateTask and Start were one call there).
    const hr = t[STATE] === RunState.Created && this.door.startedInCore(t) ? S_OK : this.door.start(t);
    if (hr !== S_OK) return hr;
    this.driver.live++; // finish() counts it out
    this.driver.enqueue(t);
    this.kick();
    return S_OK;
  }

  setPriority(t: Task, priority: number): number {
    const hr = this.door.setPriority(t, priority);
    if (hr !== S_OK) return hr;
    this.driver.moveToLevel(t, PRIORITY_LEVELS.indexOf(priority));
    return S_OK;
  }

  /** The body's first call: the fiber now has an iterator to drive, or has ended. */
  firstRun(t: Task): void {
    let first: unknown;
    let iterates: boolean;
    try {
      first = t[BEGIN]();
      // What the call gave is user code too (a Proxy, a getter): asked inside the fence. (The
      // fiber's name goes into the message only when there is one: no string per fiber.)
      const wrong = bodyResultError(first, BODY);
      if (wrong !== null) throw new HResultError(E_INVALIDARG, `${BODY} of fiber ${t.name}${wrong.slice(BODY.length)}`);
      iterates = isIterator(first);
    } catch (err) {
      return this.finish(t, Outcome.Threw, err);
    }
    if (iterates) t[ITER] = first as Iterator<unknown>;
    else this.finish(t, Outcome.Returned, first);
  }

  /** Ends a fiber without running its handlers (rude abort, ExitTask). */
  end(t: Task): void {
    if (this.door.rudeAbortRequested(t)) {
      const err = new TaskAbortError(t.name, true, t[EXTRA]?.abortReason, t[EXTRA]?.abortWhy);
      this.finish(t, Outcome.Threw, err);
    } else {
      this.finish(t, Outcome.Returned, undefined);
    }
  }

  finish(t: Task, outcome: Outcome, value: unknown): void {
    if (t[STATE] === RunState.Done) return;
    const x = t[EXTRA];
    // An abort delivered and not reset is the fiber's end, whatever its body returned or threw
    // (env.ts's rules); a rude abort and an ExitTask end it as they do.
    if (x !== null && x.unwinding !== undefined && value !== x.unwinding && !x.exitRequested) {
      if (!this.door.rudeAbortRequested(t)) {
        const abort = x.unwinding as TaskAbortError;
        if (outcome === Outcome.Threw) Reflect.set(abort, "suppressed", value); // (a frozen one keeps none)
        outcome = Outcome.Threw;
        value = abort;
      }
    }
    if (x !== null && x.family !== null && this.family.hasChildren(x.family)) {
      return this.family.waitForChildren(t, outcome, value);
    }
    const started = t[STATE] !== RunState.Created;
    this.waits.cancel(t);
    // The fiber is switched in (step did it): ExitTask clears its frames, counts open reverse
    // enters and frees its slot, which still holds the counters until it is reused.
    // (Out of the ready rings first, if it is queued: they hold slot indices, and the slot is
    // freed here. Tested here, so that a fiber ending in its own step pays two compares.)
    if (t[STATE] === RunState.Ready || t[STATE] === RunState.Resumable) this.driver.unqueue(t);
    if (this.door.isLive(t)) this.door.exitTask(t);
    const packed = this.door.packCounters(t);
    t[FINAL_COUNTS] = packed + 1; // (0: not packed; the field held its timer's position, 0 by now)
    // A fiber without extras (most: nothing asked for its result, named it, joined it, aborted it
    // or gave it children) ends without allocating: its counters fit the packed form or go there.
    if (packed < 0 || x !== null || outcome === Outcome.Threw) return this.finishWithExtras(t, outcome, value, started);
    this.markDone(t, outcome, value, started);
    this.returned++;
    this.forget(t);
  }

  /** The task is done: its outcome kept, its body and iterators let go, no longer a live fiber. */
  private markDone(t: Task, outcome: Outcome, value: unknown, started: boolean): void {
    t[STATE] = RunState.Done;
    settleTask(t, outcome, value);
    t[ITER] = t[STACK] = null;
    t[DROP_BODY]();
    if (started) this.driver.live--;
  }

  /** finish() for a fiber whose end has more to do: its extras (joiners, result, locks, family…) or an error. */
  private finishWithExtras(t: Task, outcome: Outcome, value: unknown, started: boolean): void {
    const x = t[EXTRAS]();
    if (t[FINAL_COUNTS] === 0) x.finalCounters = this.door.counters(t);
    // A failure: it threw, and not an abort (classifyThrown asked once: whatever the fiber threw,
    // a revoked Proxy too, its end goes on from here and the answer does not change on the way).
    let failed = false;
    if (outcome === Outcome.Threw) {
      if (classifyThrown(value) !== "abort") failed = true;
      else {
        const failure = this.family.parentError(t, value);
        failed = failure !== value;
        value = failure;
      }
      attachFiberInfo(value, {
        id: t.id,
        name: t.name,
        spawnSite: x.spawnSite,
        frames: (x.errorOf === value ? x.errorFrames : null) ?? [],
      });
    }
    if (x.held) for (const crst of x.held) crst[ABANDON]();
    x.held = null;
    this.markDone(t, outcome, value, started);
    if (outcome === Outcome.Threw) this.threw++;
    else this.returned++;
    if (x.joiners) {
      if (x.joiners.size > 0) x.observed = true;
      for (let j = x.joiners.shift(); j; j = x.joiners.shift()) this.waits.wake(j, S_OK);
    }
    settleResult(x, t);
    const onEnd = x.onEnd;
    if (onEnd !== null) {
      x.onEnd = null;
      try {
        onEnd();
      } catch {
        // (Only spawn's signal listener removal: a broken signal must not stop the host.)
      }
    }
    if (x.endWatchers !== null) for (const w of [...x.endWatchers]) w.fire();
    this.forget(t);
    const handled = x.parent !== null ? this.family.childEnded(t, failed, value) : false;
    if (!handled && unobservedFailure(t, failed)) this.report(value, t);
  }
}
