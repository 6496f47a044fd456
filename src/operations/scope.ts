// f.managed / f.unmanaged: a body run between an opening and a closing transition.

import { Task } from "../task/task.js";
import { isInstance } from "../base/errors.js";
import { TRANSITION_NAMES } from "../core/door.js";
import { Transition } from "../core/generated/layout.js";
import { Cmd, bodyResultError, isIterator } from "../kernel/commands.js";
import { Op } from "./operation.js";
import { BLOCK } from "../kernel/waitable.js";
import { E_INVALIDARG, HResultError, S_OK } from "../base/hresult.js";
import { safePoint, transitionOrWait, unwindsAbort, type FiberEnv } from "./env.js";

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

  /** @internal */
  opName(): string {
    return "f.managed(body), f.unmanaged(target, body) or f.await(…)";
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
      case ScopePhase.WaitClose:
        // An abort arrived while the closing enter waited: asked again (the runtime may have
        // resumed meanwhile), it waits on without a time limit.
        return this.close(true, err, true);
      default:
        throw err; // nothing was opened
    }
  }

  private open(): IteratorResult<R, R> {
    if (this.hooked) {
      const hr = transitionOrWait(this.env, this.t, this.openOp, this.target);
      if (hr === BLOCK) {
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

  /**
   * The closing transition. The closing enter of a scope unwound by an abort (`unlimited`, also
   * when the abort arrives while it waits) waits for the resume without a time limit.
   */
  private close(threw: boolean, value: unknown, unlimited = unwindsAbort(this.t, threw, value)): IteratorResult<R, R> {
    if (this.hooked) {
      const hr = transitionOrWait(this.env, this.t, this.closeOp, 0, unlimited);
      if (hr === BLOCK) {
        this.closing = { threw, value };
        this.phase = ScopePhase.WaitClose;
        return this.command(Cmd.Park);
      }
      if (hr !== S_OK) throw this.failure(this.closeOp, hr, threw ? value : undefined);
    }
    this.phase = ScopePhase.Open;
    if (threw) throw value;
    return this.result(value as R);
  }

  private failure(op: Transition, hr: number, cause?: unknown): HResultError {
    const err = new HResultError(hr, `${TRANSITION_NAMES[op]} failed in fiber ${this.t.name}`);
    if (cause !== undefined) (err as { cause?: unknown }).cause = cause;
    return err;
  }
}
