// f.call(export, ...args): the operation a fiber yields, one object that runs the whole call, read
// top to bottom: open (ReverseEnterRuntime on the fiber's task, after its turn at a serial
// stack's gate), call the guest, park (a suspending import answered a promise: the guest unwound,
// asyncify, or its promising export's promise is pending, JSPI), wait in unmanaged mode while
// other fibers run, resume (EnterRuntime again, waiting like any enter while the runtime is
// suspended; then the guest goes on at the import's call site with the answer, or with the
// rejection or an abort thrown there), close (ReverseLeaveRuntime). The suspension mechanism's
// own steps are asyncify.ts's (unwind, rewind) and jspi.ts's (the promising call, the resume, the
// fiber lent to a guest that continues from a microtask); the JSPI-only phases are marked below.
// A guest with a linear-memory stack (guest-stack.ts) has its parked call's frames kept here, or
// its calls wait their turn at its gate. A guest whose own runtime suspends it is external.ts's.

import type { Task } from "../task/task.js";
import { MUST_WAIT_FOR_RESUME, TRANSITION_NAMES } from "../core/door.js";
import { Transition } from "../core/generated/layout.js";
import { Cmd } from "../kernel/commands.js";
import { Op } from "../operations/operation.js";
import { ThrowOp } from "../operations/basic.js";
import { BLOCK, type Waitable } from "../kernel/waitable.js";
import type { SchedulerPort as Scheduler } from "../scheduler/port.js";
import { E_INVALIDARG, HOST_E_INVALIDOPERATION, HResultError, INFINITE, S_OK } from "../base/hresult.js";
import { describeValue } from "../base/args.js";
import { safePoint, type FiberEnv } from "../operations/env.js";
import { EXPORT, dropPromise, type Driver, type ExportInfo } from "./guest.js";

const enum Phase {
  Open,
  WaitOpen,
  /** Parked: a suspending import's promise is pending. */
  Parked,
  /** The promise settled; the enter back into the runtime waits for the resume. */
  WaitEnter,
  /** JSPI: the guest was resumed (it continues from a microtask), or its export's promise is pending. */
  Continuing,
  Done,
}

/** What woke a fiber parked in a guest (JSPI has two sources). */
const enum Event {
  None,
  Import,
  Return,
}

export type Resolvers = { resolve(v: unknown): void; reject(e: unknown): void };

/** f.call's argument checks: a hooked export of one of this host's guests. */
export function callExport<R>(t: Task, env: FiberEnv, fn: unknown, args: unknown[]): Op<R> {
  let info: ExportInfo | null = null;
  try {
    // A Proxy may throw on the read, or answer anything: only this host's export info is taken.
    const found =
      typeof fn === "function" ? (fn as unknown as Record<symbol, ExportInfo | undefined>)[EXPORT] : undefined;
    if (found !== undefined && found.guest.door === env.door) info = found;
  } catch {
    info = null;
  }
  if (info === null) {
    return new ThrowOp(
      t,
      new HResultError(
        E_INVALIDARG,
        `f.call takes an export of a guest of this host (guest.exports.name), not ${describeValue(fn)}`,
      ),
    ) as Op<never>;
  }
  return new GuestCall<R>(t, env, info, args);
}

export class GuestCall<R> extends Op<R> implements Driver {
  depth = 0;
  private phase = Phase.Open;
  /** Set by a suspending import: the promise the guest waits for. */
  private promise: PromiseLike<unknown> | null = null;
  /** The suspending import's LeaveRuntime frame is open (a hooked import). */
  private leaveOpen = false;
  /** The state of a call that has suspended, made at its first suspension: most calls never do. */
  private x: Suspended | null = null;
  /** A kept stack (per-fiber): the stack pointer where the call entered the guest; its frames lie below. */
  private spEntry = 0;
  /** A kept stack: where the pointer goes back when the call leaves the guest (a park, a return, a throw). */
  private spOuter = 0;
  /** A kept stack: the call's frames while it is parked (null: none kept, or the guest moved its stack). */
  private frames: Uint8Array | null = null;

  constructor(
    t: Task,
    private readonly env: FiberEnv,
    private readonly info: ExportInfo,
    private readonly args: unknown[],
  ) {
    super(t);
  }

  get task(): Task {
    return this.t;
  }

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
  private state(): Suspended {
    return (this.x ??= new Suspended());
  }

  // --- the scheduler's side: what woke the fiber, by phase -------------------------------------

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

  // --- 1. open ---------------------------------------------------------------------------------

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

