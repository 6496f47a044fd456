// The state machine of f.call(export, ...args), shared by both suspension modes: a fiber calls a
// guest export between ReverseEnterRuntime and ReverseLeaveRuntime on its own task; a suspending
// import that answers a promise parks the fiber in unmanaged mode while other fibers run; when the
// promise settles (or an abort comes) the fiber enters the runtime again, waiting, like any enter,
// while the runtime is suspended. How the guest is called, rewound or resumed is a mode's step:
// asyncify's in call-op.ts, JSPI's in call-jspi.ts.

import type { Task } from "../task.js";
import { MUST_WAIT_FOR_RESUME, TRANSITION_NAMES } from "../core/door.js";
import { Transition } from "../core/generated/layout.js";
import { Cmd } from "../scheduler/op.js";
import { Op } from "../operations/op.js";
import { BLOCK } from "../scheduler/waitable.js";
import { E_INVALIDARG, HResultError, INFINITE, S_OK } from "../hresult.js";
import { safePoint, type FiberEnv } from "../operations/env.js";
import { dropPromise, type Driver, type ExportInfo } from "./guest.js";
import { Event, GuestWait, Phase, Suspended, type Resolvers } from "./call-state.js";

export abstract class GuestCall<R> extends Op<R> implements Driver {
  depth = 0;
  protected phase = Phase.Open;
  /** Set by a suspending import: the promise the guest waits for. */
  protected promise: PromiseLike<unknown> | null = null;
  /** The suspending import's LeaveRuntime frame is open (a hooked import). */
  protected leaveOpen = false;
  /** The state of a call that has suspended, made at its first suspension: most calls never do. */
  protected x: Suspended | null = null;

  /** JSPI: the guest runs on this fiber's task from a microtask. */
  get lent(): boolean {
    return this.x?.lent === true;
  }
  set lent(v: boolean) {
    this.state().lent = v;
  }
  /** JSPI: settles the promise the suspended guest waits for. */
  get resolvers(): Resolvers | null {
    return this.x === null ? null : this.x.resolvers;
  }
  set resolvers(v: Resolvers | null) {
    this.state().resolvers = v;
  }
  protected state(): Suspended {
    return (this.x ??= new Suspended());
  }

  constructor(
    t: Task,
    protected readonly env: FiberEnv,
    protected readonly info: ExportInfo,
    protected readonly args: unknown[],
  ) {
    super(t);
  }

  get task(): Task {
    return this.t;
  }

  next(v?: unknown): IteratorResult<R, R> {
    this.own();
    switch (this.phase) {
      case Phase.Open: {
        const sp = safePoint(this.env.sched, this.t);
        if (sp) return this.command(sp);
        return this.open();
      }
      case Phase.WaitOpen:
        if (v !== S_OK) throw this.failure(Transition.REVERSE_ENTER, v as number);
        return this.open();
      case Phase.Parked:
        return this.settle(v, false);
      case Phase.WaitEnter:
        if (v !== S_OK) return this.abandon(v as number);
        return this.settle(this.x!.settled, this.x!.settledThrew); // the runtime resumed: enter again
      case Phase.Continuing:
        return this.continued(v, false);
      default:
        throw new HResultError(E_INVALIDARG, "f.call: an operation is used once");
    }
  }

  throw(err: unknown): IteratorResult<R, R> {
    this.own();
    switch (this.phase) {
      case Phase.Parked:
        return this.settle(err, true);
      case Phase.WaitEnter:
        // An abort while the enter waits: it keeps waiting, now without a time limit, and the
        // abort is what the guest gets at its call site.
        this.x!.settled = err;
        this.x!.settledThrew = true;
        return this.waitToEnter(true);
      case Phase.Continuing:
        return this.continued(err, true);
      default:
        throw err;
    }
  }

  // --- Driver (called by suspending imports) -------------------------------------------------

  suspend(promise: PromiseLike<unknown>, hooked: boolean, name: string): void {
    this.promise = promise;
    this.leaveOpen = hooked;
    this.state().importName = name;
  }

  answer(): unknown {
    const v = this.x!.settled;
    this.x!.settled = undefined;
    if (this.x!.settledThrew) {
      this.x!.settledThrew = false;
      throw v;
    }
    return v;
  }

  // --- the call --------------------------------------------------------------------------------

  protected open(): IteratorResult<R, R> {
    const hr = this.env.door.transition(Transition.REVERSE_ENTER, 0);
    if (hr === MUST_WAIT_FOR_RESUME) {
      const w = this.env.sched.waitForResume(this.t, false);
      if (w !== BLOCK) throw this.failure(Transition.REVERSE_ENTER, w);
      this.phase = Phase.WaitOpen;
      return this.command(Cmd.Park);
    }
    if (hr !== S_OK) throw this.failure(Transition.REVERSE_ENTER, hr);
    return this.run();
  }

