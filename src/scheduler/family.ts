// Structured concurrency: a fiber's f.spawn children belong to it. When its body ends (returns,
// throws, is aborted) its children still running are aborted, and its end waits until they have
// unwound; a child's unobserved failure aborts the parent, whose failure it then is. Fibers started
// with host.spawn have no parent: all of this costs them one field check when they end.

import { Outcome, RunState, type Task } from "../task/task.js";
import { isInstance, readSafely } from "../base/errors.js";
import { describeValue } from "../base/describe.js";
import { ParkWait } from "../kernel/park.js";
import { FamilyLinks } from "../task/extras.js";

import {
  EXTRA as EXTRA_,
  EXTRAS as EXTRAS_,
  ITER as ITER_,
  STACK as STACK_,
  STATE as STATE_,
  WAIT_ON as WAIT_ON_,
} from "../task/state.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const EXTRA: typeof EXTRA_ = EXTRA_;
const EXTRAS: typeof EXTRAS_ = EXTRAS_;
const ITER: typeof ITER_ = ITER_;
const STACK: typeof STACK_ = STACK_;
const STATE: typeof STATE_ = STATE_;
const WAIT_ON: typeof WAIT_ON_ = WAIT_ON_;
/** What a parent waits on while its children unwind (woken by the last child's end). */
function childrenWait(parent: Task): ParkWait<Task> {
  return new ParkWait<Task>({
    what: () => {
      const n = parent[EXTRA]?.family?.count ?? 0;
      return `its ${n} child fiber${n === 1 ? "" : "s"} to unwind`;
    },
    // The parent waits for every child: it is on a cycle when one of them is.
    many: () => ({ any: false, tasks: childrenOf(parent) }),
  });
}

/** What the family needs of the rest of the scheduler. */
export interface FamilyEnv {
  /** `why`: what the abort's message says it is for ("parent ended"); `reason` is its cause. */
  abort(t: Task, rude: boolean, reason?: unknown, why?: string): number;
  /** The parent's children have all ended: it is stepped again to finish. */
  wake(t: Task): void;
  /** Takes `t` out of whatever it waits on. */
  cancel(t: Task): void;
  rudeAbortRequested(t: Task): boolean;
}

/**
 * A failure nobody looked at: `failed` (it threw, and not an abort: whoever aborted knows, as
 * classifyThrown answered when it ended), and no result asked for or join.
 */
export function unobservedFailure(t: Task, failed: boolean): boolean {
  return failed && !(t[EXTRA] !== null && t[EXTRA].observed);
}

export class Family {
  constructor(private readonly env: FamilyEnv) {}

  adopt(parent: Task, child: Task): void {
    const p = links(parent);
    const c = child[EXTRAS]();
    c.parent = parent;
    c.prevSibling = p.last;
    if (p.last === null) p.first = child;
    else p.last[EXTRA]!.nextSibling = child;
    p.last = child;
    p.count++;
  }

  /** True when a fiber has children still running (its end must wait for them). */
  hasChildren(f: FamilyLinks<Task>): boolean {
    return f.count > 0;
  }

  /** `t`'s body ended with its children still running: they are aborted, and `t` waits for them. */
  waitForChildren(t: Task, outcome: Outcome, value: unknown): void {
    const x = links(t);
    x.ending = { threw: outcome === Outcome.Threw, value };
    this.env.cancel(t);
    t[ITER] = t[STACK] = null;
    t[WAIT_ON] = childrenWait(t);
    t[STATE] = RunState.Waiting;
    const rude = this.env.rudeAbortRequested(t);
    const { why, cause } = this.whyChildrenEnd(t, outcome, value, rude);
    for (const c of childrenOf(t)) this.env.abort(c, rude, cause, why);
  }

