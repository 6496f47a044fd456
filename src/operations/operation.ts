// The operation: what a fiber delegates to with `yield*` (its commands and the shared pending
// result: src/kernel/commands.ts).

import type { Task } from "../task/task.js";
import { type Cmd, Operation, handOver } from "../kernel/commands.js";
import { currentFiber, foreignOperation } from "../scheduler/driving.js";

export abstract class Op<R = number> extends Operation implements IterableIterator<R> {
  protected readonly t: Task;

  constructor(t: Task) {
    super();
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

  /**
   * Throws unless the fiber running now is the one whose context made this operation (see
   * foreignOperation). Called first by every operation that acts.
   */
  protected own(): void {
    if (currentFiber() !== this.t) throw foreignOperation(this.t);
  }

  /** Hands the scheduler a command through the shared pending result. */
  protected command(cmd: Cmd, body: Iterator<unknown> | null = null): IteratorResult<R, R> {
    return handOver<R>(cmd, body);
  }

  protected result(value: R): IteratorResult<R, R> {
    return { value, done: true };
  }
}
