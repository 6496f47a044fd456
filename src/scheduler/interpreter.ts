// The iterator interpreter: a step of a fiber beyond the switch's common one (dispatcher.ts),
// resuming its innermost iterator and following its commands (a push of a body, a park, an end,
// a return to the iterator below, an error unwinding to it) until it yields, waits or ends. Out of
// line from the switch, so that the engine compiles the common step the same way every run.

import { Outcome, RunState, type Task } from "../task/task.js";
import { S_OK } from "../base/hresult.js";
import type { CoreDoor } from "../core/door.js";
import { Cmd, PENDING, isOperation, isThenable, notAResult, notAnOperation } from "../kernel/commands.js";
import { isInstance } from "../base/errors.js";

import {
  ATTENTION as ATTENTION_,
  EXTRA as EXTRA_,
  EXTRAS as EXTRAS_,
  ITER as ITER_,
  RESUME_THROW as RESUME_THROW_,
  RESUME_VALUE as RESUME_VALUE_,
  STACK as STACK_,
  YIELD_TOKEN as YIELD_TOKEN_,
} from "../task/state.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const ATTENTION: typeof ATTENTION_ = ATTENTION_;
const EXTRA: typeof EXTRA_ = EXTRA_;
const EXTRAS: typeof EXTRAS_ = EXTRAS_;
const ITER: typeof ITER_ = ITER_;
const RESUME_THROW: typeof RESUME_THROW_ = RESUME_THROW_;
const RESUME_VALUE: typeof RESUME_VALUE_ = RESUME_VALUE_;
const STACK: typeof STACK_ = STACK_;
const YIELD_TOKEN: typeof YIELD_TOKEN_ = YIELD_TOKEN_;
/** %GeneratorPrototype%, as the prototype of a constructor, for isInstance; and its next. */
const GeneratorPrototype = Object.getPrototypeOf(function* () {}).prototype as Generator;
function GeneratorObject(): void {}
GeneratorObject.prototype = GeneratorPrototype;
export const generatorNext = GeneratorPrototype.next;

/** What the dispatcher hands on (the scheduler's other parts: lifecycle.ts, requests.ts, suspension.ts). */
export interface DispatchHooks {
  /** A fiber switched out in managed mode is not resumed while the collector runs: true when held. */
  holdForGC(t: Task): boolean;
  /** A fiber's first run, and its pending requests (abort, exit, yield), before it resumes. */
  beforeResume(t: Task): void;
  /** The fiber ended: returned, or threw `value`. */
  finish(t: Task, outcome: Outcome, value: unknown): void;
  /** Ends a fiber without running its handlers (rude abort, ExitTask). */
  end(t: Task): void;
}

/**
 * What the interpreter works on: the dispatcher (dispatcher.ts). Free functions of it rather than
 * a base class of the dispatcher: with the interpreter as its base class, the switch measured
 * about 1 ns slower (27.8 → 28.8 ns in quick runs, same steps code).
 */
export interface Interpreting {
  readonly door: CoreDoor;
  readonly hooks: DispatchHooks;
  /** Puts `t` at the back of its ready level (the dispatcher's ready levels). */
  enqueue(t: Task, state?: RunState.Ready | RunState.Resumable): void;
}

/**
 * Resumes the fiber's innermost iterator and follows its commands until it yields, waits or
 * ends. Only the switch itself (a resume that yields again) stays in this loop; everything
 * rarer is out of line, so that the engine inlines the hot path the same way every run.
 */
export function drive(d: Interpreting, t: Task): void {
  for (;;) {
    const it = t[ITER]!;
    // (Guarded: the iterator is the body's, and a Proxy's getPrototypeOf trap may throw.)
    const gen = isInstance(it, GeneratorObject);
    let r: IteratorResult<unknown>;
    try {
      if (t[RESUME_THROW]) {
        r = throwInto(t, it);
      } else {
        const v = t[RESUME_VALUE];
        t[RESUME_VALUE] = undefined;
        r = gen ? generatorNext.call(it, v) : it.next(v); // (generatorNext: see steps)
      }
    } catch (err) {
      if (unwound(d, t, err)) continue;
      return;
    }
    // A plain `yield f.yield()`: see steps.
    if (r !== PENDING && gen) {
      const tok = t[YIELD_TOKEN];
      if (r.value === tok && tok !== null && !r.done && !t[ATTENTION]) {
        t[RESUME_VALUE] = S_OK;
        d.enqueue(t, RunState.Resumable);
        return;
      }
    }
    if (!handle(d, t, it, r)) return;
  }
}

