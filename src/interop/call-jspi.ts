// f.call's JSPI steps: the promising export's promise, a guest that continues on its own from a
// microtask (the fiber lent to it, jspi.ts), suspends again at another import, or returns, and an
// abort that arrives meanwhile (held until the guest's next suspension or return).

import { HResultError, INFINITE } from "../hresult.js";
import { Cmd } from "../scheduler/op.js";
import { BLOCK } from "../scheduler/waitable.js";
import { dropPromise } from "./guest.js";
import { GuestCall } from "./call-core.js";
import { Event, GuestWait, Phase } from "./call-state.js";

export abstract class JspiCall<R> extends GuestCall<R> {
  /** The promising export returned its promise: the guest suspended at an import, or finished. */
  protected jspiStarted(p: Promise<unknown>): IteratorResult<R, R> {
    const jspi = this.info.guest.jspi!;
    if (jspi.finishedAtOnce(this)) return this.close(false, jspi.takeReturned()); // p resolves to the same value
    if (this.promise !== null) {
      this.expectReturn(p);
      return this.park();
    }
    this.expectReturn(p);
    return this.parkContinuing();
  }

  /** Wakes the fiber when the guest's export settles. */
  protected expectReturn(p: Promise<unknown>): void {
    p.then(
      (v) => this.returned(v, false),
      (e) => this.returned(e, true),
    );
  }

  protected returned(value: unknown, threw: boolean): void {
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

  /** JSPI: the guest, running on its own (lent), suspended again at an import: the fiber now waits for that. */
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

  protected parkContinuing(): IteratorResult<R, R> {
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

  /** JSPI: what woke a fiber whose guest continues on its own. */
  protected continued(v: unknown, isThrow: boolean): IteratorResult<R, R> {
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
}
