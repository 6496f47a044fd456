// The task table and the rules of IHostTask / ICLRTask / ICLRTask2 that concern a task's state.
// Tasks are named by handle: slot index + generation (a freed slot bumps its generation).

import {
  H_CTL, H_CHUNKS, H_DEFAULT_RESERVE, H_MAX_STACK, H_THREADS, R_CURRENT, R_ROOT, R_FREE_HEAD, R_LIVE, R_NEXT_SLOT,
  R_SLOT_END, R_STATE, R_RETIRED, THREAD_ATTACHED, THREAD_REAPED,
  CHUNK_SHIFT, CHUNK_SLOTS, MAX_CHUNKS, SLOT_SIZE, FRAME_SIZE, COUNTER_COUNT,
  T_GEN, T_STATE, T_DEPTH, T_NEXT_FREE, STATE_FREE, STATE_CREATED, STATE_STARTED,
  X_AFFINITY, X_PREVENT_ABORT, X_LOCKS, X_PRIORITY, X_ID_LO, X_ID_HI,
  FLAG_DELAY_ABORT, FLAG_ALERTED, FLAG_YIELD_REQUESTED, FLAG_ABORT_REQUESTED, FLAG_RUDE_ABORT,
  FLAG_SELF_ABORT, FLAG_ABORT_DELIVERED, CTL_NOT_STARTED, CTL_DISABLED, CTL_YIELD_PENDING, H_YIELD_REQUESTS,
  CTL_SUSPENDED, CTL_TRAP_ARMED,
  C_SWITCH_IN, C_SWITCH_OUT,
  EV_SWITCH_IN, EV_SWITCH_OUT, EV_EXIT, EV_ABORT, EV_ABORT_DELIVERED,
} from "./layout";
import {
  HEADER, hdr, setHdr, ctl, slotAddr, setChunk, field, setField, currentIdx, setCurrent, resolve, enterCore,
  taskState, setTaskState, taskFlags, setTaskFlags, hdrAdd, hdrShared, ctlOr, ctlClear, own, setOwn, recGet, recSet,
  rootIdx, isRoot, ownerOf,
  runtimeCtl,
} from "./state";
import { rec, self, lock, unlock, enterThread, ctlAddrOf } from "./areas";
import {
  count, canCount, counter, clearCounters, sideField, setSideField, ensureSide, freeSide, hasHighWords,
} from "./side";
import { allocate, allocateRun, coverFixedAreas, mergeFree, mergeMayHelp } from "./heap";
import { clearFrames, canClearFrames, reserveFrames, releaseFrames, releaseIdleBuffers } from "./frames";
import { traceEvent } from "./trace";
import {
  S_OK, S_FALSE, E_INVALIDARG, E_OUTOFMEMORY, E_UNEXPECTED, HOST_E_INVALIDOPERATION, HOST_E_CLRNOTAVAILABLE,
} from "./hresult";

/**
 * The runtime's availability, for the host's calls that need nothing else from the core: S_OK or
 * HOST_E_CLRNOTAVAILABLE. Like every export it traps when a trap is armed.
 */
export function available(): i32 {
  enterCore();
  return unavailable();
}

/** HOST_E_CLRNOTAVAILABLE unless the runtime is started and not disabled; 0 (S_OK) when it is. */
// @ts-ignore: decorator
@inline export function unavailable(): i32 {
  return ctl() & (CTL_NOT_STARTED | CTL_DISABLED) ? HOST_E_CLRNOTAVAILABLE : S_OK;
}

/**
 * A slot for a new task of this thread's: from its own free list, else the next never-handed slot
 * of its current chunk, else the first of a new chunk (the only step that takes the lock). All
 * slots of a chunk belong to the thread that made it. -1: out of memory (or of chunks).
 */
function takeSlot(): i32 {
  const free = own(R_FREE_HEAD);
  if (free != 0) {
    const idx = free - 1;
    setOwn(R_FREE_HEAD, field(slotAddr(idx), T_NEXT_FREE));
    return idx;
  }
  let idx = own(R_NEXT_SLOT);
  if (idx == own(R_SLOT_END)) {
    idx = newChunk();
    if (idx < 0) return -1;
    setOwn(R_SLOT_END, idx + CHUNK_SLOTS);
  }
  setOwn(R_NEXT_SLOT, idx + 1);
  return idx;
}

