// The cooperative scheduler: ready queues by priority, a timer heap, waits, abort delivery and the
// runtime's suspension. It drives each fiber's explicit stack of iterators, so a resume costs the
// same at any nesting depth, and switches fibers in and out through the core.

import { Outcome, type Task, type TaskState } from "../task.js";
import {
  E_INVALIDARG, HOST_E_ABANDONED, HOST_E_DEADLOCK, HOST_E_INTERRUPTED, HOST_E_TIMEOUT, HResultError,
  INFINITE, S_OK, WAIT_ALERTABLE, WAIT_NOTINDEADLOCK, HOST_E_INVALIDOPERATION,
} from "../hresult.js";
import { PRIORITY_LEVELS, describeValue, isTimeout, isWaitOption } from "../args.js";
import { TaskAbortError, attachFiberInfo } from "../errors.js";
import type { CoreDoor } from "../core/door.js";
import { TaskQueue } from "./queue.js";
import { ReadyRing } from "./ring.js";
import { TimerHeap } from "./timers.js";
import type { Clock, Dispatch } from "./clock.js";
import { VirtualClock } from "./clock.js";
import { DRIVING, Cmd, PENDING, bodyResultError, isIterator, isThenable } from "./op.js";
import { BLOCK, type Waitable } from "./waitable.js";
import type { FiberContext } from "../fiber-context.js";


/** %GeneratorPrototype%, as the prototype of a constructor, for `instanceof`; and its next. */
const GeneratorPrototype = Object.getPrototypeOf(function* () {}).prototype as Generator;
function GeneratorObject(): void {}
GeneratorObject.prototype = GeneratorPrototype;
const generatorNext = GeneratorPrototype.next;

/** The longest delay setTimeout honours (a signed 32-bit count of ms). */
const MAX_TIMEOUT_DELAY = 0x7fffffff;

/** What a safe point found (see checkpoint). */
export const enum SafePoint {
  None,
  Abort,
  Yield,
  End,
}

export interface SchedulerOptions {
  clock: Clock;
  dispatch: Dispatch;
  /** Steps per slice before run() returns to the event loop. */
  budget: number;
  /** ms an enter into managed code waits for a suspended runtime; INFINITE: no limit. */
  enterTimeoutMs: number;
  /** Hooks called by the scheduler into the host (one way: the scheduler never imports the host). */
  makeContext: (t: Task) => FiberContext;
  forget: (t: Task) => void;
  trace: { on: boolean; wait(t: Task): void; wake(t: Task): void };
}

export class Scheduler {
  private readonly door: CoreDoor;
  readonly clock: Clock;
  private readonly opts: SchedulerOptions;
  private readonly ready: ReadyRing<Task>[] = PRIORITY_LEVELS.map(() => new ReadyRing<Task>());
  private readyMask = 0;
  private readonly timers = new TimerHeap<Task>();
  /** Fibers held in managed mode while the runtime is suspended. */
  private readonly heldForGC = new TaskQueue<Task>();
  /** Fibers waiting to enter managed code until the runtime resumes. */
  readonly resumeWait: Waitable;
  private readonly resumeWaiters = new TaskQueue<Task>();
  /** The fiber being driven, or null when the root task runs. */
  running: Task | null = null;
  /**
   * The fiber the core has switched in. Within a slice it stays switched in after its step, so
   * that the next step switches it out and the next fiber in with one call into the core (or
   * none, when it runs again); the slice switches it out before the root task runs again.
   */
  private switchedIn: Task | null = null;
  private pendingAwaits = 0;
  private live = 0;

  // run(): one promise per run, settled when no fiber can make progress.
  private runPromise: Promise<void> | null = null;
  private settleRun: (() => void) | null = null;
  private failRun: ((err: unknown) => void) | null = null;
  private pumpQueued = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private draining = false;

  constructor(door: CoreDoor, opts: SchedulerOptions) {
    this.door = door;
    this.clock = opts.clock;
    this.opts = opts;
    this.resumeWait = {
      tryAcquire: () => (door.isSuspended() ? BLOCK : S_OK),
      enqueue: (t) => this.resumeWaiters.push(t),
      remove: (t) => this.resumeWaiters.remove(t),
      waitsFor: () => null,
      describe: () => "the runtime to resume",
    };
  }

  // --- ready queues ------------------------------------------------------------------------------

  private enqueue(t: Task): void {
    t.state = "ready";
    this.ready[t.level].push(t);
    this.readyMask |= 1 << t.level;
  }

