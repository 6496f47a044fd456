// The runtime's state (not started, started, disabled; suspended or not) and the operations over
// every live task at once, which are cheaper here than a walk over host objects.

import {
  H_CTL, H_SLOTS, H_LIVE, H_TOTALS, H_RETIRED, CTL_NOT_STARTED, CTL_DISABLED, CTL_SUSPENDED,
  CTL_TRAP_ARMED, RUNTIME_NOT_STARTED, RUNTIME_STARTED, RUNTIME_DISABLED, T_DEPTH,
  T_RESERVE, T_CAPACITY, T_FRAMES, STATE_FREE, FRAME_REVERSE, FRAME_SIZE, COUNTER_COUNT,
  C_LEAVE, C_ENTER, C_REVERSE_ENTER, C_REVERSE_LEAVE, C_UNMATCHED_REVERSE_ENTER,
} from "./layout";
import { HEADER, hdr, setHdr, ctl, slotAddr, field, enterCore, resolve, taskState } from "./state";
import { counter, setCounter } from "./side";
import { topKind } from "./frames";
import { freeListsSound } from "./heap";
import { unavailable } from "./tasks";
import { S_OK, S_FALSE, E_INVALIDARG, E_OUTOFMEMORY, HOST_E_CLRNOTAVAILABLE } from "./hresult";

export function startRuntime(): i32 {
  enterCore();
  const c = ctl();
  if (c & CTL_DISABLED) return HOST_E_CLRNOTAVAILABLE;
  if ((c & CTL_NOT_STARTED) == 0) return S_FALSE;
  setHdr(H_CTL, c & ~CTL_NOT_STARTED);
  return S_OK;
}

export function runtimeState(): i32 {
  const c = ctl();
  if (c & CTL_DISABLED) return RUNTIME_DISABLED;
  return c & CTL_NOT_STARTED ? RUNTIME_NOT_STARTED : RUNTIME_STARTED;
}

/** Suspends (the collector's stop-the-world) or resumes the runtime. They do not nest: S_FALSE when already so. */
export function suspend(on: bool): i32 {
  enterCore();
  const hr = unavailable();
  if (hr != S_OK) return hr;
  const c = ctl();
  if (((c & CTL_SUSPENDED) != 0) == on) return S_FALSE;
  setHdr(H_CTL, on ? c | CTL_SUSPENDED : c & ~CTL_SUSPENDED);
  return S_OK;
}

/** Disables the runtime for good (host.disable, or after a trap the host reported). */
export function disable(): void {
  setHdr(H_CTL, (ctl() | CTL_DISABLED) & ~(CTL_SUSPENDED | CTL_TRAP_ARMED));
}

/**
 * The documented way to make the core trap: the next call into the core executes `unreachable`.
 * A disabled runtime is not armed: its one E_FAIL has been answered.
 */
export function armTrap(): void {
  if ((ctl() & CTL_DISABLED) == 0) setHdr(H_CTL, ctl() | CTL_TRAP_ARMED);
}

/** How many live tasks are in managed mode (their top frame is a ReverseEnterRuntime frame). */
export function countManaged(): i32 {
  let n = 0;
  const slots = hdr(H_SLOTS);
  for (let i = 0; i < slots; i++) {
    const slot = slotAddr(i);
    if (taskState(slot) != STATE_FREE && topKind(slot) == FRAME_REVERSE) n++;
  }
  return n;
}

/**
 * Test hook: sets counter `c` of a live task, so that tests can carry counters past 2^32 without
 * making 2^32 transitions. Answers E_INVALIDARG for a stale handle, a counter out of range or a
 * value that is not an integer in [0, 2^53]; E_OUTOFMEMORY when its high word finds no side record.
 */
export function presetCounter(idx: i32, gen: i32, c: i32, value: f64): i32 {
  enterCore();
  const slot = resolve(idx, gen);
  if (slot == 0 || <u32>c >= <u32>COUNTER_COUNT) return E_INVALIDARG;
  if (!(value >= 0 && value <= 9007199254740992.0) || value != Math.floor(value)) return E_INVALIDARG;
  return setCounter(slot, c, value) ? S_OK : E_OUTOFMEMORY;
}

/** Computes the totals into the header (H_TOTALS): the ended tasks' sums plus every live task's counters. */
export function sumTotals(): void {
  const slots = hdr(H_SLOTS);
  for (let c = 0; c < COUNTER_COUNT; c++) {
    let sum = load<f64>(HEADER + H_RETIRED + (<usize>c << 3));
    for (let i = 0; i < slots; i++) {
      const slot = slotAddr(i);
      if (taskState(slot) != STATE_FREE) sum += counter(slot, c);
    }
    store<f64>(HEADER + H_TOTALS + (<usize>c << 3), sum);
  }
}

/**
 * Checks the core's invariants, with assertions in the debug build. For every live task: its depth
 * is within its reservation and its buffer; its open reverse-enter frames are exactly its reverse
 * enters not yet left nor counted unmatched; it has at most as many open leave frames as leaves
 * not yet entered. The live count matches the table, and the allocator's free lists are sound.
 * Returns 1 when they hold.
 */
export function checkInvariants(): i32 {
  const slots = hdr(H_SLOTS);
  let live = 0;
  let ok = true;
  for (let i = 0; i < slots; i++) {
    const slot = slotAddr(i);
    if (taskState(slot) == STATE_FREE) continue;
    live++;
    const depth = field(slot, T_DEPTH);
    ok = ok && depth >= 0 && depth <= field(slot, T_RESERVE) && depth <= field(slot, T_CAPACITY);
    let reverse = 0;
    const frames = <usize>field(slot, T_FRAMES);
    for (let d = 0; d < depth; d++) if (load<i32>(frames + <usize>d * FRAME_SIZE) == FRAME_REVERSE) reverse++;
    const openReverse =
      counter(slot, C_REVERSE_ENTER) - counter(slot, C_REVERSE_LEAVE) - counter(slot, C_UNMATCHED_REVERSE_ENTER);
    ok = ok && openReverse == <f64>reverse;
    ok = ok && counter(slot, C_LEAVE) - counter(slot, C_ENTER) >= <f64>(depth - reverse);
  }
  ok = ok && live == hdr(H_LIVE) && freeListsSound();
  assert(ok, "core invariant broken");
  return ok ? 1 : 0;
}