  private open(): IteratorResult<R, R> {
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

  // --- 2. call the guest -----------------------------------------------------------------------

  /** Calls the guest: the first time, or again to rewind it (asyncify). */
  private run(): IteratorResult<R, R> {
    const g = this.info.guest;
    const prev = g.driver;
    this.depth = ++g.depth;
    g.driver = this;
    let r: unknown;
    try {
      r = g.jspi !== null ? g.jspi.call(this, this.info, this.args) : callRaw(this.info.raw, this.args);
    } catch (err) {
      g.depth--;
      g.driver = prev;
      return this.guestThrew(err);
    }
    g.depth--;
    g.driver = prev;
    if (g.jspi !== null) return this.jspiStarted(r as Promise<unknown>);
    if (this.promise !== null) {
      try {
        this.x!.stack = g.asyncify!.stopUnwind();
      } catch (err) {
        return this.guestThrew(err); // the unwound stack overflowed the data region
      }
      return this.park();
    }
    return this.close(false, r);
  }

  private guestThrew(err: unknown): IteratorResult<R, R> {
    try {
      this.info.guest.asyncify?.reset();
    } catch {
      // the guest's asyncify state is beyond repair; the frames below are closed all the same
    }
    if (this.promise !== null) {
      // The unwind itself failed (a trap: the data region is too small for the stack).
      dropPromise(this.promise);
      this.promise = null;
      if (this.leaveOpen) {
        this.leaveOpen = false;
        this.env.door.transition(Transition.ENTER, 0);
      }
    }
    return this.close(true, err);
  }

  // --- 3. park (Driver: called by the suspending import) --------------------------------------

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

  /** Parks the fiber until the suspending import's promise settles. */
  private park(): IteratorResult<R, R> {
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

  // --- 4. wait: the fiber is woken when the promise settles ------------------------------------

  /** The fiber (parked) is woken when `p` settles, unless an abort has answered the import first. */
  private expectImport(p: PromiseLike<unknown>): void {
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

  // --- 5. resume -------------------------------------------------------------------------------

  /** The promise settled (or an abort came): back into the runtime, then into the guest. */
  private settle(value: unknown, threw: boolean): IteratorResult<R, R> {
    this.x!.importPending = false;
    this.x!.settled = value;
    this.x!.settledThrew = threw;
    if (!this.leaveOpen) return this.resumed();
    const hr = this.env.door.transition(Transition.ENTER, 0);
    if (hr === MUST_WAIT_FOR_RESUME) return this.waitToEnter(threw && value === this.t.unwinding);
    if (hr !== S_OK) return this.abandon(hr);
    return this.resumed();
  }

  private waitToEnter(unlimited: boolean): IteratorResult<R, R> {
    const w = this.env.sched.waitForResume(this.t, unlimited);
    if (w !== BLOCK) return this.abandon(w);
    this.phase = Phase.WaitEnter;
    return this.command(Cmd.Park);
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
    this.leaveOpen = false;
    const g = this.info.guest;
    if (g.jspi !== null) {
      g.jspi.resume(this, this.answerSettled());
      return this.parkContinuing();
    }
    // asyncify: the unwound stack goes back and the same export is called again to rewind into it
    const stack = this.x!.stack!;
    this.x!.stack = null;
    g.asyncify!.startRewind(stack);
    return this.run();
  }

  /** Driver: the suspending import's answer, when the rewind reaches it (asyncify). */
  answer(): unknown {
    const v = this.x!.settled;
    this.x!.settled = undefined;
    if (this.x!.settledThrew) {
      this.x!.settledThrew = false;
      throw v;
    }
    return v;
  }

  /** The settled answer as a JSPI outcome (consumed). */
  private answerSettled(): { value: unknown; threw: boolean } {
    const out = { value: this.x!.settled, threw: this.x!.settledThrew };
    this.x!.settled = undefined;
    this.x!.settledThrew = false;
    return out;
  }

  // --- JSPI only: the promising export's promise, a guest that continues on its own from a
  // microtask (the fiber lent to it, jspi.ts), suspends again at another import, or returns, and
  // an abort that arrives meanwhile (held until the guest's next suspension or return).

  /** The promising export returned its promise: the guest suspended at an import, or finished. */
  private jspiStarted(p: Promise<unknown>): IteratorResult<R, R> {
    const jspi = this.info.guest.jspi!;
    if (jspi.finishedAtOnce(this)) return this.close(false, jspi.takeReturned()); // p resolves to the same value
    this.expectReturn(p);
    return this.promise !== null ? this.park() : this.parkContinuing();
  }

  /** Wakes the fiber when the guest's export settles. */
  private expectReturn(p: Promise<unknown>): void {
    p.then(
      (v) => this.returned(v, false),
      (e) => this.returned(e, true),
    );
  }

  private returned(value: unknown, threw: boolean): void {
    this.info.guest.jspi?.returned(this);
    if (this.phase === Phase.Done) return; // abandoned
    this.x!.event = Event.Return;
    if (this.x!.wait!.waiting) this.env.sched.wake(this.t, value, threw);
    else {
      // Woken already for an abort: the fiber re-parked in continued(); deliver there.
      this.x!.settled = value;
      this.x!.settledThrew = threw;
    }
  }

  /** The guest, running on its own (lent), suspended again at an import: the fiber now waits for that. */
  suspendedAgain(): void {
    const p = this.promise!;
    this.promise = null;
    if (this.x!.heldAbort !== undefined) {
      // An abort came while the guest ran: it is the answer to this import.
      const err = this.x!.heldAbort;
      this.x!.heldAbort = undefined;
      dropPromise(p);
      this.x!.event = Event.Import;
      this.env.sched.wake(this.t, err, true);
      return;
    }
    this.expectImport(p);
  }

  /** Parks the fiber while its guest continues on its own. */
  private parkContinuing(): IteratorResult<R, R> {
    const w = (this.state().wait ??= new GuestWait(this.env.sched));
    if (this.x!.event !== Event.Return) this.x!.event = Event.None;
    const hr = this.env.sched.block(this.t, w, INFINITE, 0);
    if (hr !== BLOCK) throw new HResultError(hr, `f.call: fiber ${this.t.name} could not wait for the guest`);
    this.phase = Phase.Continuing;
    if (this.x!.event === Event.Return) {
      // The export settled while the fiber was not waiting (an abort had woken it).
      const { value, threw } = this.answerSettled();
      this.env.sched.wake(this.t, value, threw);
    }
    return this.command(Cmd.Park);
  }

  /** What woke a fiber whose guest continues on its own. */
  private continued(v: unknown, isThrow: boolean): IteratorResult<R, R> {
    const event = this.x!.event;
    this.x!.event = Event.None;
    if (event === Event.Return) {
      if (this.x!.heldAbort !== undefined && !isThrow) {
        const abort = this.x!.heldAbort;
        this.x!.heldAbort = undefined;
        return this.close(true, abort);
      }
      return this.close(isThrow, v);
    }
    if (event === Event.Import) return this.settle(v, isThrow);
    // Woken by the scheduler: an abort. While the guest waits at an import it is that import's
    // answer; while the guest runs on its own, it is delivered at its next suspension or return.
    if (isThrow && this.x!.importPending) return this.settle(v, true);
    if (isThrow) this.x!.heldAbort = v;
    return this.parkContinuing();
  }

  // --- 6. close --------------------------------------------------------------------------------

  private close(threw: boolean, value: unknown): IteratorResult<R, R> {
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

  /**
   * The enter back into the runtime failed (a timeout waiting for the resume, a disabled
   * runtime): the guest's call cannot go on. Its saved state is dropped, its frames stay as the
   * core left them, and the failure is thrown in the fiber.
   */
  private abandon(hr: number): never {
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

  private failure(op: Transition, hr: number, cause?: unknown, tail = ""): HResultError {
    const err = new HResultError(
      hr,
      `${TRANSITION_NAMES[op]} failed in f.call(${this.info.name}) in fiber ${this.t.name}${tail}`,
    );
    if (cause !== undefined) (err as { cause?: unknown }).cause = cause;
    return err;
  }
}

/** Calls without spreading for the common arities (a spread call allocates and is slower). */
function callRaw(fn: (...args: unknown[]) => unknown, a: unknown[]): unknown {
  switch (a.length) {
    case 0:
      return fn();
    case 1:
      return fn(a[0]);
    case 2:
      return fn(a[0], a[1]);
    case 3:
      return fn(a[0], a[1], a[2]);
    default:
      return fn(...a);
  }
}

/** What a suspended f.call keeps (GuestCall.x): made at its first suspension. */
class Suspended {
  importName = "";
  /** asyncify: the unwound stack, while parked. */
  stack: Uint8Array | null = null;
  /** The import's answer to give the guest: a value, or an error to throw at its call site. */
  settled: unknown = undefined;
  settledThrew = false;
  wait: GuestWait | null = null;
  event = Event.None;
  /** A suspending import's promise is what the parked fiber waits for (numbered: a stale one is ignored). */
  importPending = false;
  seq = 0;
  /** JSPI: an abort that arrived while the guest was running on its own (delivered at its next suspension or return). */
  heldAbort: unknown = undefined;
  lent = false;
  resolvers: Resolvers | null = null;
}

/** The wait of a fiber parked inside a guest: woken by the operation itself when a promise settles. */
class GuestWait implements Waitable {
  waiting = false;
  constructor(private readonly sched: Scheduler) {}
  tryAcquire(): number {
    return BLOCK;
  }
  enqueue(): void {
    this.waiting = true;
    this.sched.awaiting(+1); // run() does not settle while a guest's promise is pending
  }
  remove(): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.sched.awaiting(-1);
  }
  waitsFor(): null {
    return null;
  }
  describe(): string {
    return "a promise inside a guest (f.call)";
  }
}