  private dequeue(): Task | null {
    while (this.readyMask !== 0) {
      const level = 31 - Math.clz32(this.readyMask);
      const q = this.ready[level];
      const t = q.shift();
      if (q.size === 0) this.readyMask &= ~(1 << level);
      if (t) return t;
    }
    return null;
  }

  // --- lifecycle -----------------------------------------------------------------------------------

  startTask(t: Task): number {
    const hr = this.door.start(t);
    if (hr !== S_OK) return hr;
    this.live++; // finish() counts it out
    this.enqueue(t);
    this.kick();
    return S_OK;
  }

  setPriority(t: Task, priority: number): number {
    const hr = this.door.setPriority(t, priority);
    if (hr !== S_OK) return hr;
    const level = PRIORITY_LEVELS.indexOf(priority);
    if (level !== t.level) {
      // A ready task moves to the back of its new level (a linear scan: priority changes are rare).
      if (t.state === "ready" && this.ready[t.level].remove(t)) {
        if (this.ready[t.level].size === 0) this.readyMask &= ~(1 << t.level);
        t.level = level;
        this.enqueue(t);
      } else {
        t.level = level;
      }
    }
    return S_OK;
  }

  /** Runs one ready fiber until it yields, waits or ends. */
  private step(t: Task): void {
    if (t.state === "done") return; // ended by a hand-made ExitTask while it was queued
    if (this.door.isSuspended() && this.holdForGC(t)) return;
    const prev = this.switchedIn;
    if (prev !== t) {
      if (prev === null) this.door.switchIn(t);
      else this.door.exchange(prev, t);
      this.switchedIn = t;
    }
    this.running = t; // (also the fiber every host's operations see as running: see DRIVING)
    t.state = "running";
    if (t.attention || !t.iter) this.beforeResume(t);
    if (t.state === "running") this.drive(t);
    this.running = null;
    if ((t.state as TaskState) === "done") this.switchedIn = null; // its ExitTask switched it out
  }

  /** Hands the JS thread back to the root task: the last fiber of a slice is switched out. */
  private switchToRoot(): void {
    if (this.switchedIn !== null) {
      this.door.switchOut(this.switchedIn);
      this.switchedIn = null;
    }
  }

  /** A fiber switched out in managed mode is not resumed while the collector runs: true when held. */
  private holdForGC(t: Task): boolean {
    if (t.rude || !this.door.isManaged(t)) return false;
    t.state = "waiting";
    this.heldForGC.push(t);
    return true;
  }

  /** A fiber's first run, and a pending rude abort or exit, are handled before it resumes. */
  private beforeResume(t: Task): void {
    const sp = t.attention ? this.checkpoint(t) : SafePoint.None;
    if (sp === SafePoint.End) return this.end(t);
    if (sp === SafePoint.Yield) return this.enqueue(t); // asked to yield: it does, before it runs
    if (t.iter) {
      // A resumed fiber gets its abort at its next operation, so no wake result is lost.
      if (sp === SafePoint.Abort) t.attention = true;
      return;
    }
    const start = t.start_!;
    t.start_ = null;
    if (sp === SafePoint.Abort) {
      // Aborted before it ever ran: the body does not run.
      return this.finish(t, Outcome.Threw, this.takeAbort(t));
    }
    let first: unknown;
    let iterates: boolean;
    try {
      first = start(this.opts.makeContext(t), t.param);
      // What the call gave is user code too (a Proxy, a getter): asked inside the fence.
      const wrong = bodyResultError(first, `the body of fiber ${t.name}`);
      if (wrong !== null) throw new HResultError(E_INVALIDARG, wrong);
      iterates = isIterator(first);
    } catch (err) {
      return this.finish(t, Outcome.Threw, err);
    }
    t.param = undefined;
    if (iterates) t.iter = first as Iterator<unknown>;
    else this.finish(t, Outcome.Returned, first);
  }

