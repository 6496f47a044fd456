// f.call's JSPI-only phases (guest-call.ts has the others, in order): the promising export's
// promise, a guest that continues on its own from a microtask (the fiber lent to it, jspi.ts),
// suspends again at another import, or returns, and an abort that arrives meanwhile (held until
// the guest's next suspension or return). One call object all the same: GuestCall extends this.

import { Cmd } from "../kernel/commands.js";
import { BLOCK } from "../kernel/waitable.js";
import { HResultError, INFINITE } from "../base/hresult.js";
import { dropPromise } from "./guest.js";
import { GuestCallState, Phase, WakeEvent } from "./guest-call-state.js";

export abstract class JspiCallPhases<R> extends GuestCallState<R> {
  /** Parks the fiber until the suspending import's promise settles (guest-call.ts). */
  protected abstract park(): IteratorResult<R, R>;
  /** The import's promise settled, or an abort came: back into the runtime, then the guest. */
  protected abstract settle(value: unknown, threw: boolean): IteratorResult<R, R>;
  /** The fiber is woken when `p` settles, unless an abort has answered the import first. */
  protected abstract expectImport(p: PromiseLike<unknown>): void;
  /** The call ends: ReverseLeaveRuntime, then `value` answered or thrown. */
  protected abstract close(threw: boolean, value: unknown): IteratorResult<R, R>;

  /** The promising export returned its promise: the guest suspended at an import, or finished. */
  protected jspiStarted(p: Promise<unknown>): IteratorResult<R, R> {
    const jspi = this.info.guest.jspi!;
    if (jspi.finishedAtOnce(this)) return this.close(false, jspi.takeReturned()); // p resolves to the same value
    this.expectReturn(p);
    if (this.promise !== null) return this.park();
    // Suspended on an import that answered at once (the engine suspends for those too): the call
    // is inside the instance from now on, as after a promise, and a serial stack's gate is its.
    this.info.guest.gate?.hold(this.t, this.env.sched);
    return this.parkContinuing();
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
    this.suspended!.event = WakeEvent.Return;
    if (this.suspended!.waiting) this.env.sched.wake(this.t, value, threw);
    else {
      // Woken already for an abort: the fiber re-parked in continued(); deliver there.
      this.suspended!.settled = value;
      this.suspended!.settledThrew = threw;
    }
  }

  /** The guest, running on its own (lent), suspended again at an import: the fiber now waits for that. */
  suspendedAgain(): void {
    const p = this.promise!;
    this.promise = null;
    if (this.suspended!.heldAbort !== undefined) {
      // An abort came while the guest ran: it is the answer to this import.
      const err = this.suspended!.heldAbort;
      this.suspended!.heldAbort = undefined;
      dropPromise(p);
      this.suspended!.event = WakeEvent.Import;
      this.env.sched.wake(this.t, err, true);
      return;
    }
    this.expectImport(p);
  }

  /** Parks the fiber while its guest continues on its own. */
  protected parkContinuing(): IteratorResult<R, R> {
    const w = this.state().parkWait(this.env.sched);
    if (this.suspended!.event !== WakeEvent.Return) this.suspended!.event = WakeEvent.None;
    const hr = this.env.sched.block(this.t, w, INFINITE, 0);
    if (hr !== BLOCK) throw new HResultError(hr, `f.call: fiber ${this.t.name} could not wait for the guest`);
    this.phase = Phase.Continuing;
    if (this.suspended!.event === WakeEvent.Return) {
      // The export settled while the fiber was not waiting (an abort had woken it).
      const { value, threw } = this.answerSettled();
      this.env.sched.wake(this.t, value, threw);
    }
    return this.command(Cmd.Park);
  }

  /** What woke a fiber whose guest continues on its own. */
  protected continued(v: unknown, isThrow: boolean): IteratorResult<R, R> {
    const event = this.suspended!.event;
    this.suspended!.event = WakeEvent.None;
    if (event === WakeEvent.Return) {
      if (this.suspended!.heldAbort !== undefined && !isThrow) {
        const abort = this.suspended!.heldAbort;
        this.suspended!.heldAbort = undefined;
        return this.close(true, abort);
      }
      return this.close(isThrow, v);
    }
    if (event === WakeEvent.Import) return this.settle(v, isThrow);
    // Woken by the scheduler: an abort. While the guest waits at an import it is that import's
    // answer; while the guest runs on its own, it is delivered at its next suspension or return.
    if (isThrow && this.suspended!.importPending) return this.settle(v, true);
    if (isThrow) this.suspended!.heldAbort = v;
    return this.parkContinuing();
  }
}
