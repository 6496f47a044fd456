// The cooperative scheduler, assembled from its parts (one job each): the dispatcher (the hot
// path: ready levels, the switch) and its interpreter (a fiber's iterators), waits and their timers, a fiber's life,
// requests (abort, alert, exit, yield, reset), the runtime's suspension, and the run loop. This
// class wires them and is what the rest of the host sees: tasks through TaskScheduling,
// operations through SchedulerPort.

import type { Outcome, Task, TaskScheduling } from "../task/task.js";
import type { TaskAbortError } from "../base/errors.js";
import type { CoreDoor } from "../core/door.js";
import type { Clock, Dispatch } from "../kernel/clock.js";
import type { Waitable } from "../kernel/waitable.js";
import type { SafePoint, SchedulerPort } from "./port.js";
import { Dispatcher, type DispatchHooks } from "./dispatcher.js";
import { Waits, type WaitTrace } from "./waiting.js";
import { Lifecycle } from "./lifecycle.js";
import { FailureReports, type FailureReport } from "./failure-reports.js";
import { Family } from "./family.js";
import { Suspension } from "./suspension.js";
import { Requests } from "./requests.js";
import { RunLoop } from "./run-loop.js";

export { SafePoint, type SchedulerPort } from "./port.js";

export interface SchedulerOptions {
  clock: Clock;
  dispatch: Dispatch;
  /** Steps per slice before run() returns to the event loop. */
  budget: number;
  /** ms an enter into managed code waits for a suspended runtime; INFINITE: no limit. */
  enterTimeoutMs: number;
  /** The host forgets an ended task (one way: the scheduler never imports the host). */
  forget: (t: Task) => void;
  trace: WaitTrace;
  /** A fiber's failure nothing observed (once a pending run() has settled: src/scheduler/failure-reports.ts). */
  onError: FailureReport;
}

export class Scheduler implements TaskScheduling, SchedulerPort, DispatchHooks {
  readonly clock: Clock;
  private readonly driver: Dispatcher;
  private readonly waits: Waits;
  private readonly life: Lifecycle;
  private readonly suspension: Suspension;
  private readonly requests: Requests;
  private readonly loop: RunLoop;
  private readonly family: Family;
  private readonly reports: FailureReports;
  /** The run() whose pending holds reports back (run() answers one promise until it settles). */
  private heldRun: Promise<void> | null = null;

  constructor(door: CoreDoor, opts: SchedulerOptions) {
    this.clock = opts.clock;
    const kick = (): void => this.loop.kick();
    this.driver = new Dispatcher(door, this);
    this.waits = new Waits(door, opts.clock, this.driver, opts.trace, kick);
    this.family = new Family({
      abort: (t, rude, reason, why) => this.requests.abort(t, rude, reason, why),
      wake: (t) => this.waits.wake(t, undefined),
      cancel: (t) => this.waits.cancel(t),
      rudeAbortRequested: (t) => door.rudeAbortRequested(t),
    });
    const reports = (this.reports = new FailureReports(opts.onError));
    this.life = new Lifecycle(door, this.driver, this.waits, opts.forget, kick, this.family, (err, t) =>
      reports.add(t, err),
    );
    this.suspension = new Suspension(door, this.driver, this.waits, opts.enterTimeoutMs, kick);
    this.requests = new Requests(door, this.driver, this.waits, this.life, kick);
    this.loop = new RunLoop(opts.clock, opts.dispatch, opts.budget, this.driver, this.waits);
  }

  /** The fiber being driven, or null when the root task runs. */
  get running(): Task | null {
    return this.driver.running;
  }

  /** `child` belongs to `parent` (f.spawn): it ends before its parent does. */
  adopt(parent: Task, child: Task): void {
    this.family.adopt(parent, child);
  }

  /** Fibers that ended so far, by how: run()'s report is the difference over a run. */
  get ended(): { returned: number; threw: number } {
    return { returned: this.life.returned, threw: this.life.threw };
  }

  /** @internal Entries in the timer heap: the live timed waits (tests check it stays so). */
  get timerCount(): number {
    return this.waits.timerCount;
  }