  /**
   * Resumes the fiber's innermost iterator and follows its commands until it yields, waits or
   * ends. Only the switch itself (a resume that yields again) stays in this loop; everything
   * rarer is out of line, so that the engine inlines the hot path the same way every run.
   */
  private drive(t: Task): void {
    for (;;) {
      const it = t.iter!;
      let r: IteratorResult<unknown>;
      try {
        if (t.resumeThrow) {
          r = this.throwInto(t, it);
        } else {
          const v = t.resumeValue;
          t.resumeValue = undefined;
          // A generator is resumed through %GeneratorPrototype%.next itself: every generator
          // function closure has a prototype of its own, so `it.next` would be a megamorphic
          // load in a program that spawns closures (and the switch would cost a third more).
          r = it instanceof GeneratorObject ? generatorNext.call(it, v) : it.next(v);
        }
      } catch (err) {
        if (this.unwound(t, err)) continue;
        return;
      }
      if (r === PENDING) {
        // An operation's command: the switch itself is the one case handled in this loop.
        if (PENDING.cmd === Cmd.Yield) {
          this.enqueue(t);
          return;
        }
        if (this.command(t, it)) continue;
        return;
      }
      if (this.finished(t, r)) continue;
      return;
    }
  }

  /**
   * A resume answered something else than an operation's command: the body returned, yielded a
   * value that is not an operation, or answered what no iterator may (a non-object, a promise, a
   * result whose getters throw). True when drive goes on with the fiber. Reading the result runs
   * user code, so it is fenced here, out of the switch's hot path: what escapes is the broken
   * iterator's error, handled as if its body had thrown it.
   */
  private finished(t: Task, r: IteratorResult<unknown>): boolean {
    let done: boolean;
    let value: unknown;
    try {
      if (typeof r !== "object" || r === null || isThenable(r)) {
        const hint = isThenable(r) ? "an async iterator? write a generator function and use f.await" : "a body is a generator";
        throw new HResultError(
          E_INVALIDARG,
          `an iterator of fiber ${t.name} answered next() with ${describeKind(r)}, not an iterator result: ${hint}`,
        );
      }
      done = !!r.done;
      value = r.value;
    } catch (err) {
      return this.unwound(t, err);
    }
    if (done) return this.returned(t, value);
    this.notAnOperation(t, value);
    return false;
  }

  private throwInto(t: Task, it: Iterator<unknown>): IteratorResult<unknown> {
    const err = t.resumeValue;
    t.resumeValue = undefined;
    t.resumeThrow = false;
    if (t.abortInFlight) t.abortInFlight = false;
    if (typeof it.throw !== "function") throw err;
    return it.throw(err);
  }

  /** An error left the innermost body: true when a parent body takes it (drive goes on). */
  private unwound(t: Task, err: unknown): boolean {
    // The frames where this error first left a body (a parent may still catch it).
    if (t.errorOf !== err) {
      t.errorOf = err;
      t.errorFrames = this.door.frames(t);
    }
    if (t.stack !== null && t.stack.length > 0) {
      t.iter = t.stack.pop()!;
      t.resumeThrow = true;
      t.resumeValue = err;
      return true;
    }
    this.finish(t, Outcome.Threw, err);
    return false;
  }

  /** The innermost body returned: true when its parent goes on with the value. */
  private returned(t: Task, value: unknown): boolean {
    if (t.stack !== null && t.stack.length > 0) {
      t.iter = t.stack.pop()!;
      t.resumeValue = value;
      return true;
    }
    this.finish(t, Outcome.Returned, value);
    return false;
  }

  /**
   * The fiber yielded something else than an operation: that is thrown back into it at its next
   * step, as a yield. Not at once: a body that catches it and yields again would otherwise keep
   * the run loop from ever returning to the event loop.
   */
  private notAnOperation(t: Task, value: unknown): void {
    t.resumeThrow = true;
    t.resumeValue = new HResultError(
      E_INVALIDARG,
      `fiber ${t.name} yielded ${describeKind(value)}: a fiber yields only through yield* on an operation of its context` +
        (isThenableSafe(value) ? " (for a promise: yield* f.await(promise))" : ""),
    );
    this.enqueue(t);
  }

  /** Every command but Yield: true when drive goes on with the fiber. */
  private command(t: Task, it: Iterator<unknown>): boolean {
    switch (PENDING.cmd) {
      case Cmd.Park:
        return false;
      case Cmd.Push:
        (t.stack ??= []).push(it);
        t.iter = PENDING.body!;
        PENDING.body = null;
        return true;
      case Cmd.End:
        this.end(t);
        return false;
      default:
        this.enqueue(t);
        return false;
    }
  }

  /**
   * At a safe point (a yield, a wait, a transition): a pending rude abort or exit ends the fiber;
   * a deliverable abort is thrown (the caller throws takeAbort); a yield request is honoured.
   */
  checkpoint(t: Task): SafePoint {
    t.attention = false;
    if (t.rude || t.exitRequested) return SafePoint.End;
    if (t.abortPending) {
      if (this.door.abortDeliverable(t)) return SafePoint.Abort;
      t.attention = true; // held back by a delay region: look again at the next safe point
    }
    return this.door.takeYieldRequest(t) ? SafePoint.Yield : SafePoint.None;
  }

