// The hooked form of a synchronous import: called by the guest between LeaveRuntime(target) and
// EnterRuntime on the current task (the door's: the running fiber's, or the root task's). Made per
// arity, so a crossing allocates nothing; a failing transition throws HResultError and the crossing
// does not happen; an exception passing through closes the pair (crossing-frames.ts).

import { HOST_E_INVALIDOPERATION } from "../base/hresult.js";
import { crossingError, dropPromise, isThenable, noWait, type GuestState, type AnyFn } from "./guest.js";
import { closeOwed, hex, startCalling } from "./crossing-frames.js";

/** A promise from an import that is not suspending: the guest would read it as a number. */
function notSuspending(p: PromiseLike<unknown>, key: string): Error {
  dropPromise(p);
  return crossingError(
    HOST_E_INVALIDOPERATION,
    `import ${key} answered a promise, but it is not a suspending import: name it in instantiate's options.suspending (or make it an async function)`,
  );
}

/**
 * The hooked form of a synchronous import. `arity`: its parameter count, when every import of it
 * has the same (-1: rest parameters). Every transition after the LeaveRuntime sits inside the
 * try, so a frame is closed, or counted as owed, whatever throws, even a JS stack overflow.
 */
export function hookImport(g: GuestState, fn: AnyFn, target: number, key: string, arity: number): AnyFn {
  const door = g.door;
  const out = (): void => {
    if (g.starting !== null) startCalling(g);
    const hr = door.leave(target);
    if (hr !== 0) throw crossingError(hr, `LeaveRuntime(${hex(target)}) failed calling import ${key}`);
  };
  const back = (hr: number, r: unknown): unknown => {
    if (hr !== 0) {
      g.owed++; // the LeaveRuntime frame is still open
      closeOwed(g);
      throw crossingError(noWait(hr), `EnterRuntime failed returning from import ${key}`);
    }
    if (isThenable(r)) throw notSuspending(r, key);
    return r;
  };
  // Each form writes its catch out in full rather than calling a helper: at a JS stack overflow
  // the call to the helper would itself throw before the frame is counted as owed.
  switch (arity) {
    case 0:
      return () => {
        out();
        let r: unknown;
        let hr: number;
        try {
          r = fn();
          hr = door.enter();
        } catch (e) {
          g.owed++;
          try {
            closeOwed(g);
          } catch {}
          throw e;
        }
        return back(hr, r);
      };
    case 1:
      return (a: unknown) => {
        out();
        let r: unknown;
        let hr: number;
        try {
          r = fn(a);
          hr = door.enter();
        } catch (e) {
          g.owed++;
          try {
            closeOwed(g);
          } catch {}
          throw e;
        }
        return back(hr, r);
      };
    case 2:
      return (a: unknown, b: unknown) => {
        out();
        let r: unknown;
        let hr: number;
        try {
          r = fn(a, b);
          hr = door.enter();
        } catch (e) {
          g.owed++;
          try {
            closeOwed(g);
          } catch {}
          throw e;
        }
        return back(hr, r);
      };
    case 3:
      return (a: unknown, b: unknown, c: unknown) => {
        out();
        let r: unknown;
        let hr: number;
        try {
          r = fn(a, b, c);
          hr = door.enter();
        } catch (e) {
          g.owed++;
          try {
            closeOwed(g);
          } catch {}
          throw e;
        }
        return back(hr, r);
      };
    default:
      return (...args: unknown[]) => {
        out();
        let r: unknown;
        let hr: number;
        try {
          r = fn(...args);
          hr = door.enter();
        } catch (e) {
          g.owed++;
          try {
            closeOwed(g);
          } catch {}
          throw e;
        }
        return back(hr, r);
      };
  }
}