/** Makes a chunk of slots for this thread: its first slot's index, or -1. */
function newChunk(): i32 {
  lock();
  const chunk = hdr(H_CHUNKS);
  let mem: usize = 0;
  if (chunk < MAX_CHUNKS) {
    const bytes = <usize>CHUNK_SLOTS * SLOT_SIZE;
    // A chunk is made once per CHUNK_SLOTS slots and never given back: free memory is merged
    // first (when a buffer was freed since the last merge), so that it lands in a run of freed
    // buffers, or on the top of the heap they gave back, rather than cutting the heap further.
    mem = mergeMayHelp() ? mergeFree(bytes) : 0;
    if (mem == 0) mem = allocateRun(bytes);
    if (mem == 0 && releaseIdleBuffers()) {
      mem = mergeFree(bytes);
      if (mem == 0) mem = allocate(bytes); // the merge may have given the top of the heap back
    }
    if (mem != 0) {
      // Memory given back by mergeFree() held frames: a new slot must read as never used.
      memory.fill(mem, 0, bytes);
      setChunk(chunk, mem, self());
      // Published last: a thread that reads H_CHUNKS past it finds the chunk's address and owner.
      if (ASC_FEATURE_THREADS) atomic.store<i32>(HEADER + (<usize>H_CHUNKS << 2), chunk + 1);
      else setHdr(H_CHUNKS, chunk + 1);
    }
  }
  unlock();
  return mem == 0 ? -1 : chunk << CHUNK_SHIFT;
}

/** Makes a task in slot `idx` with `reserve` frames; its generation is kept from the last tenant. */
function initSlot(idx: i32, reserve: i32): void {
  const slot = slotAddr(idx);
  setField(slot, T_STATE, STATE_CREATED); // and no flags
  setField(slot, T_DEPTH, 0);
  freeSide(slot); // the last tenant's counters' high words (its other side fields were let go at its end)
  clearCounters(slot);
  reserveFrames(slot, reserve); // (over T_NEXT_FREE)
  setOwn(R_LIVE, own(R_LIVE) + 1);
}

/** This instance has claimed its thread (init or attach): it may not claim another. */
let claimed = false;

/**
 * Sets up the header, claims thread 0 and makes its root task (slot 0). Called once, by the
 * host that creates the core, right after instantiation.
 */
export function init(defaultStackSize: i32, maxStackSize: i32): i32 {
  setHdr(H_DEFAULT_RESERVE, defaultStackSize / FRAME_SIZE);
  setHdr(H_MAX_STACK, maxStackSize);
  if (!coverFixedAreas()) return E_OUTOFMEMORY;
  setHdr(H_CTL, CTL_NOT_STARTED);
  setHdr(H_THREADS, 1);
  const hr = becomeThread(0);
  return hr < 0 ? hr : S_OK;
}

/**
 * This instance becomes thread `t` (claimed): its record attached, its root task made (started,
 * switched in: the running JS context). Answers `t`, or E_OUTOFMEMORY (the record is then
 * marked reaped: it holds no task).
 */
export function becomeThread(t: i32): i32 {
  claimed = true;
  if (ASC_FEATURE_THREADS) enterThread(t);
  setOwn(R_STATE, THREAD_ATTACHED);
  const idx = takeSlot();
  if (idx < 0) {
    setOwn(R_STATE, THREAD_REAPED);
    return E_OUTOFMEMORY;
  }
  initSlot(idx, hdr(H_DEFAULT_RESERVE));
  setTaskState(slotAddr(idx), STATE_STARTED);
  setOwn(R_ROOT, idx);
  setCurrent(idx);
  if (ASC_FEATURE_THREADS) {
    // The runtime-wide bits as they stand, read again until no change raced the copy (a
    // spreadCtl that ran before this thread was counted); its suspension it takes at its first
    // safe point (syncSuspension).
    let c = 0;
    do {
      c = runtimeCtl() & ~(CTL_SUSPENDED | CTL_TRAP_ARMED);
      atomic.store<i32>(ctlAddrOf(t), c);
    } while ((runtimeCtl() & ~(CTL_SUSPENDED | CTL_TRAP_ARMED)) != c);
  }
  return t;
}