  /** The abort to throw into the fiber: delivered once. */
  takeAbort(t: Task): TaskAbortError {
    t.abortPending = false;
    this.door.abortDelivered(t);
    const err = new TaskAbortError(t.name, false);
    t.unwinding = err;
    return err;
  }

  /** Ends a fiber without running its handlers (rude abort, ExitTask). */
  private end(t: Task): void {
    if (t.rude) {
      const err = new TaskAbortError(t.name, true);
      this.finish(t, Outcome.Threw, err);
    } else {
      this.finish(t, Outcome.Returned, undefined);
    }
  }

  private finish(t: Task, outcome: Outcome, value: unknown): void {
    if (t.state === "done") return;
    const started = t.state !== "created";
    this.cancelWait(t);
    // The fiber is switched in (step did it): ExitTask clears its frames, counts open reverse
    // enters and frees its slot.
    if (this.door.isLive(t)) this.door.exitTask(t);
    t.finalCounters = this.door.counters(t); // the freed slot still holds them until it is reused
    if (outcome === Outcome.Threw) {
      attachFiberInfo(value, {
        id: t.id,
        name: t.name,
        spawnSite: t.spawnSite,
        frames: (t.errorOf === value ? t.errorFrames : null) ?? [],
      });
    }
    if (t.held) for (const crst of t.held) (crst as { abandon(): void }).abandon();
    t.held = null;
    t.state = "done";
    t.outcome = outcome;
    t.value = value;
    t.iter = t.stack = null;
    t.ctx = null;
    t.start_ = null;
    if (started) this.live--;
    if (t.joiners) {
      for (let j = t.joiners.shift(); j; j = t.joiners.shift()) this.wake(j, S_OK);
    }
    t.settleResult?.(t);
    t.settleResult = null;
    const onEnd = t.onEnd;
    if (onEnd !== null) {
      t.onEnd = null;
      try {
        onEnd();
      } catch {
        // (Only spawn's signal listener removal: a broken signal must not stop the host.)
      }
    }
    this.opts.forget(t);
  }

  // --- waits ---------------------------------------------------------------------------------------

  /**
   * Starts a wait of the running fiber `t` on `w`: an HRESULT when it is decided at once, or BLOCK
   * when the fiber now waits (the operation then parks it).
   */
  block(t: Task, w: Waitable, ms: number, option: number): number {
    const timeoutResult = w.timeoutResult ?? HOST_E_TIMEOUT;
    const hr = this.door.available();
    if (hr !== S_OK) return hr;
    if (!isTimeout(ms) || !isWaitOption(option)) return E_INVALIDARG;
    const alertable = (option & WAIT_ALERTABLE) !== 0;
    if (alertable && this.door.takeAlert(t)) return HOST_E_INTERRUPTED;
    const now = w.tryAcquire(t);
    if (now !== BLOCK) return now;
    if (ms === 0) return timeoutResult;
    if ((option & WAIT_NOTINDEADLOCK) === 0 && this.waitsOnItself(t, w)) return HOST_E_DEADLOCK;
    // The clock is read before anything changes: one that throws leaves no half-made wait (its
    // error is thrown into this fiber).
    const deadline = ms === INFINITE ? 0 : this.clock.now() + ms;
    w.enqueue(t);
    t.waitOn = w;
    t.waitAlertable = alertable;
    t.waitTimeoutResult = timeoutResult | 0;
    t.state = "waiting";
    if (ms !== INFINITE) this.timers.add(t, deadline);
    if (this.opts.trace.on) this.opts.trace.wait(t);
    return BLOCK;
  }

  /** Would `t` waiting on `w` close a cycle of waits (Crst owners, joined tasks)? */
  private waitsOnItself(t: Task, w: Waitable): boolean {
    let x = w.waitsFor();
    for (let hops = 0; x !== null && hops <= this.live; hops++) {
      if (x === t) return true;
      x = x.waitOn ? x.waitOn.waitsFor() : null;
    }
    return false;
  }

