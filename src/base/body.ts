// The types of a body (a fiber's, a scope's, a scoped form's): what TypeScript accepts, so that an
// async function or an async generator, which the scheduler refuses at run time (bodyKindError,
// src/kernel/commands.ts), is refused at compile time too. One place: every body-taking call uses it.

declare const ASYNC_BODY: unique symbol;

/**
 * `unknown` (no constraint) for a body's result `R`, or an object no function is, for a promise or
 * an async iterator: `FiberStart<P, R> & NotAsync<R>` then fails to compile for an async body, the
 * message naming what to write instead. (A conditional type beside the body, not around it: R is
 * still inferred from the body, through `yield*`.) A generator that returns a promise is refused
 * too: its task's result would be a promise of a promise (`Task<Promise<number>>`).
 */
export type NotAsync<R> = 0 extends 1 & R
  ? unknown // (any: a body of unknown type, as FiberStart's default)
  : [R] extends [never]
    ? unknown // (a body that always throws: `never` would distribute to never, refusing it)
    : [R] extends [PromiseLike<unknown> | AsyncIterator<unknown> | AsyncIterable<unknown>]
      ? {
          readonly [ASYNC_BODY]: "a body is a generator function (function*) or a plain function, not async: wait for a promise with yield* f.await(promise)";
        }
      : unknown;
