// The frames a hooked crossing leaves open and closes: the frames an exception could not close
// (GuestState.owed), closed by the next catch up the stack; and the start function's
// ReverseEnterRuntime on an asynchronous instantiation, opened by its first hooked import. Shared
// by the hooked imports (hook-import.ts), exports (hook-export.ts) and suspending imports
// (suspending-import.ts).

import { MUST_WAIT_FOR_RESUME } from "../core/door.js";
import { crossingError, noWait, type GuestState } from "./guest.js";

/** An import's LeaveRuntime target as the crossings' messages write it. */
export const hex = (target: number): string => `0x${target.toString(16)}`;

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
      if (entered === MUST_WAIT_FOR_RESUME && door.currentIdx() === door.rootIndex()) g.rootOwed.frames += g.owed;
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
export function unwound(g: GuestState, base: number): void {
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
export function startCalling(g: GuestState): void {
  const s = g.starting!;
  if (s.opened) return;
  const hr = g.door.reverseEnter();
  if (hr !== 0) throw crossingError(noWait(hr), "ReverseEnterRuntime failed before the guest's start function");
  s.opened = true;
}