  // --- DispatchHooks: the driver's rare paths ------------------------------------------------------

  holdForGC(t: Task): boolean {
    return this.suspension.holdForGC(t);
  }
  beforeResume(t: Task): void {
    this.requests.beforeResume(t);
  }
  finish(t: Task, outcome: Outcome, value: unknown): void {
    this.life.finish(t, outcome, value);
  }
  end(t: Task): void {
    this.life.end(t);
  }

  // --- SchedulerPort: what operations ask -----------------------------------------------------

  block(t: Task, w: Waitable<Task>, ms: number, option: number): number {
    return this.waits.block(t, w, ms, option);
  }
  wake(t: Task, value: unknown, isThrow = false): void {
    this.waits.wake(t, value, isThrow);
  }
  /**
   * A wake that runs first, before the fibers ready already (a boost, as Windows gives a thread
   * its wait released): a fiber a shared object or a join lets go, from another thread's set or
   * exit, would otherwise wait behind every ready fiber of a busy thread.
   */
  wakeFirst(t: Task, value: unknown): void {
    this.waits.wake(t, value, false, true);
  }
  waitForResume(t: Task, unlimited: boolean): number {
    return this.suspension.waitForResume(t, unlimited);
  }
  awaiting(delta: number): void {
    this.loop.awaiting(delta);
  }
  checkpoint(t: Task): SafePoint {
    return this.requests.checkpoint(t);
  }
  takeAbort(t: Task): TaskAbortError {
    return this.requests.takeAbort(t);
  }
  resetAbort(t: Task): number {
    return this.requests.resetAbort(t);
  }

  // --- TaskScheduling: IHostTask / ICLRTask calls that involve scheduling --------------------------

  startTask(t: Task): number {
    return this.life.startTask(t);
  }
  setPriority(t: Task, priority: number): number {
    return this.life.setPriority(t, priority);
  }
  alert(t: Task): number {
    return this.requests.alert(t);
  }
  abort(t: Task, rude: boolean, reason?: unknown): number {
    return this.requests.abort(t, rude, reason);
  }
  endAbortRegion(t: Task, close: () => number): number {
    return this.requests.endAbortRegion(t, close);
  }
  yieldTask(t: Task): number {
    return this.requests.yieldTask(t);
  }
  exitTask(t: Task): number {
    return this.requests.exitTask(t);
  }
  manualSwitch(t: Task, on: boolean): number {
    return this.requests.manualSwitch(t, on);
  }
  reset(t: Task, full: boolean): number {
    return this.requests.reset(t, full);
  }

  // --- the host's: the runtime's suspension and running ------------------------------------------

  suspendRuntime(): number {
    return this.suspension.suspend();
  }
  resumeRuntime(): number {
    return this.suspension.resume();
  }
  /** Called before each slice, where no fiber runs (a thread of a shared runtime looks at its doorbell). */
  set safePoint(fn: (() => void) | null) {
    this.loop.safePoint = fn;
  }
  /** From a task of its own (a thread's doorbell): runs the pump a wake queued now. */
  pumpNow(): void {
    this.loop.pumpNow();
  }
  /** Another thread resumed the shared runtime: the fibers held here go. */
  resumedElsewhere(): void {
    this.suspension.resumedElsewhere();
  }
  /** The runtime was disabled: fibers waiting to enter it, or on its objects and joins, are abandoned. */
  runtimeDisabled(live: Iterable<Task>): void {
    this.suspension.runtimeDisabled(live);
  }
  /** Settles when no fiber can make progress. Failures nothing observed are reported after it settles. */
  run(): Promise<void> {
    const run = this.loop.run();
    if (run !== this.heldRun) {
      this.heldRun = run;
      const release = this.reports.hold();
      run.then(release, release); // (rejected too: a dispatch that threw ends the run)
    }
    return run;
  }
  /** Runs until no fiber can make progress without real time passing or a promise settling. */
  runUntilIdle(): void {
    this.loop.runUntilIdle();
  }
}
