// f.call(export, ...args): the operation a fiber yields, one object that runs the whole call, read
// top to bottom: open (ReverseEnterRuntime on the fiber's task, after its turn at a serial
// stack's gate), call the guest, park (a suspending import answered a promise: the guest unwound,
// asyncify, or its promising export's promise is pending, JSPI), wait in unmanaged mode while
// other fibers run, resume (EnterRuntime again, waiting like any enter while the runtime is
// suspended; then the guest goes on at the import's call site with the answer, or with the
// rejection or an abort thrown there), close (ReverseLeaveRuntime). The suspension mechanism's
// own steps are asyncify.ts's (unwind, rewind) and jspi.ts's (the promising call, the resume, the
// fiber lent to a guest that continues from a microtask); the JSPI-only phases are marked below.
// A guest with a linear-memory stack (stack-finder.ts, shadow-stack.ts) has its parked call's frames kept here, or
// its calls wait their turn at its gate (call-gate.ts). A guest whose own runtime suspends it is external-call.ts's.

import type { Task } from "../task/task.js";
import { MUST_WAIT_FOR_RESUME, TRANSITION_NAMES } from "../core/door.js";
import { Transition } from "../core/generated/layout.js";
import { Cmd } from "../kernel/commands.js";
import type { Op } from "../operations/operation.js";
import { ThrowOp } from "../operations/basic.js";
import { BLOCK } from "../kernel/waitable.js";
import { E_INVALIDARG, HResultError, INFINITE, S_OK } from "../base/hresult.js";
import { describeValue } from "../base/args.js";
import { safePoint, unwindsAbort, type FiberEnv } from "../operations/env.js";
import { EXPORT, callRaw, dropPromise, type ExportInfo } from "./guest.js";
import { Phase, WakeEvent } from "./guest-call-state.js";
import { JspiCallPhases } from "./guest-call-jspi.js";

export type { Resolvers } from "./guest-call-state.js";

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

/**
 * One f.call: its phases, in order (its state and the suspending import's side: GuestCallState,
 * guest-call-state.ts; the JSPI-only phases: JspiCallPhases, guest-call-jspi.ts).
 */
