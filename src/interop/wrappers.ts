// The hooked crossings: an export called from JS runs between ReverseEnterRuntime and
// ReverseLeaveRuntime, an import called by the guest between LeaveRuntime(target) and
// EnterRuntime, both on the current task (the door's: the running fiber's, or the root task's).
// Wrappers are made per arity, so a crossing allocates nothing; a failing transition throws
// HResultError and the crossing does not happen; an exception passing through closes the pair.

import { HOST_E_INVALIDOPERATION } from "../base/hresult.js";
import { MUST_WAIT_FOR_RESUME } from "../core/door.js";
import {
  EXPORT,
  crossingError,
  dropPromise,
  isThenable,
  noWait,
  type ExportInfo,
  type GuestState,
  type AnyFn,
} from "./guest.js";

const hex = (target: number): string => `0x${target.toString(16)}`;

/** A promise from an import that is not suspending: the guest would read it as a number. */
function notSuspending(p: PromiseLike<unknown>, key: string): Error {
  dropPromise(p);
  return crossingError(
    HOST_E_INVALIDOPERATION,
    `import ${key} answered a promise, but it is not a suspending import: name it in instantiate's options.suspending (or make it an async function)`,
  );
}

/** The root task's slot. */
const ROOT_IDX = 0;

/**
 * Closes the frames an exception left open (GuestState.owed), top first. Called in a catch with
 * the exception's own frame counted in: a call that overflows the JS stack again leaves the rest
 * to the next catch up the stack, where there is more room. Each transition either happens whole
 * or not at all (a RangeError comes at a call's entry), so nothing is closed twice.
 */
export function closeOwed(g: GuestState): void {
  const door = g.door;
  while (g.owed > 0) {
    // The owed frames are the task's top frames: a LeaveRuntime frame closes with EnterRuntime,
    // a ReverseEnterRuntime frame with ReverseLeaveRuntime (the other answers INVALIDOPERATION).
    const entered = door.enter();
    const hr = entered === 0 ? 0 : door.reverseLeave();
    if (hr !== 0) {
      // Refused, not short of stack: unwinding further cannot close them. On the root task,
      // refused because the runtime is suspended (an import suspended it), they are closed when
      // it resumes; otherwise they stay open, as the core has them (a fiber's end clears them).
      if (entered === MUST_WAIT_FOR_RESUME && door.currentIdx() === ROOT_IDX) g.rootOwed.frames += g.owed;
      g.owed = 0;
      return;
    }
    g.owed--;
  }
}

/**
 * An exception leaves a hooked export call (its frame already counted as owed, in the catch block
 * itself: a call made there may overflow). Inner calls close what they can; the outermost call (base: the task's depth before its frame), where the stack has room
 * again, closes every frame still open above base, however many the inner ones could not count: at
 * the very edge of a stack overflow even a catch block's bookkeeping can fail (Chromium: frames were
 * left open). Called inside a try: at the edge, the call itself may overflow.
 */
function unwound(g: GuestState, base: number): void {
  if (base >= 0) {
    g.depth = 0;
    const open = g.door.currentDepth() - base;
    g.owed = Math.max(open, 0);
  }
  closeOwed(g);
}

/**
 * Opens the start function's ReverseEnterRuntime on an asynchronous instantiation (see
 * GuestState.starting): the start's first hooked import is the first moment we see it run.
 */
