// The state machine of f.call(export, ...args), shared by both suspension modes: a fiber calls a
// guest export between ReverseEnterRuntime and ReverseLeaveRuntime on its own task; a suspending
// import that answers a promise parks the fiber in unmanaged mode while other fibers run; when the
// promise settles (or an abort comes) the fiber enters the runtime again, waiting, like any enter,
// while the runtime is suspended. How the guest is called, rewound or resumed is a mode's step:
// asyncify's in call-op.ts, JSPI's in call-jspi.ts. A guest with a linear-memory stack
// (guest-stack.ts) has its parked call's frames kept here, or its calls wait their turn at its gate.

import type { Task } from "../task.js";
import { MUST_WAIT_FOR_RESUME, TRANSITION_NAMES } from "../core/door.js";
import { Transition } from "../core/generated/layout.js";
import { Cmd } from "../scheduler/op.js";
import { Op } from "../operations/op.js";
import { BLOCK } from "../scheduler/waitable.js";
import { E_INVALIDARG, HOST_E_INVALIDOPERATION, HResultError, INFINITE, S_OK } from "../hresult.js";
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
  /** A kept stack (per-fiber): the stack pointer where the call entered the guest; its frames lie below. */
  private spEntry = 0;
  /** A kept stack: where the pointer goes back when the call leaves the guest (a park, a return, a throw). */
  private spOuter = 0;
  /** A kept stack: the call's frames while it is parked (null: none kept, or the guest moved its stack). */
  private frames: Uint8Array | null = null;

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
        const g = this.info.guest;
        if (g.gate === null) {
          const sp = safePoint(this.env.sched, this.t);
          if (sp) return this.command(sp);
          return this.open();
        }
        return this.openGated();
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
        this.info.guest.gate?.release(this.t); // aborted at the gate, or handed it before it ran
        throw err;
    }
  }

  // --- Driver (called by suspending imports) -------------------------------------------------

  suspend(promise: PromiseLike<unknown>, hooked: boolean, name: string): void {
    this.promise = promise;
    this.leaveOpen = hooked;
    this.state().importName = name;
    const s = this.info.guest.stack;
    if (s !== null) {
      // The guest unwinds from here without running a function's epilogue: the pointer would stay
      // at the park. The frames go with the call; the stack is as the call found it.
      this.frames = s.takeFrames(this.spEntry);
      if (this.frames !== null) s.sp = this.spOuter;
    }
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

  /** A serial stack: the call waits (FIFO) while another call holds the instance. */
  private openGated(): IteratorResult<R, R> {
    const gate = this.info.guest.gate!;
    try {
      const sp = safePoint(this.env.sched, this.t);
      if (sp) {
        if (sp !== Cmd.Yield) gate.release(this.t);
        return this.command(sp);
      }
      const hr = this.env.sched.block(this.t, gate, INFINITE, 0);
      if (hr === BLOCK) return this.command(Cmd.Park); // woken with S_OK: Phase.Open again, the gate ours
      if (hr !== S_OK)
        throw new HResultError(hr, `f.call(${this.info.name}) in fiber ${this.t.name} could not wait for the guest`);
      return this.open();
    } catch (err) {
      if (this.phase !== Phase.Done) gate.release(this.t);
      throw err;
    }
  }

  protected open(): IteratorResult<R, R> {
    const hr = this.env.door.transition(Transition.REVERSE_ENTER, 0);
    if (hr === MUST_WAIT_FOR_RESUME) {
      const w = this.env.sched.waitForResume(this.t, false);
      if (w !== BLOCK) throw this.failure(Transition.REVERSE_ENTER, w);
      this.phase = Phase.WaitOpen;
      return this.command(Cmd.Park);
    }
    if (hr !== S_OK) throw this.failure(Transition.REVERSE_ENTER, hr);
    const s = this.info.guest.stack;
    if (s !== null) this.spEntry = this.spOuter = s.sp;
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
    this.info.guest.gate?.hold(this.t, this.env.sched);
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
    if (!this.leaveOpen) return this.resumed();
    const hr = this.env.door.transition(Transition.ENTER, 0);
    if (hr === MUST_WAIT_FOR_RESUME) return this.waitToEnter(threw && value === this.t.unwinding);
    if (hr !== S_OK) return this.abandon(hr);
    return this.resumed();
  }

  /** Back in managed code, the call's frames back in place (a kept stack): the guest goes on. */
  private resumed(): IteratorResult<R, R> {
    const s = this.info.guest.stack;
    if (s !== null) {
      const now = s.sp;
      const frames = this.frames;
      this.frames = null;
      // The frames go back to their own addresses: below the call's entry, which must be free
      // (a resume from inside a call into the guest further up would find its frames there).
      if (frames === null || now < this.spEntry) {
        this.x!.stack = null;
        this.x!.settled = undefined;
        return this.close(
          true,
          new HResultError(
            HOST_E_INVALIDOPERATION,
            `f.call(${this.info.name}) in fiber ${this.t.name}: ${
              frames === null
                ? "the guest's stack pointer was not below the call's entry when it parked (the guest switched stacks itself)"
                : "the guest's stack is in use where the parked call's frames go back (a call into the guest is running further up)"
            }; the guest call is abandoned`,
          ),
        );
      }
      this.spOuter = now;
      s.putFrames(frames, this.spEntry);
    }
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
    if (this.frames !== null) this.info.guest.stack?.recycle(this.frames);
    this.frames = null;
    this.phase = Phase.Done;
    this.info.guest.gate?.release(this.t);
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
    const g = this.info.guest;
    // A trap or an exception skips the guest's epilogues, and a resumed call's return restores
    // the pointer of its first entry: either way the stack goes back to where this run found it.
    if (g.stack !== null && (threw || this.x !== null)) g.stack.sp = this.spOuter;
    g.gate?.release(this.t);
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
