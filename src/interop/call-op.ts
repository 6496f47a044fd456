// f.call(export, ...args): the operation a fiber yields, and its argument checks. The call's
// state machine is in call-core.ts and its JSPI steps in call-jspi.ts; here are the guest call
// itself and asyncify's steps: the unwound stack saved at a suspension, rewound on the way back.
// A fiber may block inside the guest: a suspending import that answers a promise parks the fiber
// in unmanaged mode (its frames […, ReverseEnter, Leave(target)]) while other fibers run; when the
// promise settles the fiber re-enters the runtime and the guest goes on where it stopped, with the
// answer, or with the rejection (or an abort) thrown at the import's call site.

import type { Task } from "../task.js";
import type { Op } from "../operations/op.js";
import { E_INVALIDARG, HResultError } from "../hresult.js";
import { describeValue } from "../args.js";
import type { FiberEnv } from "../operations/env.js";
import { ThrowOp } from "../operations/basic.js";
import { EXPORT, dropPromise, type ExportInfo } from "./guest.js";
import { Transition } from "../core/generated/layout.js";
import { JspiCall } from "./call-jspi.js";

export class CallOp<R> extends JspiCall<R> {
  /** Calls the guest: the first time, or again to rewind it (asyncify). */
  protected run(): IteratorResult<R, R> {
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

  /** Back in managed code: the guest goes on from the import's call site. */
  protected entered(): IteratorResult<R, R> {
    this.leaveOpen = false;
    const g = this.info.guest;
    if (g.jspi !== null) {
      g.jspi.resume(this, this.answerSettled());
      return this.parkContinuing();
    }
    const stack = this.x!.stack!;
    this.x!.stack = null;
    g.asyncify!.startRewind(stack);
    return this.run();
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
  return new CallOp<R>(t, env, info, args);
}
