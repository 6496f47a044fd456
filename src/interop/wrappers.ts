// The hooked crossings: an export called from JS runs between ReverseEnterRuntime and
// ReverseLeaveRuntime, an import called by the guest between LeaveRuntime(target) and
// EnterRuntime, both on the current task (the door's: the running fiber's, or the root task's).
// Wrappers are made per arity, so a crossing allocates nothing; a failing transition throws
// HResultError and the crossing does not happen; an exception passing through closes the pair.

import { HOST_E_INVALIDOPERATION } from "../hresult.js";
import { EXPORT, crossingError, dropPromise, isThenable, noWait, type ExportInfo, type GuestState } from "./guest.js";

type AnyFn = (...args: any[]) => any;

const hex = (target: number): string => `0x${target.toString(16)}`;

/** A promise from an import that is not suspending: the guest would read it as a number. */
function notSuspending(p: PromiseLike<unknown>, key: string): Error {
  dropPromise(p);
  return crossingError(
    HOST_E_INVALIDOPERATION,
    `import ${key} answered a promise, but it is not a suspending import: name it in instantiate's options.suspending (or make it an async function)`,
  );
}

/** The hooked form of a synchronous import. `arity`: its parameter count, when known. */
export function hookImport(g: GuestState, fn: AnyFn, target: number, key: string, arity: number): AnyFn {
  const door = g.door;
  const out = (): void => {
    const hr = door.leave(target);
    if (hr !== 0) throw crossingError(hr, `LeaveRuntime(${hex(target)}) failed calling import ${key}`);
  };
  const back = (r: unknown): unknown => {
    const hr = door.enter();
    if (hr !== 0) throw crossingError(noWait(hr), `EnterRuntime failed returning from import ${key}`);
    if (isThenable(r)) throw notSuspending(r, key);
    return r;
  };
  // The exception wins: if the enter fails too, the core has said why in its counters.
  const threw = (): void => void door.enter();
  switch (arity) {
    case 0:
      return () => {
        out();
        let r: unknown;
        try {
          r = fn();
        } catch (e) {
          threw();
          throw e;
        }
        return back(r);
      };
    case 1:
      return (a: unknown) => {
        out();
        let r: unknown;
        try {
          r = fn(a);
        } catch (e) {
          threw();
          throw e;
        }
        return back(r);
      };
    case 2:
      return (a: unknown, b: unknown) => {
        out();
        let r: unknown;
        try {
          r = fn(a, b);
        } catch (e) {
          threw();
          throw e;
        }
        return back(r);
      };
    case 3:
      return (a: unknown, b: unknown, c: unknown) => {
        out();
        let r: unknown;
        try {
          r = fn(a, b, c);
        } catch (e) {
          threw();
          throw e;
        }
        return back(r);
      };
    default:
      return (...args: unknown[]) => {
        out();
        let r: unknown;
        try {
          r = fn(...args);
        } catch (e) {
          threw();
          throw e;
        }
        return back(r);
      };
  }
}

/**
 * The hooked form of an export. `beforeCall`/`afterCall` (JSPI only) fence the call: a nested
 * plain call must not reach a suspending import's suspending path.
 */
export function hookExport(
  g: GuestState,
  raw: AnyFn,
  name: string,
  fence: { save(): number; restore(v: number): void } | null,
): AnyFn {
  const door = g.door;
  const open = (): void => {
    const hr = door.reverseEnter();
    if (hr !== 0) throw crossingError(noWait(hr), `ReverseEnterRuntime failed calling export ${name}`);
    g.depth++;
  };
  const close = (): void => {
    g.depth--;
    const hr = door.reverseLeave();
    if (hr !== 0) throw crossingError(hr, `ReverseLeaveRuntime failed returning from export ${name}`);
  };
  const threw = (): void => {
    g.depth--;
    door.reverseLeave();
  };
  let hooked: AnyFn;
  if (fence !== null) {
    hooked = (...args: unknown[]) => {
      open();
      const saved = fence.save();
      let r: unknown;
      try {
        r = raw(...args);
      } catch (e) {
        fence.restore(saved);
        threw();
        throw e;
      }
      fence.restore(saved);
      close();
      return r;
    };
  } else {
    switch (raw.length) {
      case 0:
        hooked = () => {
          open();
          let r: unknown;
          try {
            r = raw();
          } catch (e) {
            threw();
            throw e;
          }
          close();
          return r;
        };
        break;
      case 1:
        hooked = (a: unknown) => {
          open();
          let r: unknown;
          try {
            r = raw(a);
          } catch (e) {
            threw();
            throw e;
          }
          close();
          return r;
        };
        break;
      case 2:
        hooked = (a: unknown, b: unknown) => {
          open();
          let r: unknown;
          try {
            r = raw(a, b);
          } catch (e) {
            threw();
            throw e;
          }
          close();
          return r;
        };
        break;
      case 3:
        hooked = (a: unknown, b: unknown, c: unknown) => {
          open();
          let r: unknown;
          try {
            r = raw(a, b, c);
          } catch (e) {
            threw();
            throw e;
          }
          close();
          return r;
        };
        break;
      default:
        hooked = (...args: unknown[]) => {
          open();
          let r: unknown;
          try {
            r = raw(...args);
          } catch (e) {
            threw();
            throw e;
          }
          close();
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
 */
export function suspendingImport(g: GuestState, fn: AnyFn, target: number, hooked: boolean, key: string): AnyFn {
  const door = g.door;
  const back = (): void => {
    if (!hooked) return;
    const hr = door.enter();
    if (hr !== 0) throw crossingError(noWait(hr), `EnterRuntime failed returning from import ${key}`);
  };
  return (...args: unknown[]) => {
    const a = g.asyncify;
    if (a !== null && a.rewinding) {
      a.stopRewind();
      return g.driver!.answer();
    }
    if (hooked) {
      const hr = door.leave(target);
      if (hr !== 0) throw crossingError(hr, `LeaveRuntime(${hex(target)}) failed calling import ${key}`);
    }
    let r: unknown;
    try {
      r = fn(...args);
    } catch (e) {
      if (hooked) door.enter();
      throw e;
    }
    if (!isThenable(r)) {
      back();
      return r;
    }
    const d = a !== null ? g.driverNow() : null;
    if (d === null) {
      dropPromise(r);
      back();
      throw cannotSuspend(g, key);
    }
    d.suspend(r, hooked, key);
    a!.startUnwind();
    return 0; // not read: the guest unwinds
  };
}
