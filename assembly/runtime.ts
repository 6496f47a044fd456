// The runtime's state (not started, started, disabled; suspended or not) and the operations over
// every live task at once, which are cheaper here than a walk over host objects.

import {
  H_CTL, H_TOTALS, H_THREADS, R_RETIRED, R_LIVE, CTL_NOT_STARTED, CTL_DISABLED, CTL_SUSPENDED,
  CTL_TRAP_ARMED, RUNTIME_NOT_STARTED, RUNTIME_STARTED, RUNTIME_DISABLED, STATE_FREE, FRAME_REVERSE, COUNTER_COUNT,
} from "./layout";
import {
  HEADER, ctl, runtimeCtl, spreadCtl, ownCtl, hdrCas, hdrShared, slotAddr, enterCore, resolve, taskState, recField,
  slotsMade,
} from "./state";
import { recOf } from "./areas";
import { counter, setCounter } from "./side";
import { topKind } from "./frames";
import { unavailable } from "./tasks";
import { S_OK, S_FALSE, E_INVALIDARG, E_OUTOFMEMORY, HOST_E_CLRNOTAVAILABLE } from "./hresult";

// The control word is changed by a compare-and-swap (another thread may change it at any time):
// of two threads that suspend at once, exactly one answers S_OK, the other S_FALSE.

export function startRuntime(): i32 {
  enterCore();
  while (true) {
    const c = runtimeCtl();
    if (c & CTL_DISABLED) return HOST_E_CLRNOTAVAILABLE;
    if ((c & CTL_NOT_STARTED) == 0) return S_FALSE;
    if (hdrCas(H_CTL, c, c & ~CTL_NOT_STARTED) == c) {
      spreadCtl(CTL_NOT_STARTED, false);
      return S_OK;
    }
  }
}

export function runtimeState(): i32 {
  const c = ctl();
  if (c & CTL_DISABLED) return RUNTIME_DISABLED;
  return c & CTL_NOT_STARTED ? RUNTIME_NOT_STARTED : RUNTIME_STARTED;
}

/**
 * Suspends (the collector's stop-the-world) or resumes the runtime. They do not nest: S_FALSE when
 * already so. In the shared build this asks every thread (H_CTL) and this thread sees it at once;
 * the others see it at their next safe point (syncSuspension).
 */
export function suspend(on: bool): i32 {
  enterCore();
  while (true) {
    const hr = unavailable();
    if (hr != S_OK) return hr;
    const c = runtimeCtl();
    if (((c & CTL_SUSPENDED) != 0) == on) return S_FALSE;
    if (hdrCas(H_CTL, c, on ? c | CTL_SUSPENDED : c & ~CTL_SUSPENDED) == c) {
      ownCtl(CTL_SUSPENDED, on);
      return S_OK;
    }
  }
}

/**
 * Shared build: this thread, at a safe point (no fiber of its own runs), takes the runtime's
 * suspension as it stands now: answers 1 when it is suspended from now on, 0 when not.
 */
export function syncSuspension(): i32 {
  const on = (runtimeCtl() & CTL_SUSPENDED) != 0;
  ownCtl(CTL_SUSPENDED, on);
  return on ? 1 : 0;
}

/** Disables the runtime for good (host.disable, or after a trap the host reported). */
export function disable(): void {
  while (true) {
    const c = runtimeCtl();
    if (hdrCas(H_CTL, c, (c | CTL_DISABLED) & ~(CTL_SUSPENDED | CTL_TRAP_ARMED)) == c) break;
  }
  spreadCtl(CTL_DISABLED, true);
  spreadCtl(CTL_SUSPENDED | CTL_TRAP_ARMED, false);
}

/**
 * The documented way to make the core trap: the next call into the core executes `unreachable`.
 * A disabled runtime is not armed: its one E_FAIL has been answered.
 */
export function armTrap(): void {
  if (ASC_FEATURE_THREADS) {
    // This thread's next call: the other threads' calls go on until they see the runtime disabled.
    if ((ctl() & CTL_DISABLED) == 0) ownCtl(CTL_TRAP_ARMED, true);
    return;
  }
  while (true) {
    const c = ctl();
    if (c & CTL_DISABLED || hdrCas(H_CTL, c, c | CTL_TRAP_ARMED) == c) return;
  }
}

/** Thread records claimed (init: 1; each attach() one more). */
// @ts-ignore: decorator
@inline export function threadsClaimed(): i32 {
  return hdrShared(H_THREADS);
}

/** Live tasks of every thread: the sum of their records' live counts. */
export function liveCount(): i32 {
  let n = 0;
  const threads = threadsClaimed();
  for (let t = 0; t < threads; t++) n += recField(t, R_LIVE);
  return n;
}

/** How many live tasks are in managed mode (their top frame is a ReverseEnterRuntime frame). */
export function countManaged(): i32 {
  let n = 0;
  const slots = slotsMade(); // (never-handed slots read STATE_FREE)
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

/**
 * Computes the totals into the header (H_TOTALS): every thread's ended tasks' sums plus every live
 * task's counters. (Another thread's counters are read as they are: a total taken while threads
 * run is a snapshot of no single moment.)
 */
export function sumTotals(): void {
  const slots = slotsMade();
  const threads = threadsClaimed();
  for (let c = 0; c < COUNTER_COUNT; c++) {
    let sum: f64 = 0;
    for (let t = 0; t < threads; t++) sum += load<f64>(recOf(t) + R_RETIRED + (<usize>c << 3));
    for (let i = 0; i < slots; i++) {
      const slot = slotAddr(i);
      if (taskState(slot) != STATE_FREE) sum += counter(slot, c);
    }
    store<f64>(HEADER + H_TOTALS + (<usize>c << 3), sum);
  }
}
