// The four transitions. The rule of each one is a row of RULES: what it does given the kind of
// the task's top frame. The host layer's fast path reads the same table from linear memory, so
// the rules are written once, here.

import {
  ACT_INVALID, ACT_PUSH_LEAVE, ACT_PUSH_REVERSE, ACT_POP, OP_ENTER, OP_REVERSE_ENTER, OP_REVERSE_LEAVE,
  CTL_NOT_STARTED, CTL_DISABLED, CTL_SUSPENDED, EV_TRANSITION, EV_FAILED,
} from "./layout";
import { ctl, currentIdx, slotAddr, enterCore } from "./state";
import { count, canCount } from "./side";
import { topKind, push, pop } from "./frames";
import { traceEvent } from "./trace";
import { honourYield } from "./tasks";
import {
  S_OK, E_INVALIDARG, E_OUTOFMEMORY, HOST_E_INVALIDOPERATION, HOST_E_CLRNOTAVAILABLE, MUST_WAIT_FOR_RESUME,
} from "./hresult";

/**
 * RULES[op * 3 + topKind]: the action of transition `op` on a task whose top frame is `topKind`.
 * The core's only static data, and read-only: a shared memory's active data segment is written
 * again at every instantiation (each worker's), which only rewrites the same bytes.
 */
export const RULES: usize = memory.data<i32>([
  // top frame:    none              LeaveRuntime      ReverseEnterRuntime
  /* Leave    */ ACT_INVALID,      ACT_INVALID,      ACT_PUSH_LEAVE,   // only managed code can leave the runtime
  /* Enter    */ ACT_INVALID,      ACT_POP,          ACT_INVALID,      // returns from an outstanding LeaveRuntime
  /* RevEnter */ ACT_PUSH_REVERSE, ACT_PUSH_REVERSE, ACT_PUSH_REVERSE, // legal with no frames: a task born unmanaged
  /* RevLeave */ ACT_INVALID,      ACT_INVALID,      ACT_POP,          // returns from an open ReverseEnterRuntime
]);

/** ENTERS_MANAGED: transitions that return the task to managed code, so wait while the runtime is suspended. */
// @ts-ignore: decorator
@inline function entersManaged(op: i32): bool {
  return op == OP_ENTER || op == OP_REVERSE_ENTER;
}

/** A refused transition is traced with its answer; only refusals pay for this (never the fast path). */
function refused(op: i32, idx: i32, hr: i32): i32 {
  traceEvent(EV_FAILED + op, idx, hr);
  return hr;
}

/**
 * A transition on the current task. Answers S_OK, HOST_E_INVALIDOPERATION, COR_E_STACKOVERFLOW,
 * E_OUTOFMEMORY, HOST_E_CLRNOTAVAILABLE, or MUST_WAIT_FOR_RESUME (not an HRESULT: see assembly/hresult.ts).
 * Nothing changes unless the answer is S_OK.
 */
export function transition(op: i32, target: u32): i32 {
  enterCore();
  const c = ctl();
  if (c & (CTL_NOT_STARTED | CTL_DISABLED)) return HOST_E_CLRNOTAVAILABLE;
  if (<u32>op > <u32>OP_REVERSE_LEAVE) return E_INVALIDARG;
  const idx = currentIdx();
  const slot = slotAddr(idx);
  const act = load<i32>(RULES + (<usize>(op * 3 + topKind(slot)) << 2));
  if (act == ACT_INVALID) return refused(op, idx, HOST_E_INVALIDOPERATION);
  if ((c & CTL_SUSPENDED) && entersManaged(op)) return MUST_WAIT_FOR_RESUME;
  // A counter about to pass 2^32 needs the side record for its carry: made first, or refused.
  if (!canCount(slot, op)) return refused(op, idx, E_OUTOFMEMORY);
  if (act == ACT_POP) {
    pop(slot);
  } else {
    const hr = push(slot, act, act == ACT_PUSH_LEAVE ? target : 0);
    if (hr != S_OK) return refused(op, idx, hr);
  }
  count(slot, op); // the counters are in the order of the ops
  honourYield(slot); // a transition is where a yield request is honoured
  traceEvent(EV_TRANSITION + op, idx, <i32>target);
  return S_OK;
}