/** True once this instance is a thread of the core (init or attach). */
export function hasClaimed(): bool {
  return claimed;
}

/**
 * CreateTask(stackSize): the new task's slot index (>= 0), or an HRESULT (< 0). The stack size is
 * in bytes, as in the CLR; 0 is the default; each frame takes FRAME_SIZE bytes of it.
 */
export function createTask(stackSize: f64): i32 {
  enterCore();
  const hr = unavailable();
  if (hr != S_OK) return hr;
  if (!(stackSize >= 0) || stackSize != Math.floor(stackSize) || stackSize > <f64>hdr(H_MAX_STACK)) return E_INVALIDARG;
  const idx = takeSlot();
  if (idx < 0) return E_OUTOFMEMORY;
  initSlot(idx, stackSize == 0 ? hdr(H_DEFAULT_RESERVE) : <i32>(stackSize / FRAME_SIZE));
  return idx;
}

/**
 * CreateTask then Start, in one call (a spawn's: the host asks for nothing in between): the new,
 * started task's slot index (>= 0), or an HRESULT (< 0) as createTask answers.
 */
export function createStarted(stackSize: f64): i32 {
  const idx = createTask(stackSize);
  if (idx >= 0) setTaskState(slotAddr(idx), STATE_STARTED);
  return idx;
}

/**
 * Resolves a handle for a call that takes a task: 0 and an HRESULT in `lastError` when it can't.
 * `lastError` is a wasm global, so per instance, i.e. per thread: the answer of this thread's
 * last call (like errno), which is what each caller reads right after its own call.
 */
let lastError: i32 = S_OK;
function task(idx: i32, gen: i32): usize {
  enterCore();
  lastError = unavailable();
  if (lastError != S_OK) return 0;
  const slot = resolve(idx, gen);
  if (slot == 0) lastError = E_INVALIDARG;
  return slot;
}

export function start(idx: i32, gen: i32): i32 {
  const slot = task(idx, gen);
  if (slot == 0) return lastError;
  if (taskState(slot) != STATE_CREATED) return HOST_E_INVALIDOPERATION;
  setTaskState(slot, STATE_STARTED);
  return S_OK;
}

/** True when task `idx` runs on this thread (its chunk is this thread's): always, in the plain build. */
// @ts-ignore: decorator
@inline function ownTask(idx: i32): bool {
  return !ASC_FEATURE_THREADS || ownerOf(idx) == self();
}

/** ICLRTask::SwitchIn: only one task at a time is switched in; the root task stands in when none is. */
export function switchIn(idx: i32, gen: i32): i32 {
  const slot = task(idx, gen);
  if (slot == 0) return lastError;
  const root = rootIdx();
  if (currentIdx() != root || idx == root || !ownTask(idx)) return HOST_E_INVALIDOPERATION;
  if (!canCount(slot, C_SWITCH_IN)) return E_OUTOFMEMORY;
  setCurrent(idx);
  count(slot, C_SWITCH_IN);
  traceEvent(EV_SWITCH_IN, idx, 0);
  return S_OK;
}

export function switchOut(idx: i32, gen: i32): i32 {
  const slot = task(idx, gen);
  if (slot == 0) return lastError;
  if (currentIdx() != idx || idx == rootIdx()) return HOST_E_INVALIDOPERATION;
  if (!canCount(slot, C_SWITCH_OUT)) return E_OUTOFMEMORY;
  setCurrent(rootIdx());
  count(slot, C_SWITCH_OUT);
  traceEvent(EV_SWITCH_OUT, idx, 0);
  return S_OK;
}

/**
 * SwitchOut of `outIdx` then SwitchIn of `inIdx`, in one call: the scheduler's switch between two
 * fibers. Answers the first failure (nothing changes then) or S_OK.
 */
