// The operation: what a fiber delegates to with `yield*` (its commands and the shared pending
// result: src/kernel/commands.ts).

import type { Task } from "../task/task.js";
import { type Cmd, Operation, handOver } from "../kernel/commands.js";
import { currentFiber, foreignOperation } from "../scheduler/driving.js";

import { EXTRA as EXTRA_, EXTRAS as EXTRAS_ } from "../task/state.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const EXTRA: typeof EXTRA_ = EXTRA_;
const EXTRAS: typeof EXTRAS_ = EXTRAS_;
export abstract class Op<R = number> extends Operation implements IterableIterator<R> {
  /** @internal */
  readonly t: Task;

  constructor(t: Task) {
    super();
    this.t = t;
    noteMade(this, t);
  }

  [Symbol.iterator](): this {
    noteRan(this);
    return this;
  }

  /** @internal How a warning names it (an operation made and never run). */
  opName(): string {
    return "an operation";
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
    noteRan(this); // (a plain `yield op` steps it without [Symbol.iterator])
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

// The release core's check for an operation made and never run (`f.sleep(10);` without `yield*`).
// The first such operation of the fiber that made one last is kept in two module variables, not in
// a field of every task (a million parked fibers) or a write per operation on its task. An operation
// records itself when it is made (noteMade) and is struck when `yield*` (its [Symbol.iterator]) or a
// plain `yield` (its first step, own()) runs it (noteRan). When another fiber makes one while it is
// still unrun, it moves to its own task's extras (correct code leaves nothing to move: it runs what
// it makes before it switches). A fiber that ends holding one warns (src/fiber/fiber-task.ts). The
// cost: a compare and a store per operation made, a compare per step (f.yield()'s reused token,
// the switch's fast path, pays nothing).
let unrunOp: Op<unknown> | null = null;

/** An operation made: recorded, unless the fiber that made it already holds an unrun one. */
function noteMade(op: Op<unknown>, t: Task): void {
  const held = unrunOp;
  if (held === null) unrunOp = op;
  else if (held.t !== t) {
    // Another fiber's, made and not run before it switched: kept on that fiber's task.
    const x = held.t[EXTRAS]();
    if (x.unrun === null) x.unrun = held;
    unrunOp = op;
  }
}

/** The operation ran (or needs no run: f.yield()'s token, reused and recognised by the scheduler). */
export function noteRan(op: Op<unknown>): void {
  if (unrunOp === op) unrunOp = null;
  else {
    const x = op.t[EXTRA];
    if (x !== null && x.unrun === op) x.unrun = null;
  }
}

/** The first operation `t` made and never ran, taken (null: none known). */
export function takeUnrun(t: Task): Op<unknown> | null {
  const held = unrunOp;
  if (held !== null && held.t === t) {
    unrunOp = null;
    return held;
  }
  const x = t[EXTRA];
  if (x === null || x.unrun === null) return null;
  const op = x.unrun as Op<unknown>;
  x.unrun = null;
  return op;
}
