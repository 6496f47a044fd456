// The run loop: run() and runUntilIdle(), slices of the driver between turns of the event loop,
// timers, and the virtual clock's jumps.

import { HOST_E_INVALIDOPERATION, HResultError } from "../base/hresult.js";
import type { Clock, Dispatch } from "../kernel/clock.js";
import { VirtualClock } from "../kernel/clock.js";
import type { Dispatcher } from "./dispatcher.js";
import type { Waits } from "./waiting.js";

/** The longest delay setTimeout honours (a signed 32-bit count of ms). */
const MAX_TIMEOUT_DELAY = 0x7fffffff;

export class RunLoop {
  private pendingAwaits = 0;
  // run(): one promise per run, settled when no fiber can make progress.
  private runPromise: Promise<void> | null = null;
  private settleRun: (() => void) | null = null;
  private failRun: ((err: unknown) => void) | null = null;
  private pumpQueued = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private draining = false;

  constructor(
    private readonly clock: Clock,
    private readonly dispatch: Dispatch,
    /** Steps per slice before run() returns to the event loop. */
    private readonly budget: number,
    private readonly driver: Dispatcher,
    private readonly waits: Waits,
  ) {}

  /** An f.await began (pending) or ended. The virtual clock does not jump while one is pending. */
  awaiting(delta: number): void {
    this.pendingAwaits += delta;
  }

  /** With a virtual clock and nothing else to do: jump to the next timer. */
  private jumpClock(): boolean {
    const clock = this.clock;
    if (!(clock instanceof VirtualClock) || this.pendingAwaits > 0) return false;
    const next = this.waits.nextDeadline();
    if (next === Infinity) return false;
    clock.advanceTo(next);
    return this.waits.fireTimers();
  }

  /** Runs until no fiber can make progress without real time passing or a promise settling. */
  runUntilIdle(): void {
    this.assertNotInFiber("runUntilIdle");
    this.draining = true;
    try {
      for (;;) {
        while (this.driver.slice(Infinity));
        if (this.waits.fireTimers()) continue;
        if (!this.jumpClock()) break;
      }
    } finally {
      this.draining = false;
    }
  }

  run(): Promise<void> {
    this.assertNotInFiber("run");
    let run = this.runPromise;
    if (!run) {
      run = this.runPromise = new Promise((resolve, reject) => {
        this.settleRun = resolve;
        this.failRun = reject;
      });
      this.schedulePump(); // (a dispatch that throws rejects `run` at once)
    }
    return run;
  }

  private assertNotInFiber(what: string): void {
    if (this.driver.running !== null || this.draining) {
      throw new HResultError(
        HOST_E_INVALIDOPERATION,
        `${what}() was called from inside a fiber or a run; call it from the root task`,
      );
    }
  }

  /** Something became ready while run() waits for a timer or a promise: run again soon. */
  kick(): void {
    if (this.runPromise && this.driver.running === null && !this.draining) this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpQueued) return;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.pumpQueued = true;
    try {
      this.dispatch(() => this.pump());
    } catch (err) {
      // The user's dispatch threw: this run() ends with its error; the next run() dispatches again.
      this.pumpQueued = false;
      this.failRunWith(err);
    }
  }

  /** run() rejects with `err` (its dispatch or clock threw, a precondition failed); the host stays usable. */
  private failRunWith(err: unknown): void {
    const fail = this.failRun;
    this.runPromise = null;
    this.settleRun = null;
    this.failRun = null;
    fail?.(err);
  }

  private pump(): void {
    this.pumpQueued = false;
    this.draining = true;
    let more: boolean;
    try {
      more = this.driver.slice(this.budget);
      if (!more) more = this.waits.fireTimers() || this.jumpClock();
    } catch (err) {
      // The scheduler's own preconditions, and the clock (a fiber's errors end that fiber).
      this.failRunWith(err);
      return;
    } finally {
      this.draining = false;
    }
    if (more) return this.schedulePump();
    const next = this.waits.nextDeadline();
    if (next !== Infinity && !this.clock.virtual) {
      let now: number;
      try {
        now = this.clock.now();
      } catch (err) {
        return this.failRunWith(err);
      }
      // setTimeout clamps a delay above 2^31−1 ms to 1 ms: a longer wait is chained (the
      // pump finds nothing due and sets the next link).
      const delay = Math.min(MAX_TIMEOUT_DELAY, Math.max(0, next - now));
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedulePump();
      }, delay);
      return;
    }
    if (this.pendingAwaits > 0) return; // the promise's settlement kicks us
    // Nothing can make progress: settle (fibers still blocked stay in host.dump()).
    const settle = this.settleRun!;
    this.runPromise = null;
    this.settleRun = null;
    settle();
  }
}