export function exchange(outIdx: i32, outGen: i32, inIdx: i32, inGen: i32): i32 {
  // Everything that could fail the switch-in is checked before the switch-out changes anything.
  const inSlot = task(inIdx, inGen);
  if (inSlot == 0) return lastError;
  if (inIdx == rootIdx() || !ownTask(inIdx)) return HOST_E_INVALIDOPERATION;
  if (!canCount(inSlot, C_SWITCH_IN)) return E_OUTOFMEMORY;
  const hr = switchOut(outIdx, outGen);
  if (hr != S_OK) return hr;
  return switchIn(inIdx, inGen);
}

/**
 * Ends the task in `slot`, of the thread whose record is at `r` (this thread's, or a dead one's:
 * reapThread): its counters go to that thread's retired sums, its slot to that thread's free list.
 */
export function retire(idx: i32, slot: usize, r: usize): void {
  clearFrames(slot);
  releaseFrames(slot, r);
  honourYield(slot);
  // A rude abort is delivered by ending the task (the host runs none of its handlers).
  if (taskFlags(slot) & FLAG_RUDE_ABORT) traceEvent(EV_ABORT_DELIVERED, idx, 1);
  traceEvent(EV_EXIT, idx, 0);
  // Keep live + retired == totals: the ended task's counters move to the retired sums.
  for (let c = 0; c < COUNTER_COUNT; c++) {
    const at = r + R_RETIRED + (<usize>c << 3);
    store<f64>(at, load<f64>(at) + counter(slot, c));
  }
  // The slot keeps the counters until it is reused (the host reads them after the end); the side
  // record goes now unless it holds a high word of theirs.
  if (!hasHighWords(slot)) freeSide(slot);
  setField(slot, T_STATE, STATE_FREE); // and no flags
  setField(slot, T_GEN, field(slot, T_GEN) + 1);
  setField(slot, T_NEXT_FREE, recGet(r, R_FREE_HEAD));
  recSet(r, R_FREE_HEAD, idx + 1);
  recSet(r, R_LIVE, recGet(r, R_LIVE) - 1);
  if (recGet(r, R_CURRENT) == idx) recSet(r, R_CURRENT, recGet(r, R_ROOT));
}

/** ICLRTask::ExitTask: on the current task only; clears its frames and frees its slot. */
export function exitTask(idx: i32, gen: i32): i32 {
  const slot = task(idx, gen);
  if (slot == 0) return lastError;
  if (idx == rootIdx() || currentIdx() != idx) return HOST_E_INVALIDOPERATION;
  if (!canClearFrames(slot)) return E_OUTOFMEMORY;
  retire(idx, slot, rec());
  return S_OK;
}

/**
 * ICLRTask::Reset: returns a task that the scheduler does not drive (created, not started) to its
 * first state; its frames are cleared as at ExitTask. A started fiber is reset only by ending.
 */
export function reset(idx: i32, gen: i32, full: bool): i32 {
  const slot = task(idx, gen);
  if (slot == 0) return lastError;
  if (isRoot(idx) || taskState(slot) != STATE_CREATED) return HOST_E_INVALIDOPERATION;
  if (!canClearFrames(slot)) return E_OUTOFMEMORY;
  clearFrames(slot);
  honourYield(slot);
  setSideField(slot, X_AFFINITY, 0); // (a zero never needs a record: these cannot fail)
  setSideField(slot, X_PREVENT_ABORT, 0);
  setTaskFlags(slot, 0);
  if (full) {
    setSideField(slot, X_PRIORITY, 0);
    setSideField(slot, X_ID_LO, 0);
    setSideField(slot, X_ID_HI, 0);
  }
  return S_OK;
}

/**
 * ICLRTask::Abort / RudeAbort: records the request; the host delivers it (see abortDeliverable).
 * An abort already delivered and not reset is the one this asks for (aborts coalesce): only a
 * rude abort is a new request then.
 */
