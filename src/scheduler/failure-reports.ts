// A fiber's failure that nothing observed, reported as Node reports an unhandled rejection: not
// at the fiber's end, but once the code that could still look at it has had its turn. While a
// run() is pending its caller cannot look yet (`await host.run(); await t.result` is the README's
// own pattern), so a failure waits for the run to settle; then for a macrotask, so that every
// microtask after the settle (the caller's continuation) runs first. With no run() pending (a
// runUntilIdle() user, a host that drives itself), that macrotask follows the failure.

import type { Task } from "../task/task.js";

import { EXTRA as EXTRA_ } from "../task/state.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const EXTRA: typeof EXTRA_ = EXTRA_;
/** A fiber's failure that nothing observed (the host's onError, by default a console error). */
export type FailureReport = (err: unknown, t: Task) => void;

/** The pending list is swept of observed failures when it grows to this, then to twice what is left. */
const FIRST_SWEEP = 64;

export class FailureReports {
  /** Failures unobserved when their fiber ended, in the order they ended. */
  private pending: { t: Task; err: unknown }[] = [];
  /** run()s pending: reports wait for them to settle. */
  private holds = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private sweepAt = FIRST_SWEEP;

  constructor(private readonly report: FailureReport) {}

  /** @internal Failures held (tests check that observed ones are let go). */
  get size(): number {
    return this.pending.length;
  }

  /** `t` ended with `err` and nothing has observed it yet. */
  add(t: Task, err: unknown): void {
    if (this.pending.length >= this.sweepAt) {
      // A long run keeps failures back: those observed since (task.result, a join) are let go
      // now, not at its end, so that the list holds only what may still be reported.
      this.pending = this.pending.filter((p) => !observed(p.t));
      this.sweepAt = Math.max(FIRST_SWEEP, 2 * this.pending.length);
    }
    this.pending.push({ t, err });
    this.arm();
  }

  /** A run() began: reports wait until it settles (call the answer then, once). */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      // Armed afresh from the settle, not by a timer set before the run: a browser clamps a
      // timer by the nesting of the task that set it, so one set earlier can fire after a
      // setTimeout(0) of the code awaiting run(); set now, it fires first.
      if (this.holds === 0 && this.timer !== null) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      this.arm();
    };
  }

  private arm(): void {
    if (this.holds > 0 || this.timer !== null || this.pending.length === 0) return;
    // A macrotask: the microtasks queued before it, whatever they await, run first.
    this.timer = setTimeout(() => this.flush(), 0);
  }

  private flush(): void {
    this.timer = null;
    if (this.holds > 0) return; // a run() began since: its settle arms the next check
    const list = this.pending;
    this.pending = [];
    this.sweepAt = FIRST_SWEEP;
    for (const { t, err } of list) {
      if (observed(t)) continue;
      try {
        this.report(err, t);
      } catch (e) {
        console.error("fiberhost: the host's onError threw", e);
      }
    }
  }
}

function observed(t: Task): boolean {
  return t[EXTRA] !== null && t[EXTRA].observed;
}