  /**
   * What `t`'s children are told when its end aborts them: a sibling's failure that ended it (with
   * that error as the cause), its own abort (with its reason), its own error, or just its end.
   */
  private whyChildrenEnd(t: Task, outcome: Outcome, value: unknown, rude: boolean): { why: string; cause: unknown } {
    const x = t[EXTRA]!;
    const fam = x.family!;
    if (fam.failedChild !== undefined) return { why: `sibling ${fam.failedChild} failed`, cause: fam.childFailure };
    if (rude || x.unwinding !== undefined || x.abortReason !== undefined || x.abortWhy !== undefined) {
      const reason = x.abortWhy ?? (x.abortReason === undefined ? undefined : reasonText(x.abortReason));
      return { why: reason === undefined ? "parent aborted" : `parent aborted: ${reason}`, cause: x.abortReason };
    }
    if (outcome === Outcome.Threw) return { why: "parent failed", cause: value };
    return { why: "parent ended", cause: undefined };
  }

  /** How `t` ends once its children have: the outcome its body had (or a child's failure since). */
  takeEnding(t: Task): { outcome: Outcome; value: unknown } {
    const x = links(t);
    const e = x.ending!;
    x.ending = null;
    t[WAIT_ON] = null;
    return { outcome: e.threw ? Outcome.Threw : Outcome.Returned, value: e.value };
  }

  /**
   * The error a parent ends with, given the abort it threw: a child's failure that aborted it,
   * rather than the abort itself (`abort` itself otherwise). Its cause is read guarded: a fiber
   * may rethrow a Proxy of its abort.
   */
  parentError(t: Task, abort: unknown): unknown {
    const failure = t[EXTRA]?.family?.childFailure;
    if (failure !== undefined && readSafely(abort, "cause") === failure) return failure;
    return abort;
  }

  /**
   * A child ended (`threw`: with an error that is not an abort): its parent forgets it, and fails
   * with its error when nobody observed it. True when the failure, if any, went to the parent (it
   * is then not reported).
   */
  childEnded(child: Task, threw: boolean, value: unknown): boolean {
    const c = child[EXTRA]!; // (a child has extras: adopt made them)
    const parent = c.parent!;
    const px = links(parent);
    // Out of its parent's list of children (spawn order kept).
    if (c.prevSibling === null) px.first = c.nextSibling;
    else c.prevSibling[EXTRA]!.nextSibling = c.nextSibling;
    if (c.nextSibling === null) px.last = c.prevSibling;
    else c.nextSibling[EXTRA]!.prevSibling = c.prevSibling;
    c.parent = c.prevSibling = c.nextSibling = null;
    px.count--;
    const failed = unobservedFailure(child, threw);
    if (px.ending !== null) {
      if (failed && !px.ending.threw) px.ending = { threw: true, value };
      if (px.count === 0) this.env.wake(parent);
      return failed ? px.ending.value === value : true;
    }
    if (!failed) return true;
    if (px.childFailure !== undefined || parent.done) return false;
    px.childFailure = value;
    px.failedChild = child.name;
    this.env.abort(parent, false, value, `child ${child.name} failed`);
    return true;
  }
}

/**
 * An abort's reason as a message shows it: a string as it is, an error by its message, anything
 * else described (never by calling its own toString: the reason is the user's value).
 */
function reasonText(reason: unknown): string {
  if (typeof reason === "string") return reason.length > 80 ? `${reason.slice(0, 80)}…` : reason;
  if (isInstance(reason, Error)) {
    const message = readSafely(reason, "message");
    if (typeof message === "string" && message !== "") return reasonText(message);
  }
  return describeValue(reason);
}

/** `t`'s children that have not ended, in spawn order (a copy: aborting one may end it). */
function childrenOf(t: Task): Task[] {
  const out: Task[] = [];
  const f = t[EXTRA]?.family;
  for (let c = f == null ? null : f.first; c !== null; c = c[EXTRA]!.nextSibling) out.push(c);
  return out;
}

/** A fiber's family links, made on first use. */
function links(t: Task): FamilyLinks<Task> {
  const x = t[EXTRAS]();
  return (x.family ??= new FamilyLinks<Task>());
}
