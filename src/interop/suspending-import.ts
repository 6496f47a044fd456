// A suspending import's crossing: LeaveRuntime(target) when hooked, the import, and EnterRuntime
// after a plain answer; a promise keeps the LeaveRuntime frame open while the f.call that drives
// the guest waits. suspendingImport is asyncify's (and suspension 'none''s) form; JSPI's
// (jspi.ts) shares crossSuspending and cannotSuspend.

import { HOST_E_INVALIDOPERATION } from "../base/hresult.js";
import { MUST_WAIT_FOR_RESUME } from "../core/door.js";
import { callRaw, crossingError, dropPromise, isThenable, noWait, type GuestState, type AnyFn } from "./guest.js";
import { closeOwed, hex, startCalling } from "./crossing-frames.js";

/** Why a suspending import's promise cannot be waited for here. */
export function cannotSuspend(g: GuestState, key: string): Error {
  const why =
    g.mode === "none"
      ? "this guest cannot suspend (suspension 'none': build it with Binaryen's asyncify pass, or use JSPI where the engine has it)"
      : "only the guest call of a `yield* f.call(export, …)` can suspend, and only from that call itself (not from a plain export call, nor from a call nested through an import)";
  return crossingError(HOST_E_INVALIDOPERATION, `import ${key} answered a promise, but ${why}`);
}

/**
 * A suspending import on the asyncify path (or, with suspension 'none', one that cannot suspend).
 * A promise answered inside an f.call's own guest call starts the unwind, and the import's
 * LeaveRuntime frame stays open while the fiber waits; the f.call closes it (EnterRuntime) before
 * it rewinds, and the rewind reaches this import again, which then answers the promise's outcome.
 * An import that suspends the runtime (a collector called from the guest) is waited for the same
 * way: in an f.call's own guest call, the EnterRuntime that the suspension refuses becomes the
 * f.call's, which waits for the resume; anywhere else it is refused (HOST_E_TIMEOUT).
 */
export function suspendingImport(g: GuestState, fn: AnyFn, target: number, hooked: boolean, key: string): AnyFn {
  const door = g.door;
  const refused = (hr: number): Error => {
    g.owed++; // the LeaveRuntime frame is still open
    closeOwed(g);
    return crossingError(noWait(hr), `EnterRuntime failed returning from import ${key}`);
  };
  return (...args: unknown[]) => {
    const a = g.asyncify;
    if (a !== null && a.rewinding) {
      a.stopRewind();
      return g.call!.answer();
    }
    // Asked before the import runs (which may nest calls, but leaves depth and driver as they
    // were): nothing between the import's answer and its frame's close can overflow the stack.
    const d = a !== null ? g.callNow() : null;
    let r = crossSuspending(g, fn, args, target, hooked, key);
    let hr = crossed.hr;
    if (!crossed.thenable) {
      if (hr === 0) return r;
      if (hr !== MUST_WAIT_FOR_RESUME || d === null) throw refused(hr);
      // The import suspended the runtime: the guest waits for the resume as for a settled promise.
      r = Promise.resolve(r);
    } else if (d === null) {
      let open = hooked; // the LeaveRuntime frame
      try {
        if (hooked) {
          hr = door.enter();
          open = hr !== 0;
        }
        dropPromise(r as PromiseLike<unknown>);
      } catch (e) {
        if (open) {
          g.owed++;
          try {
            closeOwed(g);
          } catch {}
        }
        throw e;
      }
      if (hr !== 0) throw refused(hr);
      throw cannotSuspend(g, key);
    }
    d!.suspend(r as PromiseLike<unknown>, hooked, key);
    a!.startUnwind();
    return 0; // not read: the guest unwinds
  };
}

/** What the last crossSuspending left for its caller, read at once (a slot: the crossing allocates nothing). */
export const crossed = { thenable: false, hr: 0 };

/**
 * A suspending import's crossing, asyncify's (suspendingImport) and JSPI's (jspi.ts) alike:
 * LeaveRuntime(target) when hooked, the import, and after a plain answer EnterRuntime; answers
 * the import's answer, with crossed.thenable (a promise: its LeaveRuntime frame stays open for
 * the caller) and crossed.hr (the EnterRuntime's HRESULT; 0 unhooked or after a promise). Every
 * transition after the LeaveRuntime sits inside the try, as in hookImport: an exception passing
 * through, a JS stack overflow included, closes the frame or leaves it owed.
 */
export function crossSuspending(
  g: GuestState,
  fn: AnyFn,
  args: unknown[],
  target: number,
  hooked: boolean,
  key: string,
): unknown {
  const door = g.door;
  if (hooked) {
    if (g.starting !== null) startCalling(g);
    const hr = door.leave(target);
    if (hr !== 0) throw crossingError(hr, `LeaveRuntime(${hex(target)}) failed calling import ${key}`);
  }
  let r: unknown;
  let hr = 0;
  let thenable = false;
  try {
    r = callRaw(fn, args);
    thenable = isThenable(r);
    // A plain answer returns at once; a promise keeps the LeaveRuntime frame open meanwhile.
    if (hooked && !thenable) hr = door.enter();
  } catch (e) {
    if (hooked) {
      g.owed++;
      try {
        closeOwed(g);
      } catch {}
    }
    throw e;
  }
  crossed.thenable = thenable;
  crossed.hr = hr;
  return r;
}
