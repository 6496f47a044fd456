// Which fiber runs now, across every host: what an operation checks before it acts.

import type { Task } from "../task/task.js";
import { E_INVALIDARG, HResultError } from "../base/hresult.js";

/**
 * The scheduler whose slice runs now, across every host (null: none), and through it the fiber
 * whose body runs now: its `running`. An operation acts for the task whose context made it, so it
 * checks that this is that task: an operation yielded by another fiber (or by a fiber of another
 * host driven from inside this one) would otherwise act on a task that is not running. One object
 * for every host, like PENDING, set per slice (a slice of a host driven from inside another host's
 * fiber sets it and gives it back): a store per step would cost a switch ~6 ns (a write barrier).
 */
export const DRIVING: { sched: { readonly running: Task | null } | null } = { sched: null };

/** The fiber whose body runs now, of any host; null outside every fiber. */
export function currentFiber(): Task | null {
  const s = DRIVING.sched;
  return s === null ? null : s.running;
}

/**
 * An operation made from `owner`'s context (its `f`) and driven by another fiber, or outside any
 * fiber. Refused rather than run for the fiber that yields it: the operation was made for its
 * owner (its waits, scopes and safe points are the owner's), and moving it silently would hide
 * the mistake that passed it (usually a nested body that captured its parent's `f`).
 */
export function foreignOperation(owner: Task): HResultError {
  const by = currentFiber();
  return new HResultError(
    E_INVALIDARG,
    `an operation of fiber ${owner.name}'s context (its f) was used ${by === null ? "outside any fiber" : `by fiber ${by.name}`}: ` +
      "a fiber uses only the f its own body received",
  );
}