/**
 * What `it`'s resume answered, other than a plain yield of f.yield(): an operation's command, a
 * return, a plain `yield op`, or something no iterator may answer. True when the fiber goes on
 * (drive resumes its innermost iterator again).
 */
export function handle(d: Interpreting, t: Task, it: Iterator<unknown>, r: IteratorResult<unknown>): boolean {
  if (r === PENDING) {
    if (PENDING.cmd === Cmd.Yield) {
      if (isInstance(it, GeneratorObject)) d.enqueue(t, RunState.Resumable);
      else d.enqueue(t);
      return false;
    }
    return command(d, t, it);
  }
  return finished(d, t, r);
}

/**
 * A resume answered something else than an operation's command: the body returned, yielded a
 * value that is not an operation, or answered what no iterator may (a non-object, a promise, a
 * result whose getters throw). True when drive goes on with the fiber. Reading the result runs
 * user code, so it is fenced here, out of the switch's hot path: what escapes is the broken
 * iterator's error, handled as if its body had thrown it.
 */
function finished(d: Interpreting, t: Task, r: IteratorResult<unknown>): boolean {
  let done: boolean;
  let value: unknown;
  try {
    if (typeof r !== "object" || r === null || isThenable(r)) throw notAResult(t.name, r);
    done = !!r.done;
    value = r.value;
  } catch (err) {
    return unwound(d, t, err);
  }
  if (done) return returned(d, t, value);
  if (isOperation(value)) {
    // A plain `yield op`: run as `yield* op` would, its answer the value of the yield.
    (t[STACK] ??= []).push(t[ITER]!);
    t[ITER] = value as unknown as Iterator<unknown>;
    return true;
  }
  yieldedNonOperation(d, t, value);
  return false;
}

function throwInto(t: Task, it: Iterator<unknown>): IteratorResult<unknown> {
  const err = t[RESUME_VALUE];
  t[RESUME_VALUE] = undefined;
  t[RESUME_THROW] = false;
  if (t[EXTRA] !== null) t[EXTRA].abortInFlight = false;
  if (typeof it.throw !== "function") throw err;
  return it.throw(err);
}

/** An error left the innermost body: true when a parent body takes it (drive goes on). */
export function unwound(d: Interpreting, t: Task, err: unknown): boolean {
  // The frames where this error first left a body (a parent may still catch it).
  const x = t[EXTRAS]();
  if (x.errorOf !== err) {
    x.errorOf = err;
    x.errorFrames = d.door.frames(t);
  }
  if (t[STACK] !== null && t[STACK].length > 0) {
    t[ITER] = t[STACK].pop()!;
    t[RESUME_THROW] = true;
    t[RESUME_VALUE] = err;
    return true;
  }
  d.hooks.finish(t, Outcome.Threw, err);
  return false;
}

/** The innermost body returned: true when its parent goes on with the value. */
function returned(d: Interpreting, t: Task, value: unknown): boolean {
  if (t[STACK] !== null && t[STACK].length > 0) {
    t[ITER] = t[STACK].pop()!;
    t[RESUME_VALUE] = value;
    return true;
  }
  d.hooks.finish(t, Outcome.Returned, value);
  return false;
}

/**
 * The fiber yielded something else than an operation: that is thrown back into it at its next
 * step, as a yield. Not at once: a body that catches it and yields again would otherwise keep
 * the run loop from ever returning to the event loop.
 */
function yieldedNonOperation(d: Interpreting, t: Task, value: unknown): void {
  t[RESUME_THROW] = true;
  t[RESUME_VALUE] = notAnOperation(t.name, value);
  d.enqueue(t);
}

/** Every command but Yield: true when drive goes on with the fiber. */
function command(d: Interpreting, t: Task, it: Iterator<unknown>): boolean {
  switch (PENDING.cmd) {
    case Cmd.Park:
      return false;
    case Cmd.Push:
      (t[STACK] ??= []).push(it);
      t[ITER] = PENDING.body!;
      PENDING.body = null;
      return true;
    case Cmd.End:
      d.hooks.end(t);
      return false;
    default:
      d.enqueue(t);
      return false;
  }
}