  /** Parks the fiber until the suspending import's promise settles. */
  protected park(): IteratorResult<R, R> {
    const p = this.promise!;
    this.promise = null;
    const w = (this.x!.wait ??= new GuestWait(this.env.sched));
    const hr = this.env.sched.block(this.t, w, INFINITE, 0);
    if (hr !== BLOCK) {
      dropPromise(p);
      return this.settle(new HResultError(hr, `f.call: fiber ${this.t.name} could not wait inside the guest`), true);
    }
    this.expectImport(p);
    this.phase = this.info.guest.jspi !== null ? Phase.Continuing : Phase.Parked;
    return this.command(Cmd.Park);
  }

  /** The fiber (parked) is woken when `p` settles, unless an abort has answered the import first. */
  protected expectImport(p: PromiseLike<unknown>): void {
    const seq = ++this.x!.seq;
    this.x!.importPending = true;
    const settled = (value: unknown, threw: boolean): void => {
      if (seq !== this.x!.seq || !this.x!.importPending || !this.x!.wait!.waiting) return;
      this.x!.importPending = false;
      this.x!.event = Event.Import;
      this.env.sched.wake(this.t, value, threw);
    };
    Promise.resolve(p).then(
      (v) => settled(v, false),
      (e) => settled(e, true),
    );
  }

  /** The promise settled (or an abort came): back into the runtime, then into the guest. */
  protected settle(value: unknown, threw: boolean): IteratorResult<R, R> {
    this.x!.importPending = false;
    this.x!.settled = value;
    this.x!.settledThrew = threw;
    if (!this.leaveOpen) return this.entered();
    const hr = this.env.door.transition(Transition.ENTER, 0);
    if (hr === MUST_WAIT_FOR_RESUME) return this.waitToEnter(threw && value === this.t.unwinding);
    if (hr !== S_OK) return this.abandon(hr);
    return this.entered();
  }

  protected waitToEnter(unlimited: boolean): IteratorResult<R, R> {
    const w = this.env.sched.waitForResume(this.t, unlimited);
    if (w !== BLOCK) return this.abandon(w);
    this.phase = Phase.WaitEnter;
    return this.command(Cmd.Park);
  }

  /** The settled answer as a JSPI outcome (consumed). */
  protected answerSettled(): { value: unknown; threw: boolean } {
    const out = { value: this.x!.settled, threw: this.x!.settledThrew };
    this.x!.settled = undefined;
    this.x!.settledThrew = false;
    return out;
  }

  /**
   * The enter back into the runtime failed (a timeout waiting for the resume, a disabled
   * runtime): the guest's call cannot go on. Its saved state is dropped, its frames stay as the
   * core left them, and the failure is thrown in the fiber.
   */
  protected abandon(hr: number): never {
    this.x!.stack = null;
    this.phase = Phase.Done;
    const cause = this.x!.settledThrew ? this.x!.settled : undefined;
    this.x!.settled = undefined;
    const err = this.failure(
      Transition.ENTER,
      hr,
      cause,
      ` returning from import ${this.x!.importName} into the guest; the guest call is abandoned`,
    );
    this.info.guest.jspi?.abandon(this, err);
    throw err;
  }

  protected close(threw: boolean, value: unknown): IteratorResult<R, R> {
    this.phase = Phase.Done;
    const hr = this.env.door.transition(Transition.REVERSE_LEAVE, 0);
    if (hr !== S_OK && !threw) throw this.failure(Transition.REVERSE_LEAVE, hr);
    if (threw) throw value;
    return this.result(value as R);
  }

  // --- the steps of one suspension mode (call-op.ts: asyncify and the dispatch; call-jspi.ts: JSPI) --

  /** Calls the guest: the first time, or again to rewind it (asyncify). */
  protected abstract run(): IteratorResult<R, R>;
  /** Back in managed code: the guest goes on from the import's call site. */
  protected abstract entered(): IteratorResult<R, R>;
  /** JSPI: what woke a fiber whose guest continues on its own. */
  protected abstract continued(v: unknown, isThrow: boolean): IteratorResult<R, R>;
  /** JSPI: parks the fiber while its guest continues on its own. */
  protected abstract parkContinuing(): IteratorResult<R, R>;

  protected failure(op: Transition, hr: number, cause?: unknown, tail = ""): HResultError {
    const err = new HResultError(
      hr,
      `${TRANSITION_NAMES[op]} failed in f.call(${this.info.name}) in fiber ${this.t.name}${tail}`,
    );
    if (cause !== undefined) (err as { cause?: unknown }).cause = cause;
    return err;
  }
}
