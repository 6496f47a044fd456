// An operation is what a fiber delegates to with `yield*`: an iterator that finishes at once when
// it can (a transition, a wait that is already satisfied) and hands the scheduler a command when
// it cannot. Because `yield*` passes the operation's result object straight through, the
// scheduler receives the operation itself and reads its command; nothing is allocated for it.

import type { Task } from "../task.js";

export const enum Cmd {
  /** Put the fiber at the back of its ready queue. */
  Yield = 1,
  /** The fiber waits: the operation has registered the wait. */
  Park,
  /** Run `op.body` as the innermost iterator of the fiber's explicit stack. */
  Push,
  /** End the fiber now, without running its handlers (rude abort, ExitTask). */
  End,
}

export abstract class Op<R = number> implements IterableIterator<R> {
  cmd: Cmd = Cmd.Yield;
  // An operation is its own pending iterator result ({ value: op, done: false }), so handing the
  // scheduler a command allocates nothing. `done` and `value` live on the prototype: a parked
  // fiber's operation carries no fields for them.
  declare readonly done: false;
  get value(): unknown {
    return this;
  }
  protected readonly t: Task;

  constructor(t: Task) {
    this.t = t;
  }

  [Symbol.iterator](): this {
    return this;
  }

  abstract next(v?: unknown): IteratorResult<R, R>;

  /** An error thrown into the fiber while the operation waits (an abort, a rejected promise). */
  throw(err: unknown): IteratorResult<R, R> {
    throw err;
  }

  // `R`, not `unknown`: TypeScript folds this parameter into the type `yield*` evaluates to.
  return(value: R): IteratorResult<R, R> {
    return { value, done: true };
  }

  /** Hands the scheduler a command: the operation itself is the pending result. */
  protected command(cmd: Cmd): IteratorResult<R, R> {
    this.cmd = cmd;
    return this as unknown as IteratorResult<R, R>;
  }

  protected result(value: R): IteratorResult<R, R> {
    return { value, done: true };
  }
}

Object.defineProperty(Op.prototype, "done", { value: false });

/** An operation that runs a body on the fiber's explicit stack (Cmd.Push). */
export interface PushOp {
  body: Iterator<unknown> | null;
}

/** Is `v` an iterator (a generator object, or anything with next)? */
export function isIterator(v: unknown): v is Iterator<unknown> {
  return typeof v === "object" && v !== null && typeof (v as Iterator<unknown>).next === "function";
}