export function abort(idx: i32, gen: i32, rude: bool): i32 {
  const slot = task(idx, gen);
  if (slot == 0) return lastError;
  if (isRoot(idx)) return HOST_E_INVALIDOPERATION;
  if (!rude && (taskFlags(slot) & FLAG_ABORT_DELIVERED) != 0) return S_OK;
  let flags = taskFlags(slot) | FLAG_ABORT_REQUESTED;
  if (rude) flags |= FLAG_RUDE_ABORT;
  if (currentIdx() == idx) flags |= FLAG_SELF_ABORT;
  setTaskFlags(slot, flags);
  traceEvent(EV_ABORT, idx, rude ? 1 : 0);
  return S_OK;
}

/**
 * 1 when an abort, requested or delivered and not reset, may be raised in the task now: it is
 * rude, the task asked for it itself, or no delay-abort region and no prevent-async-abort count
 * holds it back; 0 otherwise. (A delivered abort is raised again: only ResetAbort ends it.)
 */
export function abortDeliverable(idx: i32, gen: i32): i32 {
  const slot = resolve(idx, gen);
  if (slot == 0) return 0;
  const flags = taskFlags(slot);
  if ((flags & (FLAG_ABORT_REQUESTED | FLAG_ABORT_DELIVERED)) == 0) return 0;
  if (flags & (FLAG_RUDE_ABORT | FLAG_SELF_ABORT)) return 1;
  return (flags & FLAG_DELAY_ABORT) == 0 && sideField(slot, X_PREVENT_ABORT) == 0 ? 1 : 0;
}

/**
 * The host delivered the requested abort: the request is taken (delivered once), and the abort
 * stays delivered until ResetAbort or the task's end.
 */
export function abortDelivered(idx: i32, gen: i32): void {
  const slot = resolve(idx, gen);
  if (slot == 0) return;
  const flags = taskFlags(slot) & ~(FLAG_ABORT_REQUESTED | FLAG_RUDE_ABORT | FLAG_SELF_ABORT);
  setTaskFlags(slot, flags | FLAG_ABORT_DELIVERED);
  traceEvent(EV_ABORT_DELIVERED, idx, 0);
}

/**
 * Thread.ResetAbort's analogue (fiberhost): the current task ends the abort delivered to it, which
 * then is raised no more. HOST_E_INVALIDOPERATION when no abort is being delivered to it (none
 * was, it was reset, or it is only requested) or it is not the current task.
 */
export function resetAbort(idx: i32, gen: i32): i32 {
  const slot = task(idx, gen);
  if (slot == 0) return lastError;
  const flags = taskFlags(slot);
  if (currentIdx() != idx || (flags & FLAG_ABORT_DELIVERED) == 0) return HOST_E_INVALIDOPERATION;
  setTaskFlags(slot, flags & ~FLAG_ABORT_DELIVERED);
  return S_OK;
}

/** IHostTaskManager::BeginDelayAbort / EndDelayAbort, on the current task: they do not nest. */
export function delayAbort(begin: bool): i32 {
  enterCore();
  const hr = unavailable();
  if (hr != S_OK) return hr;
  const slot = slotAddr(currentIdx());
  const flags = taskFlags(slot);
  if (((flags & FLAG_DELAY_ABORT) != 0) == begin) return E_UNEXPECTED;
  setTaskFlags(slot, begin ? flags | FLAG_DELAY_ABORT : flags & ~FLAG_DELAY_ABORT);
  return S_OK;
}

/**
 * A nesting count that may not go below 0: BeginThreadAffinity (current task), BeginPreventAsyncAbort.
 * In the side record: E_OUTOFMEMORY when the first begin cannot have one.
 */
function nest(slot: usize, x: i32, begin: bool): i32 {
  const n = sideField(slot, x);
  if (begin) return setSideField(slot, x, n + 1) ? S_OK : E_OUTOFMEMORY;
  if (n == 0) return E_UNEXPECTED;
  setSideField(slot, x, n - 1);
  return S_OK;
}

export function threadAffinity(begin: bool): i32 {
  enterCore();
  const hr = unavailable();
  if (hr != S_OK) return hr;
  return nest(slotAddr(currentIdx()), X_AFFINITY, begin);
}

export function preventAsyncAbort(idx: i32, gen: i32, begin: bool): i32 {
  const slot = task(idx, gen);
  if (slot == 0) return lastError;
  return nest(slot, X_PREVENT_ABORT, begin);
}