  /** Ends `t`'s wait: it resumes with `value` (an HRESULT, or a promise's value), or has it thrown. */
  wake(t: Task, value: unknown, isThrow = false): void {
    this.cancelWait(t);
    t.resumeValue = value;
    t.resumeThrow = isThrow;
    if (this.opts.trace.on) this.opts.trace.wake(t);
    this.enqueue(t);
    this.kick();
  }

  private cancelWait(t: Task): void {
    if (t.waitOn) {
      t.waitOn.remove(t);
      t.waitOn = null;
    }
    t.waitAlertable = false;
    if (t.queue) t.queue.remove(t);
    if (t.timerPos) this.timers.cancel(t);
  }

  /** The running fiber waits until the runtime resumes (an enter into managed code). */
  waitForResume(t: Task, unlimited: boolean): number {
    const ms = unlimited ? INFINITE : this.opts.enterTimeoutMs;
    return this.block(t, this.resumeWait, ms, WAIT_NOTINDEADLOCK);
  }

  /** @internal Entries in the timer heap: the live timed waits (tests check it stays so). */
  get timerCount(): number {
    return this.timers.size;
  }

  /** An f.await began (pending) or ended. The virtual clock does not jump while one is pending. */
  awaiting(delta: number): void {
    this.pendingAwaits += delta;
  }

  // --- IHostTask / ICLRTask operations that involve scheduling ------------------------------------

  alert(t: Task): number {
    const hr = this.door.check(t);
    if (hr !== S_OK) return hr;
    if (t.waitOn !== null && t.waitAlertable) {
      this.wake(t, HOST_E_INTERRUPTED);
      return S_OK;
    }
    return this.door.alert(t);
  }

  abort(t: Task, rude: boolean): number {
    // This fiber's own abort already on its way into it is delivered once. (Only its own: a
    // TaskAbortError of another fiber, from an f.await of its result, does not stand for this one.)
    if (!rude && t.abortInFlight) return this.door.check(t);
    const hr = this.door.abort(t, rude);
    if (hr !== S_OK) return hr;
    t.abortPending = true;
    t.attention = true;
    if (rude) t.rude = true;
    if (t.state === "waiting") {
      if (rude) this.wake(t, undefined);
      else this.deliverToWaiter(t);
    }
    this.kick();
    return S_OK;
  }

  /** An abort held back by a region is delivered to a waiting fiber once the region closes. */
  endAbortRegion(t: Task, close: () => number): number {
    const hr = close();
    if (hr === S_OK && t.abortPending && t.state === "waiting") this.deliverToWaiter(t);
    return hr;
  }

  private deliverToWaiter(t: Task): void {
    if (t.waitOn === null || !this.door.abortDeliverable(t)) return; // held for the collector: later
    this.wake(t, this.takeAbort(t), true);
    t.abortInFlight = true; // until throwInto hands it over
  }

  yieldTask(t: Task): number {
    const hr = this.door.yieldTask(t);
    if (hr === S_OK) t.attention = true;
    return hr;
  }

  /**
   * ExitTask. The running fiber asking for its own exit ends at its next safe point, without
   * running its handlers; until then it stays switched in, so its transitions stay its own. Any
   * other task (a task switched in by hand, the root task) is the core's to decide.
   */
  exitTask(t: Task): number {
    if (t !== this.running) {
      const hr = this.door.exitTask(t);
      if (hr === S_OK) this.finish(t, Outcome.Returned, undefined); // a task switched in by hand
      return hr;
    }
    const hr = this.door.check(t);
    if (hr === S_OK) {
      t.exitRequested = true;
      t.attention = true;
    }
    return hr;
  }

  /**
   * ICLRTask::SwitchIn/SwitchOut by hand, for tasks the scheduler does not drive: a created task
   * may be switched in; a task switched in by hand may be switched out (also once started).
   */
  manualSwitch(t: Task, on: boolean): number {
    const driven = on ? t.state !== "created" && !t.done : t === this.running;
    if (!driven) return on ? this.door.switchIn(t) : this.door.switchOut(t);
    return this.door.available() || HOST_E_INVALIDOPERATION; // a rule, not an argument check: the core first
  }

  /** ICLRTask::Reset: the core resets a created task; the host forgets its requests too. */
  reset(t: Task, full: boolean): number {
    const hr = this.door.reset(t, full);
    if (hr === S_OK) {
      t.rude = t.abortPending = t.exitRequested = t.attention = false;
      if (full) t.level = PRIORITY_LEVELS.indexOf(0);
    }
    return hr;
  }

  // --- the runtime's suspension --------------------------------------------------------------------

