// The scoped forms of the sync objects (crst.lock, sem.acquire, ev.waitOrThrow): the contract's
// waits answer an HRESULT that a caller may ignore (an Enter answering HOST_E_DEADLOCK let the
// fiber into its critical section without the lock); these throw HResultError instead, and
// release what they acquired however the body ends. What they share: the operation that runs
// their steps, the argument checks (made where the operation is made, as spawn checks its body),
// and the messages.

import { Task } from "../task/task.js";
import type { NotAsync } from "../base/body.js";
import { currentFiber } from "../scheduler/driving.js";
import { Op } from "../operations/operation.js";
import { bodyKindError, bodyResultError, isIterator } from "../kernel/commands.js";
import { isInstance } from "../base/errors.js";
import { describeValue, isTimeout, isWaitOption } from "../base/args.js";
import {
  E_INVALIDARG,
  HOST_E_ABANDONED,
  HOST_E_CLRNOTAVAILABLE,
  HOST_E_DEADLOCK,
  HOST_E_INTERRUPTED,
  HOST_E_INVALIDOPERATION,
  HOST_E_NOT_OWNER,
  HOST_E_TIMEOUT,
  HResultError,
  INFINITE,
  S_OK,
} from "../base/hresult.js";

/**
 * The body of a scoped form (and of f.managed / f.unmanaged): a generator function (or a plain
 * function), called with nothing; an async one does not compile (NotAsync).
 */
// biome-ignore lint/suspicious/noExplicitAny: the body's yields receive whatever its operations answer; unknown would refuse a typed generator
export type ScopedBody<R> = (() => Iterator<unknown, R, any> | R) & NotAsync<R>;

/**
 * The operation of a scoped form: its steps are a generator (plain code, where a hand-written state
 * machine would repeat what `yield*` and try/finally already do). Bound, as every operation, to
 * the fiber that made it; made outside any fiber it throws HOST_E_INVALIDOPERATION when run.
 */
class StepsOp<R> extends Op<R> {
  /** Checked at the first step: the fiber that made it runs it (false: made outside any fiber). */
  private bound: boolean;
  constructor(
    t: Task,
    private readonly steps: Generator<unknown, R, unknown>,
    bound: boolean,
  ) {
    super(t);
    this.bound = bound;
  }
  next(v?: unknown): IteratorResult<R, R> {
    if (this.bound) {
      this.own();
      this.bound = false;
    }
    // (What the steps yield is the pending command of an operation they delegate to, typed as Op's.)
    return this.steps.next(v) as IteratorResult<R, R>;
  }
  throw(err: unknown): IteratorResult<R, R> {
    return this.steps.throw(err) as IteratorResult<R, R>;
  }
  return(value: R): IteratorResult<R, R> {
    return this.steps.return(value) as IteratorResult<R, R>;
  }
}

/** The operation that runs `steps` in fiber `t` (an `f` method's, bound to its fiber as every operation). */
export function fiberStepsOp<R>(t: Task, steps: Generator<unknown, R, unknown>): Op<R> {
  return new StepsOp(t, steps, true);
}

/** The operation that runs `steps` in the fiber running now; `call` names it for the error made outside any fiber. */
export function scopedOp<R>(rootTask: Task, steps: Generator<unknown, R, unknown>, call: () => string): Op<R> {
  const t = currentFiber();
  if (t !== null) return new StepsOp(t, steps, true);
  return new StepsOp<R>(rootTask, outside<R>(call()), false);
}

function* outside<R>(call: string): Generator<unknown, R, unknown> {
  throw new HResultError(
    HOST_E_INVALIDOPERATION,
    `${call} was made outside any fiber, where it would block: make it in a fiber and run it there with yield*`,
  );
}

/** Throws HResultError(E_INVALIDARG) naming `body` unless it can be a scoped body. */
export function checkBody(body: unknown, call: string): void {
  const wrong = bodyKindError(body, call);
  if (wrong !== null) throw new HResultError(E_INVALIDARG, wrong);
}

/** Throws HResultError(E_INVALIDARG) naming `ms` unless it is a timeout (a DWORD; INFINITE: no limit). */
export function checkTimeout(ms: unknown, call: string): void {
  if (!isTimeout(ms))
    throw new HResultError(
      E_INVALIDARG,
      `${call}: ms takes a whole number of milliseconds in 0 … 2^32−1 (INFINITE, or omitted: no limit), not ${describeValue(ms)}`,
    );
}

/** Throws HResultError(E_INVALIDARG) naming `option` unless it is a WAIT_OPTION. */
export function checkOption(option: unknown, call: string): void {
  if (!isWaitOption(option))
    throw new HResultError(
      E_INVALIDARG,
      `${call}: option takes WAIT_ALERTABLE, WAIT_NOTINDEADLOCK and WAIT_MSGPUMP combined (0: none), not ${describeValue(option)}`,
    );
}

