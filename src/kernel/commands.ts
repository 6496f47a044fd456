// The commands an operation hands the scheduler, and what a body may be. An operation (its class:
// src/operations/operation.ts) is what a fiber delegates to with `yield*`: an iterator that finishes at
// once when it can and hands the scheduler a command when it cannot. `yield*` passes the
// operation's pending result object straight through to the scheduler, which reads the command
// from it; nothing is allocated for it.

import { describeValue } from "../base/args.js";
import { E_INVALIDARG, HResultError } from "../base/hresult.js";
import { isInstance } from "../base/errors.js";

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
 * The pending result every operation hands the scheduler: `{ value: undefined, done: false }` plus
 * the command (and, for Cmd.Push, the body). One object for every operation of every host: the
 * scheduler reads it before any other code runs, and its reads of one shape stay fast however
 * many kinds of operations a program uses (a result per operation class made them megamorphic:
 * a switch cost twice as much once a program had used a few kinds). Its value stays undefined:
 * the driver never reads it, and an operation stored there would be a write barrier a command and
 * would outlive its wait.
 */
export const PENDING: { readonly value: undefined; readonly done: false; cmd: Cmd; body: Iterator<unknown> | null } = {
  value: undefined,
  done: false,
  cmd: Cmd.Yield,
  body: null,
};

/** Hands the scheduler command `cmd` (and, for Cmd.Push, the body to run) through PENDING. */
export function handOver<R>(cmd: Cmd, body: Iterator<unknown> | null = null): IteratorResult<R, R> {
  PENDING.cmd = cmd;
  PENDING.body = body;
  return PENDING as unknown as IteratorResult<R, R>;
}

/**
 * What every operation is (src/operations/operation.ts): a fiber may also hand one to the scheduler with a
 * plain `yield`, which then runs it as `yield*` would (the fiber's f.yield() token, without it).
 */
export abstract class Operation {}

/** Is `v` an operation? False where asking runs user code that throws (a revoked Proxy). */
export function isOperation(v: unknown): boolean {
  return isInstance(v, Operation);
}

/** What a fiber that yielded `value`, not an operation, has thrown into it. */
export function notAnOperation(fiber: string, value: unknown): HResultError {
  return new HResultError(
    E_INVALIDARG,
    `fiber ${fiber} yielded ${describeKind(value)}: a fiber yields only operations of its context (yield* op, or yield op)` +
      (isThenableSafe(value) ? " (for a promise: yield* f.await(promise))" : ""),
  );
}

/** An iterator answered next() with `r`, not an iterator result. */
export function notAResult(fiber: string, r: unknown): HResultError {
  const hint = isThenable(r)
    ? "an async iterator? write a generator function and use f.await"
    : "a body is a generator";
  return new HResultError(
    E_INVALIDARG,
    `an iterator of fiber ${fiber} answered next() with ${describeKind(r)}, not an iterator result: ${hint}`,
  );
}

/**
 * Is `v` an iterator (a generator object, or anything with next)? May run user code (a getter, a
 * Proxy trap): callers contain what it throws.
 */
export function isIterator(v: unknown): v is Iterator<unknown> {
  return typeof v === "object" && v !== null && typeof (v as Iterator<unknown>).next === "function";
}

/** Is `v` a thenable (a Promise, or anything with then)? May run user code, like isIterator. */
export function isThenable(v: unknown): boolean {
  return (
    (typeof v === "object" || typeof v === "function") &&
    v !== null &&
    typeof (v as PromiseLike<unknown>).then === "function"
  );
}

const AsyncFunctionPrototype = Object.getPrototypeOf(async () => {});
const AsyncGeneratorFunctionPrototype = Object.getPrototypeOf(async function* () {});

/**
 * Why `fn` cannot be a fiber body, or null when it can (a generator function or a plain function:
 * what a call gives is checked again when it is made). An async function or an async generator
 * function runs on promises, beside the scheduler: its operations would never be driven.
 */
export function bodyKindError(fn: unknown, what: string): string | null {
  if (typeof fn !== "function") return `${what} takes a generator function, not ${describeValue(fn)}`;
  let proto: unknown;
  try {
    proto = Object.getPrototypeOf(fn); // a revoked Proxy throws here
  } catch {
    return `${what} takes a generator function, not ${describeValue(fn)}`;
  }
  if (proto === AsyncGeneratorFunctionPrototype) {
    return `${what} takes a generator function (function*), not an async generator function: write a generator function and use f.await for promises`;
  }
  if (proto === AsyncFunctionPrototype) {
    return `${what} takes a generator function (function*), not an async function: write a generator function and use f.await`;
  }
  return null;
}

/**
 * Why what a body's call gave cannot be run, or null when it can: a sync iterator, or a plain
 * value (a plain function's result). An async iterator or a thenable would make the scheduler
 * resume promises, never an operation. May run user code: callers contain what it throws.
 */
export function bodyResultError(v: unknown, what: string): string | null {
  if (typeof v !== "object" && typeof v !== "function") return null;
  if (v === null) return null;
  if (
    typeof (v as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function" &&
    typeof (v as Iterator<unknown>).next === "function"
  ) {
    return `${what} gave an async iterator (an async generator?), not an iterator: write a generator function and use f.await for promises`;
  }
  if (isThenable(v))
    return `${what} gave a Promise (a thenable), not an iterator: write a generator function and use f.await`;
  return null;
}

/** What kind of value `v` is, for a message: a thenable is named so; anything else as describeValue shows it. */
export function describeKind(v: unknown): string {
  return typeof v === "object" && v !== null && isThenableSafe(v) ? "a Promise (a thenable)" : describeValue(v);
}

/** isThenable, answering false where asking runs user code that throws. */
export function isThenableSafe(v: unknown): boolean {
  try {
    return isThenable(v);
  } catch {
    return false;
  }
}