/** Crst bookkeeping for ICLRTask::LocksHeld: +1 when a Crst is first entered, -1 when finally left. */
export function locksHeldAdd(idx: i32, gen: i32, delta: i32): i32 {
  const slot = task(idx, gen);
  if (slot == 0) return lastError;
  const n = sideField(slot, X_LOCKS) + delta;
  if (n < 0) return E_UNEXPECTED;
  return setSideField(slot, X_LOCKS, n) ? S_OK : E_OUTOFMEMORY;
}

/** IHostTask::SetPriority: the THREAD_PRIORITY values only. */
export function setPriority(idx: i32, gen: i32, priority: f64): i32 {
  const slot = task(idx, gen);
  if (slot == 0) return lastError;
  const p = <i32>priority;
  if (<f64>p != priority || !(p == -15 || p == 15 || (p >= -2 && p <= 2))) return E_INVALIDARG;
  return setSideField(slot, X_PRIORITY, p) ? S_OK : E_OUTOFMEMORY;
}

/**
 * ICLRTask::YieldTask: asks another task to yield at its next safe point or transition. While any
 * request is pending, transitions leave the host's fast path so that the core honours it.
 */
export function yieldTask(idx: i32, gen: i32): i32 {
  const slot = task(idx, gen);
  if (slot == 0) return lastError;
  if (currentIdx() == idx) return HOST_E_INVALIDOPERATION;
  const flags = taskFlags(slot);
  if (flags & FLAG_YIELD_REQUESTED) return S_FALSE;
  setTaskFlags(slot, flags | FLAG_YIELD_REQUESTED);
  hdrAdd(H_YIELD_REQUESTS, 1); // (the count and the bit: any thread's requests and honours)
  ctlOr(CTL_YIELD_PENDING);
  return S_OK;
}

/** Honours the task's yield request, if it has one: 1 when it had. */
export function honourYield(slot: usize): i32 {
  const flags = taskFlags(slot);
  if ((flags & FLAG_YIELD_REQUESTED) == 0) return 0;
  setTaskFlags(slot, flags & ~FLAG_YIELD_REQUESTED);
  if (hdrAdd(H_YIELD_REQUESTS, -1) == 1) {
    ctlClear(CTL_YIELD_PENDING);
    // Another thread's request may have come between the two: its bit must stay set.
    if (ASC_FEATURE_THREADS && hdrShared(H_YIELD_REQUESTS) != 0) ctlOr(CTL_YIELD_PENDING);
  }
  return 1;
}

/** Reads and clears one of a task's one-shot flags (an alert, a yield request): 1 when it was set. */
export function takeFlag(idx: i32, gen: i32, flag: i32): i32 {
  const slot = resolve(idx, gen);
  if (slot == 0) return 0;
  if (flag == FLAG_YIELD_REQUESTED) return honourYield(slot);
  const flags = taskFlags(slot);
  setTaskFlags(slot, flags & ~flag);
  return (flags & flag) != 0 ? 1 : 0;
}

/** IHostTask::Alert on a task that is not in an alertable wait: remembered for its next one. */
export function alert(idx: i32, gen: i32): i32 {
  const slot = task(idx, gen);
  if (slot == 0) return lastError;
  setTaskFlags(slot, taskFlags(slot) | FLAG_ALERTED);
  return S_OK;
}

export function setTaskIdentifier(idx: i32, gen: i32, lo: i32, hi: i32): i32 {
  const slot = task(idx, gen);
  if (slot == 0) return lastError;
  // Both halves or neither: the record is made (or refused) first.
  if ((lo | hi) != 0 && ensureSide(slot) == 0) return E_OUTOFMEMORY;
  setSideField(slot, X_ID_LO, lo);
  setSideField(slot, X_ID_HI, hi);
  return S_OK;
}

/** Validates a handle for the calls that only read a task (through the host's views): S_OK or an HRESULT. */
export function check(idx: i32, gen: i32): i32 {
  return task(idx, gen) == 0 ? lastError : S_OK;
}
