// The run loop: the pump (slices of the driver between turns of the event loop, timers, the
// virtual clock's jumps), run() and runUntilIdle().
//
// On a real clock the host drives itself: whatever makes a fiber ready (a spawn, a wake, an
// abort, a resumed runtime) kicks the loop, and the first kick while no pump is queued or
// running dispatches one (a macrotask: a microtask per wake would starve I/O, and one macrotask
// per batch of wakes costs a wake one flag test). run() then only waits until the host is idle
// and reports. On a virtual clock nothing runs unless run() or runUntilIdle() drives it, so a
// test decides when time moves.

import { HOST_E_INVALIDOPERATION, HResultError } from "../base/hresult.js";
import type { Clock, Dispatch } from "../kernel/clock.js";
import { VirtualClock } from "../kernel/clock.js";
import type { Dispatcher } from "./dispatcher.js";
import type { Waits } from "./waiting.js";

/** Looks at a shared runtime's doorbell per pump (slicesWithSafePoints). */
const SAFE_POINTS = 8;

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
  /** A real clock: the host drives itself (see above). */
  private readonly selfDriving: boolean;
  /**
   * The next kick dispatches a pump: no pump is queued or running, and the host drives itself or
   * a run() waits. The one test a wake pays.
   */
  private parked: boolean;
  /**
   * Called before each slice, where no fiber runs: a thread of a shared runtime looks at its
   * doorbell there (src/threads/thread-link.ts), so that a busy thread answers a suspension or a
   * wake from another thread within a slice, whatever order its engine runs its tasks in.
   */
  safePoint: (() => void) | null = null;
  /**
   * A pump of a thread of a shared runtime: its budget in SAFE_POINTS parts, a look at the
   * doorbell before each, so that a busy thread answers another thread within a part of a slice.
   */
  private slicesWithSafePoints(): boolean {
    const part = Math.max(1, Math.ceil(this.budget / SAFE_POINTS));
    let more = true;
    for (let done = 0; more && done < this.budget; done += part) {
      this.safePoint!();
      more = this.driver.slice(Math.min(part, this.budget - done));
    }
    return more;
  }

  /** Bumped when pumpNow runs the pump that was queued: the queued dispatch then does nothing. */
  private pumpGen = 0;

  /**
   * From a task of its own where no fiber runs (a thread's doorbell, having woken fibers): runs the
   * pump a wake queued now rather than a macrotask later.
   */
  pumpNow(): void {
    if (!this.pumpQueued || this.draining) return;
    this.pumpGen++;
    this.pump();
  }
  /** What a pump met with no run() waiting (its dispatch or clock threw): the next run() rejects with it. */
  private held: { err: unknown } | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly dispatch: Dispatch,
    /** Steps per slice before run() returns to the event loop. */
    private readonly budget: number,
    private readonly driver: Dispatcher,
    private readonly waits: Waits,
  ) {
    this.selfDriving = !clock.virtual;
    this.parked = this.selfDriving;
  }

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
    // A kick meanwhile dispatches nothing: this call runs what becomes ready.
    const parked = this.parked;
    this.parked = false;
    this.draining = true;
    try {
      for (;;) {
        do this.safePoint?.();
        while (this.driver.slice(Infinity));
        if (this.waits.fireTimers()) continue;
        if (!this.jumpClock()) break;
      }
    } finally {
      this.draining = false;
      this.parked = parked;
    }
    // No pump queued: the timer it left (or the run it left waiting) is out of date.
    if (parked) this.idle();
  }

  /**
   * Settles when no fiber can make progress (on a real clock the host drives itself meanwhile
   * as it always does; on a virtual clock this drives it). Concurrent calls share one promise.
   */
  run(): Promise<void> {
    this.assertNotInFiber("run");
    let run = this.runPromise;
    if (!run) {
      run = this.runPromise = new Promise((resolve, reject) => {
        this.settleRun = resolve;
        this.failRun = reject;
      });
      const held = this.held;
      if (held !== null) {
        this.held = null;
        this.failRunWith(held.err);
      } else {
        this.schedulePump(); // (a dispatch that throws rejects `run` at once)
      }
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

  /**
   * Something became ready: on a host that drives itself, or while run() waits for a timer or a
   * promise, a pump is dispatched unless one is queued or running (a slice runs what it readies).
   */
  kick(): void {
    if (this.parked) this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpQueued) return;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.pumpQueued = true;
    this.parked = false;
    try {
      const gen = this.pumpGen;
      this.dispatch(() => {
        if (gen === this.pumpGen) this.pump(); // (else pumpNow ran it)
      });
    } catch (err) {
      // The user's dispatch threw: this run() ends with its error (or the next one does, when
      // none waits); the next kick or run() dispatches again.
      this.pumpQueued = false;
      this.failRunWith(err);
    }
  }

  /**
   * run() rejects with `err` (its dispatch or clock threw, a precondition failed), or the next
   * run() does when none waits; the host stays usable: the next kick pumps again.
   */
  private failRunWith(err: unknown): void {
    const fail = this.failRun;
    this.runPromise = null;
    this.settleRun = null;
    this.failRun = null;
    this.parked = this.selfDriving;
    if (fail !== null) fail(err);
    else this.held ??= { err };
  }

  private pump(): void {
    this.pumpQueued = false;
    this.draining = true;
    let more: boolean;
    try {
      more = this.safePoint === null ? this.driver.slice(this.budget) : this.slicesWithSafePoints();
      if (!more) more = this.waits.fireTimers() || this.jumpClock();
    } catch (err) {
      // The scheduler's own preconditions, and the clock (a fiber's errors end that fiber).
      this.failRunWith(err);
      return;
    } finally {
      this.draining = false;
    }
    if (more) return this.schedulePump();
    this.idle();
  }

  /**
   * No fiber is ready: wait for the next timer, or a promise; or settle the run. A timer is set
   * only for a deadline (a fiber's sleep or timeout keeps a Node process alive as a setTimeout
   * would); fibers blocked with nothing due leave nothing scheduled, so they hold no process.
   */
  private idle(): void {
    this.parked = this.selfDriving || this.runPromise !== null;
    if (this.timer !== null) {
      clearTimeout(this.timer); // (runUntilIdle's: the deadlines may have changed)
      this.timer = null;
    }
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
    const settle = this.settleRun;
    if (settle === null) return;
    this.runPromise = null;
    this.settleRun = null;
    this.failRun = null;
    this.parked = this.selfDriving;
    settle();
  }
}