function startCalling(g: GuestState): void {
  const s = g.starting!;
  if (s.opened) return;
  const hr = g.door.reverseEnter();
  if (hr !== 0) throw crossingError(noWait(hr), "ReverseEnterRuntime failed before the guest's start function");
  s.opened = true;
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

/**
 * The hooked form of an export. `fence` (JSPI only) fences the call: a nested plain call must not
 * reach a suspending import's suspending path. As in hookImport, the ReverseLeaveRuntime sits
 * inside the try: an exception, a stack overflow included, closes the frame or leaves it owed.
 */
export function hookExport(
  g: GuestState,
  raw: AnyFn,
  name: string,
  fence: { save(): number; restore(v: number): void } | null,
): AnyFn {
  const door = g.door;
  // The outermost hooked call answers the task's depth before its frame (see unwound), the others -1.
  const open = (): number => {
    const base = g.depth === 0 ? door.currentDepth() : -1;
    const hr = door.reverseEnter();
    if (hr !== 0) throw crossingError(noWait(hr), `ReverseEnterRuntime failed calling export ${name}`);
    g.depth++;
    return base;
  };
  const closed = (hr: number): void => {
    if (hr !== 0) throw crossingError(hr, `ReverseLeaveRuntime failed returning from export ${name}`);
  };
  let hooked: AnyFn;
  if (fence !== null) {
    hooked = (...args: unknown[]) => {
      const saved = fence.save(); // before the frame: a stack overflow here leaves nothing open
      let base: number;
      try {
        base = open();
      } catch (e) {
        fence.restore(saved);
        throw e;
      }
      let r: unknown;
      let hr: number;
      try {
        r = raw(...args);
        hr = door.reverseLeave();
      } catch (e) {
        fence.restore(saved);
        g.depth--;
        g.owed++;
        try {
          unwound(g, base);
        } catch {}
        throw e;
      }
      fence.restore(saved);
      g.depth--;
      closed(hr);
      return r;
    };
  } else {
    switch (raw.length) {
      case 0:
        hooked = () => {
          const base = open();
          let r: unknown;
          let hr: number;
          try {
            r = raw();
            hr = door.reverseLeave();
          } catch (e) {
            g.depth--;
            g.owed++;
            try {
              unwound(g, base);
            } catch {}
            throw e;
          }
          g.depth--;
          closed(hr);
          return r;
        };
        break;
      case 1:
        hooked = (a: unknown) => {
          const base = open();
          let r: unknown;
          let hr: number;
          try {
            r = raw(a);
            hr = door.reverseLeave();
          } catch (e) {
            g.depth--;
            g.owed++;
            try {
              unwound(g, base);
            } catch {}
            throw e;
          }
          g.depth--;
          closed(hr);
          return r;
        };
        break;
      case 2:
        hooked = (a: unknown, b: unknown) => {
          const base = open();
          let r: unknown;
          let hr: number;
          try {
            r = raw(a, b);
            hr = door.reverseLeave();
          } catch (e) {
            g.depth--;
            g.owed++;
            try {
              unwound(g, base);
            } catch {}
            throw e;
          }
          g.depth--;
          closed(hr);
          return r;
        };
        break;
      case 3:
        hooked = (a: unknown, b: unknown, c: unknown) => {
          const base = open();
          let r: unknown;
          let hr: number;
          try {
            r = raw(a, b, c);
            hr = door.reverseLeave();
          } catch (e) {
            g.depth--;
            g.owed++;
            try {
              unwound(g, base);
            } catch {}
            throw e;
          }
          g.depth--;
          closed(hr);
          return r;
        };
        break;
      default:
        hooked = (...args: unknown[]) => {
          const base = open();
          let r: unknown;
          let hr: number;
          try {
            r = raw(...args);
            hr = door.reverseLeave();
          } catch (e) {
            g.depth--;
            g.owed++;
            try {
              unwound(g, base);
            } catch {}
            throw e;
          }
          g.depth--;
          closed(hr);
          return r;
        };
    }
  }
  const info: ExportInfo = { guest: g, raw, name };
  // One property, added once (redefining `name` as well would leave the function in dictionary
  // mode, and f.call's lookup of EXPORT about 6 ns slower).
  Object.defineProperty(hooked, EXPORT, { value: info });
  return hooked;
}

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
      return g.driver!.answer();
    }
    // Asked before the import runs (which may nest calls, but leaves depth and driver as they
    // were): nothing between the import's answer and its frame's close can overflow the stack.
    const d = a !== null ? g.driverNow() : null;
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
    r = fn(...args);
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
