// The hooked form of an export: called from JS, it runs between ReverseEnterRuntime and
// ReverseLeaveRuntime on the current task (the door's: the running fiber's, or the root task's).
// Made per arity, so a crossing allocates nothing; a failing transition throws HResultError and
// the crossing does not happen; an exception passing through closes the pair (crossing-frames.ts).

import { EXPORT, crossingError, noWait, type ExportInfo, type GuestState, type AnyFn } from "./guest.js";
import { unwound } from "./crossing-frames.js";

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
  // Each form below writes its catch out in full rather than calling a helper: at a JS stack
  // overflow the call to the helper would itself throw before the frame is counted as owed
  // (test/interop-hostile.test.ts's runaway recursion fails so), and g.depth-- comes before
  // closed() for the same reason.
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
