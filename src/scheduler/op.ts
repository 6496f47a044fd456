// An operation is what a fiber delegates to with `yield*`: an iterator that finishes at once when
// it can (a transition, a wait that is already satisfied) and hands the scheduler a command when
// it cannot. `yield*` passes the operation's pending result object straight through to the
// scheduler, which reads the command from it; nothing is allocated for it.

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

/**
 * The pending result every operation hands the scheduler: `{ value: op, done: false }` plus the
 * command (and, for Cmd.Push, the body). One object for every operation of every host: the
 * scheduler reads it before any other code runs, and its reads of one shape stay fast however
 * many kinds of operations a program uses (a result per operation class made them megamorphic:
 * a switch cost twice as much once a program had used a few kinds).
 */
export const PENDING: { value: unknown; readonly done: false; cmd: Cmd; body: Iterator<unknown> | null } = {
  value: undefined,
  done: false,
  cmd: Cmd.Yield,
  body: null,
};

export abstract class Op<R = number> implements IterableIterator<R> {
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

  /** Hands the scheduler a command through the shared pending result. */
  protected command(cmd: Cmd, body: Iterator<unknown> | null = null): IteratorResult<R, R> {
    PENDING.cmd = cmd;
    PENDING.value = this;
    PENDING.body = body;
    return PENDING as IteratorResult<R, R>;
  }

  protected result(value: R): IteratorResult<R, R> {
    return { value, done: true };
  }
}

/** Is `v` an iterator (a generator object, or anything with next)? */
export function isIterator(v: unknown): v is Iterator<unknown> {
  return typeof v === "object" && v !== null && typeof (v as Iterator<unknown>).next === "function";
}
