// A fiber's task: a task with a body, which its first run calls with a new context (the context
// is made then, not at spawn: a fiber that never runs costs no context). Its wait face, the task
// as the iterator of a `yield*` of a wait, is src/operations/wait-face.ts's: its next, throw and return are
// the face's steps, kept there (one class fewer between FiberTask and Task: see that file).

import { PENDING as PENDING_, RunState, Task } from "../task/task.js";
import { faceNext, faceReturn, faceThrow, taskAsResult } from "../operations/wait-face.js";
import type { FiberEnv } from "../operations/env.js";
import { type Op, takeUnrun } from "../operations/operation.js";
import { FiberContext, type FiberStart } from "./context.js";
import { DebugFiberContext } from "./debug-context.js";

import { BEGIN as BEGIN_, DROP_BODY as DROP_BODY_, ENV as ENV_, STATE as STATE_ } from "../task/state.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const PENDING: typeof PENDING_ = PENDING_;
const BEGIN: typeof BEGIN_ = BEGIN_;
const DROP_BODY: typeof DROP_BODY_ = DROP_BODY_;
const ENV: typeof ENV_ = ENV_;
const STATE: typeof STATE_ = STATE_;
/**
 * A fiber's task: a task with a body, which its first run calls with a new context. (The context
 * is made then, not at spawn: a fiber that never runs costs no context.)
 */
export class FiberTask extends Task {
  /** @internal */
  declare readonly [ENV]: FiberEnv;

  /** @internal */
  constructor(env: FiberEnv, idx: number, id: number, start: FiberStart, param: unknown) {
    super(env, idx, id, null);
    // Kept in `pending` until the first run (no field of its own: a parked fiber would pay for it);
    // a param, which few spawns give, in a pair made for it.
    this[PENDING] = param === undefined ? start : new BodyWithParam(start, param);
  }

  /** @internal */
  [BEGIN](): unknown {
    const body = this[PENDING]; // (its body: the task has not run yet)
    this[DROP_BODY]();
    let start: FiberStart;
    let param: unknown;
    if (typeof body === "function") start = body as FiberStart;
    else if (body instanceof BodyWithParam) ({ start, param } = body);
    else return super[BEGIN]();
    // A debug host's fibers get a context that reports operations made and never yielded; a
    // release host's pay nothing for it.
    const ctx = this[ENV].debug ? new DebugFiberContext(this[ENV], this) : new FiberContext(this[ENV], this);
    return taskAsResult(start(ctx, param));
  }

  /** @internal Called at its first run, and when it ends (the scheduler's markDone). */
  [DROP_BODY](): void {
    // (Once the task has ended, PENDING holds its result.)
    if (this[STATE] !== RunState.Done) this[PENDING] = null;
    else {
      // The release core's check: an operation it made and never ran (a debug host's context
      // reports every one itself). One compare when there is none.
      const op = takeUnrun(this);
      if (op !== null && !this[ENV].debug) warnUnrun(this, op);
    }
  }

  /** @internal The wait face (src/operations/wait-face.ts): a `yield*` of a wait delegates to the task itself. */
  next(v?: unknown): IteratorResult<number, number> {
    return faceNext(this, v);
  }
  /** @internal */
  throw(err: unknown): never {
    return faceThrow(this, err);
  }
  /** @internal */
  return(value: number): IteratorResult<number, number> {
    return faceReturn(this, value);
  }
}

/** A body and the param given for it, until the first run. */
class BodyWithParam {
  constructor(
    readonly start: FiberStart,
    readonly param: unknown,
  ) {}
}

/** The warning for an operation a fiber made and never ran: it did nothing (as the debug core says). */
function warnUnrun(t: Task, op: Op<unknown>): void {
  console.warn(
    `fiberhost: fiber ${t.name} made ${op.opName()} and never ran it: an operation does nothing until it runs with yield* (\`yield* f.sleep(10)\`, not \`f.sleep(10);\`)`,
  );
}
