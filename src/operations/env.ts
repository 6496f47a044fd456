// What the operations share: the host services they use (one way: operation → scheduler / core),
// and the safe point every operation passes before it acts.

import type { Task, TaskEnv, TaskScheduling } from "../task/task.js";
import { SafePoint, type SchedulerPort } from "../scheduler/port.js";
import { Cmd } from "../kernel/commands.js";
import type { Waitable } from "../kernel/waitable.js";
import type { Op } from "./operation.js";
import { MUST_WAIT_FOR_RESUME } from "../core/door.js";
import type { Transition } from "../core/generated/layout.js";

import { ATTENTION as ATTENTION_ } from "../task/state.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const ATTENTION: typeof ATTENTION_ = ATTENTION_;
/**
 * What a fiber's context and its operations need from their host (the one-way flow: context →
 * scheduler / core). It is also its tasks' TaskEnv.
 */
export interface FiberEnv extends TaskEnv {
  /** @internal */
  readonly sched: SchedulerPort & TaskScheduling;
  /** IHostTaskManager::CallNeedsHostHook, asked once per target. */
  needsHostHook(target: number): boolean;
  isOwnTask(t: unknown): t is Task;
  isSyncObject(o: unknown): o is Waitable<Task> & { kind: string };
  /** f.call: an operation calling a guest's export (made by src/interop/, a layer above this one). */
  // biome-ignore lint/suspicious/noExplicitAny: the export's result type is the caller's (f.call<R>)
  callExport(t: Task, fn: unknown, args: unknown[]): Op<any>;
  /** f.spawn: a fiber started as a child of `parent` (made by the host, a layer above). Throws HResultError. */
  spawnChild(parent: Task, body: unknown, options: unknown): Task;
  /** The host's debug core: operations made and never yielded are reported. */
  readonly debug: boolean;
}

/*
 * Abort and unwinding, the rules every operation keeps (written here once):
 * - An abort is delivered at a safe point only: every operation passes safePoint before it acts,
 *   which throws a deliverable abort into the fiber (the core holds one back while a delay region is open: requests.ts).
 * - An abort sticks (as the CLR re-raises a ThreadAbortException at the end of each catch): once
 *   delivered, the core keeps it deliverable, and every later safe point outside a delay region
 *   throws the same TaskAbortError again (t.unwinding), until f.resetAbort ends it. The fiber's end
 *   is then that abort whatever its body did: a return ends it aborted; another error thrown
 *   ends it aborted too, kept as the abort's `suppressed` (lifecycle.ts's finish). A fiber that
 *   is not aborted pays nothing: its `attention` is clear, and only an attention runs the rule.
 *   Thrown again RERAISE_LIMIT times (a loop that catches everything), it is escalated to a rude
 *   abort (requests.ts), so that no fiber spins in one step for good.
 * - f.delayAbort(body) runs body in a delay region that nests (the core's prevent-async-abort
 *   count): its operations neither deliver a requested abort nor raise a delivered one; the first
 *   safe point after the outermost region closes does. An abort still held back when the body
 *   ends was never delivered: the fiber ends as its body did. Rude aborts run no handlers and
 *   are not held.
 * - Thrown into a fiber that waits, an abort ends the wait: the wait's remove() takes the fiber out
 *   (an f.await's signal aborts with the abort as its reason), the operation's throw() runs.
 * - A transition an operation makes while the abort unwinds the fiber (unwindsAbort) waits for a
 *   suspended runtime's resume without a time limit, so that the fiber's frames are closed
 *   (transitionOrWait's `unlimited`); what the body threw is thrown on once the frame closes.
 */

/** True when an operation's body ended by throwing the fiber's own abort (the fiber unwinds). */
export function unwindsAbort(t: Task, threw: boolean, value: unknown): boolean {
  return threw && value === t.unwinding;
}

/**
 * Runs a safe point for an operation about to act: throws a deliverable abort into the fiber, or
 * answers the command the operation must hand the scheduler first (Yield, End), or 0.
 */
/** @internal */
export function safePoint(sched: SchedulerPort, t: Task): Cmd | 0 {
  if (!t[ATTENTION]) return 0;
  switch (sched.checkpoint(t)) {
    case SafePoint.Abort:
      throw sched.takeAbort(t);
    case SafePoint.Yield:
      return Cmd.Yield;
    case SafePoint.End:
      return Cmd.End;
    default:
      return 0;
  }
}

/**
 * @internal An operation's transition for its fiber `t` (the running one): "transition, or wait
 * for the runtime's resume, then park", written once for f.managed / f.unmanaged, the raw
 * transitions and f.call. Answers the transition's HRESULT; or, when it must wait for a suspended
 * runtime to resume (MUST_WAIT_FOR_RESUME), what that wait answers at once (HOST_E_TIMEOUT for a
 * zero limit, a disabled runtime's HRESULT), or BLOCK: the fiber now waits for the resume, and the
 * operation parks it (Cmd.Park) and, woken with S_OK, makes the transition again (woken with
 * another HRESULT: the wait failed). `unlimited`: no time limit (an enter made while an abort
 * unwinds the fiber waits as long as it takes, so that its frames are closed).
 */
export function transitionOrWait(env: FiberEnv, t: Task, op: Transition, target: number, unlimited = false): number {
  const hr = env.door.transition(op, target);
  return hr === MUST_WAIT_FOR_RESUME ? env.sched.waitForResume(t, unlimited) : hr;
}
