// f.managed / f.unmanaged: a body run between an opening and a closing transition.

import { Task } from "../task/task.js";
import { isInstance } from "../base/errors.js";
import { MUST_WAIT_FOR_RESUME, TRANSITION_NAMES } from "../core/door.js";
import { Transition } from "../core/generated/layout.js";
import { Cmd, bodyResultError, isIterator } from "../kernel/commands.js";
import { Op } from "./operation.js";
import { BLOCK } from "../kernel/waitable.js";
import { E_INVALIDARG, HResultError, S_OK } from "../base/hresult.js";
import { safePoint, type FiberEnv } from "./env.js";

const enum ScopePhase {
  Open,
  WaitOpen,
  Body,
  WaitClose,
}

/**
 * f.managed / f.unmanaged: runs a body between an opening and a closing transition, balanced when
 * the body throws or the fiber is aborted. A failed opening means the body does not run and no
 * closing transition is made; a failing transition throws HResultError in the fiber.
 */
export class ScopeOp<R> extends Op<R> {
  private phase = ScopePhase.Open;
  private hooked = true;
  /** What the body ended with, while the closing transition waits for the runtime to resume. */
  private closing: { threw: boolean; value: unknown } | null = null;

  constructor(
    t: Task,
    private readonly env: FiberEnv,
    private readonly managed: boolean,
    private readonly target: number,
    private readonly fn: () => unknown,
  ) {
    super(t);
  }

  private get openOp(): Transition {
    return this.managed ? Transition.REVERSE_ENTER : Transition.LEAVE;
  }
  private get closeOp(): Transition {
    return this.managed ? Transition.REVERSE_LEAVE : Transition.ENTER;
  }

  next(v?: unknown): IteratorResult<R, R> {
    this.own();
    switch (this.phase) {
      case ScopePhase.Open: {
        const sp = safePoint(this.env.sched, this.t);
        if (sp) return this.command(sp);
        this.hooked = this.managed || this.env.needsHostHook(this.target);
        return this.open();
      }
      case ScopePhase.WaitOpen:
        if (v !== S_OK) throw this.failure(this.openOp, v as number);
        return this.open();
      case ScopePhase.Body:
        return this.close(false, v);
      case ScopePhase.WaitClose: {
        const { threw, value } = this.closing!;
        if (v !== S_OK) throw this.failure(this.closeOp, v as number, threw ? value : undefined);
        return this.close(threw, value);
      }
    }
  }

  throw(err: unknown): IteratorResult<R, R> {
    this.own();
    switch (this.phase) {
      case ScopePhase.Body:
        return this.close(true, err);
      case ScopePhase.WaitClose: {
        // An abort arrived while the closing enter waited: keep waiting, now without a time limit.
        this.closing = { threw: true, value: err };
        return this.waitToClose(true);
      }
      default:
        throw err; // nothing was opened
    }
  }

  private open(): IteratorResult<R, R> {
    if (this.hooked) {
      const hr = this.env.door.transition(this.openOp, this.target);
      if (hr === MUST_WAIT_FOR_RESUME) {
        const w = this.env.sched.waitForResume(this.t, false);
        if (w !== BLOCK) throw this.failure(this.openOp, w);
        this.phase = ScopePhase.WaitOpen;
        return this.command(Cmd.Park);
      }
      if (hr !== S_OK) throw this.failure(this.openOp, hr);
    }
    this.phase = ScopePhase.Body;
    let body: unknown;
    let iterates: boolean;
    try {
      body = this.fn();
      // What the call gave is user code too (a Proxy, a getter): the scope closes whatever it is.
      const wrong = bodyResultError(
        body,
        `the body of f.${this.managed ? "managed" : "unmanaged"} in fiber ${this.t.name}`,
      );
      if (wrong !== null) throw new HResultError(E_INVALIDARG, wrong);
      // (A task is a value: a fiber's task has next, its wait face, and is no body to drive.)
      iterates = !isInstance(body, Task) && isIterator(body);
    } catch (err) {
      return this.close(true, err);
    }
    if (!iterates) return this.close(false, body);
    return this.command(Cmd.Push, body as Iterator<unknown>);
  }

  private close(threw: boolean, value: unknown): IteratorResult<R, R> {
    if (this.hooked) {
      const hr = this.env.door.transition(this.closeOp, 0);
      if (hr === MUST_WAIT_FOR_RESUME) {
        this.closing = { threw, value };
        // The closing enter of a scope unwound by an abort waits for the resume without a limit.
        return this.waitToClose(threw && value === this.t.unwinding);
      }
      if (hr !== S_OK) throw this.failure(this.closeOp, hr, threw ? value : undefined);
    }
    this.phase = ScopePhase.Open;
    if (threw) throw value;
    return this.result(value as R);
  }

  private waitToClose(unlimited: boolean): IteratorResult<R, R> {
    const w = this.env.sched.waitForResume(this.t, unlimited);
    // Woken by an abort, the scope asks again: the runtime may have resumed meanwhile.
    if (w === S_OK) return this.close(this.closing!.threw, this.closing!.value);
    if (w !== BLOCK) {
      const { threw, value } = this.closing!;
      throw this.failure(this.closeOp, w, threw ? value : undefined);
    }
    this.phase = ScopePhase.WaitClose;
    return this.command(Cmd.Park);
  }

  private failure(op: Transition, hr: number, cause?: unknown): HResultError {
    const err = new HResultError(hr, `${TRANSITION_NAMES[op]} failed in fiber ${this.t.name}`);
    if (cause !== undefined) (err as { cause?: unknown }).cause = cause;
    return err;
  }
}