export class GuestCall<R> extends JspiCallPhases<R> {
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
        return this.enter(unwindsAbort(this.t, this.suspended!.settledThrew, this.suspended!.settled)); // the runtime resumed
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
        // An abort while the enter waits: asked again (the runtime may have resumed meanwhile), it
        // waits on without a time limit, and the abort is what the guest gets at its call site.
        this.suspended!.settled = err;
        this.suspended!.settledThrew = true;
        return this.enter(true);
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
    const hr = this.orWait(this.env.door.reverseEnter(), false);
    if (hr === BLOCK) {
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
    const prev = g.call;
    this.depth = ++g.depth;
    g.call = this;
    let r: unknown;
    try {
      r = g.jspi !== null ? g.jspi.call(this, this.info, this.args) : callRaw(this.info.raw, this.args);
    } catch (err) {
      g.depth--;
      g.call = prev;
      return this.guestThrew(err);
    }
    g.depth--;
    g.call = prev;
    if (g.jspi !== null) return this.jspiStarted(r as Promise<unknown>);
    if (this.promise !== null) {
      try {
        this.suspended!.stack = g.asyncify!.stopUnwind();
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

  // --- 3. park (the suspending import called suspend: GuestCallState) ------------------------

  /** Parks the fiber until the suspending import's promise settles. */
  protected park(): IteratorResult<R, R> {
    const p = this.promise!;
    this.promise = null;
    const hr = this.env.sched.block(this.t, this.suspended!.parkWait(this.env.sched), INFINITE, 0);
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
  protected expectImport(p: PromiseLike<unknown>): void {
    const s = this.suspended!;
    const seq = ++s.seq;
    s.importPending = true;
    if (s.gaveUp) {
      // An earlier promise may still settle: this one's reactions carry its number.
      Promise.resolve(p).then(
        (v) => this.importSettled(seq, v, false),
        (e) => this.importSettled(seq, e, true),
      );
      return;
    }
    // No other promise is outstanding on this state: the reactions made once serve every wait
    // (closures per round trip cost more than the rest of the wait), for whichever call owns it.
    // Once a promise is given up they answer nothing: the one outstanding then is that one.
    if (s.onValue === null) {
      s.onValue = (v) => {
        if (!s.gaveUp) s.owner?.importSettled(s.seq, v, false);
      };
      s.onError = (e) => {
        if (!s.gaveUp) s.owner?.importSettled(s.seq, e, true);
      };
    }
    Promise.resolve(p).then(s.onValue, s.onError);
  }

  /** @internal The import's promise number `seq` settled: the fiber is woken, unless it is stale or answered already. */
  importSettled(seq: number, value: unknown, threw: boolean): void {
    const s = this.suspended;
    if (s === null || seq !== s.seq || !s.importPending || !s.waiting) return;
    s.importPending = false;
    s.event = WakeEvent.Import;
    this.env.sched.wake(this.t, value, threw);
  }

  // --- 5. resume -------------------------------------------------------------------------------

  /** The promise settled (or an abort came): back into the runtime, then into the guest. */
  protected settle(value: unknown, threw: boolean): IteratorResult<R, R> {
    if (this.suspended!.importPending) this.suspended!.gaveUp = true; // (woken by an abort: the promise is still pending)
    this.suspended!.importPending = false;
    this.suspended!.settled = value;
    this.suspended!.settledThrew = threw;
    if (!this.leaveOpen) return this.resumed();
    // (An enter made while an abort unwinds the fiber waits for the resume without a time limit.)
    return this.enter(unwindsAbort(this.t, threw, value));
  }

  /** The enter back into the runtime after the import, or its wait for the resume. */
  private enter(unlimited: boolean): IteratorResult<R, R> {
    const hr = this.orWait(this.env.door.enter(), unlimited);
    if (hr === BLOCK) {
      this.phase = Phase.WaitEnter;
      return this.command(Cmd.Park);
    }
    if (hr !== S_OK) return this.abandon(hr);
    return this.resumed();
  }

  /** Back in managed code: the guest goes on (its frames back in place first, a kept stack). */
  private resumed(): IteratorResult<R, R> {
    const g = this.info.guest;
    if (g.jspi !== null) {
      // The guest goes on from a microtask, after other fibers' guests may have: its frames go
      // back there (jspi.ts). An error unwinds it at once instead, without them.
      this.leaveOpen = false;
      const answer = this.answerSettled();
      if (answer.threw) this.dropFrames();
      g.jspi.resume(this, answer);
      return this.parkContinuing();
    }
    const lost = this.framesBack();
    if (lost !== null) {
      this.suspended!.stack = null;
      this.suspended!.settled = undefined;
      return this.close(true, lost);
    }
    this.leaveOpen = false;
    // asyncify: the unwound stack goes back and the same export is called again to rewind into it
    const stack = this.suspended!.stack!;
    this.suspended!.stack = null;
    g.asyncify!.startRewind(stack);
    return this.run();
  }

  // --- 6. close --------------------------------------------------------------------------------

  protected close(threw: boolean, value: unknown): IteratorResult<R, R> {
    this.phase = Phase.Done;
    const g = this.info.guest;
    // A trap or an exception skips the guest's epilogues, and a resumed call's return restores
    // the pointer of its first entry: either way the stack goes back to where this run found it.
    if (g.stack !== null && (threw || this.suspended !== null)) g.stack.sp = this.spOuter;
    g.gate?.release(this.t);
    if (g.jspi === null) this.releaseState();
    const hr = this.env.door.reverseLeave();
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
    this.suspended!.stack = null;
    this.dropFrames();
    this.phase = Phase.Done;
    this.info.guest.gate?.release(this.t);
    const cause = this.suspended!.settledThrew ? this.suspended!.settled : undefined;
    this.suspended!.settled = undefined;
    const err = this.failure(
      Transition.ENTER,
      hr,
      cause,
      ` returning from import ${this.suspended!.importName} into the guest; the guest call is abandoned`,
    );
    this.info.guest.jspi?.abandon(this, err);
    throw err;
  }

  /**
   * transitionOrWait (operations/env.ts) for a transition already made, called directly rather
   * than through door.transition's dispatch on its number: its HRESULT, or, while the runtime is
   * suspended, what the wait for the resume answers (BLOCK: the fiber now waits).
   */
  private orWait(hr: number, unlimited: boolean): number {
    return hr === MUST_WAIT_FOR_RESUME ? this.env.sched.waitForResume(this.t, unlimited) : hr;
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