/**
 * Runs `body` holding what was acquired, then `release()`s it: after the body returns, throws, or
 * is unwound by an abort (and, should the generator be closed without unwinding, then too). A
 * release that fails throws HResultError, the body's own error (if it threw) as its `cause`, as a
 * failing closing transition of f.managed does.
 */
export function* holding<R>(body: ScopedBody<R>, call: string, release: () => number): Generator<unknown, R, unknown> {
  let released = false;
  try {
    const value = yield* runBody(body, call);
    released = true;
    const hr = release();
    if (hr !== S_OK) throw releaseFailure(call, hr);
    return value;
  } catch (err) {
    if (released) throw err; // the release's own failure
    released = true;
    const hr = release();
    if (hr !== S_OK) throw releaseFailure(call, hr, err);
    throw err;
  } finally {
    if (!released) release(); // closed by return(): nothing is thrown from here
  }
}

/** Calls the body and runs what it gave (an iterator), or answers it (a plain function's value). */
function* runBody<R>(body: ScopedBody<R>, call: string): Generator<unknown, R, unknown> {
  const r = body();
  // What the call gave is user code too: a promise or an async iterator would never be driven.
  const wrong = bodyResultError(r, `the body of ${call}`);
  if (wrong !== null) throw new HResultError(E_INVALIDARG, wrong);
  // (A task is a value: a fiber's task has next, its wait face, and is no body to drive.)
  if (isInstance(r, Task) || !isIterator(r)) return r as R;
  // A generator object is its own iterable; a bare iterator (next alone) is given one.
  const it = r as Iterator<unknown, R> & Partial<Iterable<unknown>>;
  if (typeof it[Symbol.iterator] === "function") return (yield* it as Iterable<unknown>) as R;
  return yield* new Iterated(it);
}

/** A bare iterator (an object with next alone), made iterable for `yield*`. */
class Iterated<R> {
  constructor(private readonly it: Iterator<unknown, R>) {}
  [Symbol.iterator](): Iterator<unknown, R> {
    return this.it;
  }
}

/**
 * The error of an acquire that did not answer S_OK: what failed, that the body did not run, and
 * what to do. `what` is the object as messages show it (`crst "a" owned by task 3 (b)`), `closed`
 * whether it is closed now, `ms` the timeout given.
 */
export function acquireFailure(
  call: string,
  what: string,
  hr: number,
  ms: number,
  closed: boolean,
  isCrst: boolean,
): HResultError {
  const none = isCrst ? "nothing was entered and the body did not run" : "nothing was acquired";
  let why: string;
  switch (hr >>> 0) {
    case HOST_E_DEADLOCK:
      why = `waiting for ${what} would deadlock: it is held, through a chain of waits, by something waiting for this fiber; ${none}. Take locks in one order in every fiber, or release what this fiber holds before it waits (WAIT_NOTINDEADLOCK waits anyway)`;
      break;
    case HOST_E_TIMEOUT:
      why = `${what} was not ${isCrst ? "entered" : "acquired"} within ${ms === INFINITE ? "the time allowed" : `${ms} ms`}; ${none}. Give it longer, or handle the HResultError (error.hr === HOST_E_TIMEOUT)`;
      break;
    case HOST_E_INTERRUPTED:
      why = `the alertable wait for ${what} was interrupted by task.alert(); ${none}. Handle the alert, or wait without WAIT_ALERTABLE`;
      break;
    case HOST_E_ABANDONED:
      why = closed
        ? `${what} was closed (close()); ${none}. Do not use an object after closing it`
        : `${what} was abandoned: its owner ended while it held it, so what it guards may be half-changed; ${none}`;
      break;
    case HOST_E_INVALIDOPERATION:
      why = `the wait could block and there is no fiber to park (outside a fiber, or a fiber that has ended); ${none}`;
      break;
    case E_INVALIDARG:
      why = `${what} belongs to another host than the fiber running it; ${none}. Use an object in the fibers of the host that created it`;
      break;
    case HOST_E_CLRNOTAVAILABLE:
      why = `the runtime is not available (not started, or disabled); ${none}`;
      break;
    default:
      why = `the wait for ${what} failed; ${none}`;
  }
  return new HResultError(hr, `${call}: ${why}`);
}

/** The error of a release that failed after the body: HOST_E_NOT_OWNER when the body left it itself. */
function releaseFailure(call: string, hr: number, cause?: unknown): HResultError {
  const why =
    hr >>> 0 === HOST_E_NOT_OWNER
      ? "the body left it itself (crst.leave() inside the body): leave it only as often as the body entered it"
      : hr >>> 0 === E_INVALIDARG
        ? "the semaphore is at its maximum: the body released a unit it had not acquired"
        : hr >>> 0 === HOST_E_CLRNOTAVAILABLE
          ? "the runtime is not available any more (disabled while the body ran)"
          : "the release after the body failed";
  const err = new HResultError(hr, `${call}: ${why}`);
  if (cause !== undefined) Object.defineProperty(err, "cause", { value: cause, configurable: true, writable: true });
  return err;
}