  suspendRuntime(): number {
    return this.door.suspend(true);
  }

  resumeRuntime(): number {
    const hr = this.door.suspend(false);
    if (hr === S_OK) this.releaseSuspended(S_OK);
    return hr;
  }

  /** The runtime was disabled: fibers waiting to enter it are abandoned. */
  runtimeDisabled(): void {
    this.releaseSuspended(HOST_E_ABANDONED);
  }

  private releaseSuspended(hr: number): void {
    for (let t = this.resumeWaiters.shift(); t; t = this.resumeWaiters.shift()) this.wake(t, hr);
    for (let t = this.heldForGC.shift(); t; t = this.heldForGC.shift()) this.enqueue(t);
    this.kick();
  }

  // --- running ------------------------------------------------------------------------------------

  /** Runs up to `budget` steps; true when fibers are still ready. */
  private slice(budget: number): boolean {
    // (On a disabled runtime nothing reaches a task's frames any more: the fibers run to unwind.)
    if (this.switchedIn === null && this.door.currentIdx() !== 0 && this.door.isAvailable()) {
      throw new HResultError(
        HOST_E_INVALIDOPERATION,
        "a task is switched in by hand (task.switchIn()); switch it out before running fibers",
      );
    }
    const outer = DRIVING.sched;
    DRIVING.sched = this;
    try {
      for (let n = 0; n < budget; n++) {
        const t = this.dequeue();
        if (!t) return false;
        this.step(t);
      }
      return this.readyMask !== 0;
    } catch (err) {
      if (!this.fault(err)) throw err;
      return true;
    } finally {
      DRIVING.sched = outer;
      this.switchToRoot();
    }
  }

  /**
   * The run loop's last fence. Every call into user code is contained where it is made (a body's
   * next/throw/return and its results, a hook, a clock, a dispatch); should anything still escape
   * a step, it ends the fiber being stepped (its result rejects with it), never the host: true
   * when it did. No iterator of that fiber is called again.
   */
  private fault(err: unknown): boolean {
    const t = this.running;
    if (t === null) return false;
    this.running = null;
    t.iter = t.stack = null;
    this.finish(t, Outcome.Threw, err);
    if (this.switchedIn === t) this.switchedIn = null; // its ExitTask switched it out
    return true;
  }

  /** Wakes every fiber whose timer is due; true when one was. */
  private fireTimers(): boolean {
    const now = this.clock.now();
    let any = false;
    for (let t = this.timers.popDue(now); t; t = this.timers.popDue(now)) {
      this.wake(t, t.waitTimeoutResult >>> 0);
      any = true;
    }
    return any;
  }

  /** With a virtual clock and nothing else to do: jump to the next timer. */
  private jumpClock(): boolean {
    if (!this.clock.virtual || this.pendingAwaits > 0) return false;
    const next = this.timers.next();
    if (next === Infinity) return false;
    (this.clock as VirtualClock).advanceTo(next);
    return this.fireTimers();
  }

  /** Runs until no fiber can make progress without real time passing or a promise settling. */
  runUntilIdle(): void {
    this.assertNotInFiber("runUntilIdle");
    this.draining = true;
    try {
      for (;;) {
        while (this.slice(Infinity));
        if (this.fireTimers()) continue;
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
    if (this.running !== null || this.draining) {
      throw new HResultError(HOST_E_INVALIDOPERATION, `${what}() was called from inside a fiber or a run; call it from the root task`);
    }
  }

  /** Something became ready while run() waits for a timer or a promise: run again soon. */
  private kick(): void {
    if (this.runPromise && this.running === null && !this.draining) this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumpQueued) return;
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.pumpQueued = true;
    try {
      this.opts.dispatch(() => this.pump());
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
      more = this.slice(this.opts.budget);
      if (!more) more = this.fireTimers() || this.jumpClock();
    } catch (err) {
      // The scheduler's own preconditions, and the clock (a fiber's errors end that fiber).
      this.failRunWith(err);
      return;
    } finally {
      this.draining = false;
    }
    if (more) return this.schedulePump();
    const next = this.timers.next();
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

/** What kind of value `v` is, for a message: a thenable is named so; anything else as describeValue shows it. */
function describeKind(v: unknown): string {
  return typeof v === "object" && v !== null && isThenableSafe(v) ? "a Promise (a thenable)" : describeValue(v);
}

function isThenableSafe(v: unknown): boolean {
  try {
    return isThenable(v);
  } catch {
    return false;
  }
}
