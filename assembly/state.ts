// The core's state: the header (runtime state, totals), this thread's record (its current task)
// and the task table.

import {
  H_CTL, H_THREADS, H_CHUNKS, R_CURRENT, R_ROOT, CHUNK_SHIFT, CHUNK_SLOTS, SLOT_SIZE, T_GEN, T_STATE, STATE_FREE,
  STATE_MASK, CTL_TRAP_ARMED,
} from "./layout";

import { HEADER, CHUNKS, CHUNK_OWNERS, rec, recOf, chunkOwner, ctlAddrOf, self } from "./areas";
export { HEADER };

// @ts-ignore: decorator
@inline export function hdr(field: i32): i32 {
  return load<i32>(HEADER + (<usize>field << 2));
}
// @ts-ignore: decorator
@inline export function setHdr(field: i32, value: i32): void {
  store<i32>(HEADER + (<usize>field << 2), value);
}

/**
 * The control word this thread's calls read. In the shared build each thread has its own: the
 * runtime-wide bits of H_CTL (started, disabled, tracing, a yield pending) copied into every
 * thread's word when they change, and CTL_SUSPENDED as this thread last saw it at a safe point
 * (syncSuspension): a suspension made on another thread must not reach a thread in the middle of
 * a synchronous guest call, where an enter into managed code cannot wait. CTL_TRAP_ARMED is a
 * thread's own (armTrap: this thread's next call traps). The plain build reads H_CTL.
 */
// @ts-ignore: decorator
@inline export function ctl(): i32 {
  return ASC_FEATURE_THREADS ? load<i32>(ctlAddrOf(self())) : hdr(H_CTL);
}
/** The runtime-wide control word (H_CTL): what a suspension asks of every thread. */
// @ts-ignore: decorator
@inline export function runtimeCtl(): i32 {
  return hdrShared(H_CTL);
}
/** Shared build: sets (on) or clears runtime-wide `bits` in every claimed thread's control word. */
export function spreadCtl(bits: i32, on: bool): void {
  if (!ASC_FEATURE_THREADS) return;
  const n = hdrShared(H_THREADS);
  for (let t = 0; t < n; t++) {
    if (on) atomic.or<i32>(ctlAddrOf(t), bits);
    else atomic.and<i32>(ctlAddrOf(t), ~bits);
  }
}
/** Shared build: sets or clears `bits` in this thread's own control word only. */
export function ownCtl(bits: i32, on: bool): void {
  if (!ASC_FEATURE_THREADS) return;
  if (on) atomic.or<i32>(ctlAddrOf(self()), bits);
  else atomic.and<i32>(ctlAddrOf(self()), ~bits);
}

// The words other threads change at any time: by atomics in the shared build, plainly in the plain one.
/** Adds `delta` to header field `f`: answers the old value. */
// @ts-ignore: decorator
@inline export function hdrAdd(f: i32, delta: i32): i32 {
  const at = HEADER + (<usize>f << 2);
  if (ASC_FEATURE_THREADS) return atomic.add<i32>(at, delta);
  const old = load<i32>(at);
  store<i32>(at, old + delta);
  return old;
}
/** Sets header field `f` to `replacement` if it holds `expected`: answers what it held. */
// @ts-ignore: decorator
@inline export function hdrCas(f: i32, expected: i32, replacement: i32): i32 {
  const at = HEADER + (<usize>f << 2);
  if (ASC_FEATURE_THREADS) return atomic.cmpxchg<i32>(at, expected, replacement);
  const old = load<i32>(at);
  if (old == expected) store<i32>(at, replacement);
  return old;
}
/** The header field as another thread may have just written it (an atomic load in the shared build). */
// @ts-ignore: decorator
@inline export function hdrShared(f: i32): i32 {
  const at = HEADER + (<usize>f << 2);
  return ASC_FEATURE_THREADS ? atomic.load<i32>(at) : load<i32>(at);
}
/** Sets runtime-wide CTL bits (atomically, and in every thread's word, in the shared build). */
// @ts-ignore: decorator
@inline export function ctlOr(bits: i32): void {
  if (ASC_FEATURE_THREADS) {
    atomic.or<i32>(HEADER + (<usize>H_CTL << 2), bits);
    spreadCtl(bits, true);
  } else setHdr(H_CTL, ctl() | bits);
}
/** Clears runtime-wide CTL bits (atomically, and in every thread's word, in the shared build). */
// @ts-ignore: decorator
@inline export function ctlClear(bits: i32): void {
  if (ASC_FEATURE_THREADS) {
    atomic.and<i32>(HEADER + (<usize>H_CTL << 2), ~bits);
    spreadCtl(bits, false);
  } else setHdr(H_CTL, ctl() & ~bits);
}

/** Field `f` of the thread record at `r`. */
// @ts-ignore: decorator
@inline export function recGet(r: usize, f: i32): i32 {
  return load<i32>(r + (<usize>f << 2));
}
// @ts-ignore: decorator
@inline export function recSet(r: usize, f: i32, value: i32): void {
  store<i32>(r + (<usize>f << 2), value);
}
/** Field `f` of this thread's record. */
// @ts-ignore: decorator
@inline export function own(f: i32): i32 {
  return recGet(rec(), f);
}
// @ts-ignore: decorator
@inline export function setOwn(f: i32, value: i32): void {
  recSet(rec(), f, value);
}
/** Field `f` of thread `t`'s record. */
// @ts-ignore: decorator
@inline export function recField(t: i32, f: i32): i32 {
  return recGet(recOf(t), f);
}

/** Slot indices below this lie in made chunks (a never-handed one reads STATE_FREE, generation 0). */
// @ts-ignore: decorator
@inline export function slotsMade(): i32 {
  return hdrShared(H_CHUNKS) << CHUNK_SHIFT;
}
/** The thread that made the chunk slot `idx` lies in (its owner), or -1 for an index in no made chunk. */
export function ownerOf(idx: i32): i32 {
  if (idx < 0 || idx >= slotsMade()) return -1;
  return chunkOwner(idx >>> CHUNK_SHIFT);
}
/** This thread's root task's slot index: 0 in the plain build (thread 0's root takes the first slot). */
// @ts-ignore: decorator
@inline export function rootIdx(): i32 {
  return ASC_FEATURE_THREADS ? own(R_ROOT) : 0;
}
/** True when slot `idx` holds some thread's root task. */
export function isRoot(idx: i32): bool {
  if (!ASC_FEATURE_THREADS) return idx == 0;
  const t = ownerOf(idx);
  return t >= 0 && recField(t, R_ROOT) == idx;
}

/** Byte address of slot `idx` (the chunk must exist). */
// @ts-ignore: decorator
@inline export function slotAddr(idx: i32): usize {
  return <usize>load<u32>(CHUNKS + (<usize>(idx >>> CHUNK_SHIFT) << 2)) + <usize>(idx & (CHUNK_SLOTS - 1)) * SLOT_SIZE;
}
export function chunkAt(chunk: i32): usize {
  return <usize>load<u32>(CHUNKS + (<usize>chunk << 2));
}
/** Records chunk `chunk` (made by this thread): published by the caller's advance of H_CHUNKS. */
export function setChunk(chunk: i32, ptr: usize, owner: i32): void {
  store<u32>(CHUNKS + (<usize>chunk << 2), <u32>ptr);
  if (ASC_FEATURE_THREADS) store<u8>(CHUNK_OWNERS + <usize>chunk, <u8>owner);
}

// @ts-ignore: decorator
@inline export function field(slot: usize, f: i32): i32 {
  return load<i32>(slot + (<usize>f << 2));
}
// @ts-ignore: decorator
@inline export function setField(slot: usize, f: i32, value: i32): void {
  store<i32>(slot + (<usize>f << 2), value);
}

/** The task's state (STATE_*): the low byte of its T_STATE word. */
// @ts-ignore: decorator
@inline export function taskState(slot: usize): i32 {
  return field(slot, T_STATE) & STATE_MASK;
}
// @ts-ignore: decorator
@inline export function setTaskState(slot: usize, state: i32): void {
  setField(slot, T_STATE, (field(slot, T_STATE) & ~STATE_MASK) | state);
}
/** The task's FLAG_* bits (they share the state's word). */
// @ts-ignore: decorator
@inline export function taskFlags(slot: usize): i32 {
  return field(slot, T_STATE) & ~STATE_MASK;
}
// @ts-ignore: decorator
@inline export function setTaskFlags(slot: usize, flags: i32): void {
  setField(slot, T_STATE, (field(slot, T_STATE) & STATE_MASK) | (flags & ~STATE_MASK));
}

/** The slot index of the task switched in on this thread (its root task when none is). */
// @ts-ignore: decorator
@inline export function currentIdx(): i32 {
  return own(R_CURRENT);
}
// @ts-ignore: decorator
@inline export function setCurrent(idx: i32): void {
  setOwn(R_CURRENT, idx);
}

/**
 * Resolves a handle (slot index + generation) to a live slot's address, or 0 when the handle is
 * stale or was never issued by this core.
 */
export function resolve(idx: i32, gen: i32): usize {
  if (idx < 0 || idx >= slotsMade()) return 0;
  const slot = slotAddr(idx);
  if (field(slot, T_GEN) != gen || taskState(slot) == STATE_FREE) return 0;
  return slot;
}

/**
 * Every export calls this first: the documented way for tests to make the core trap
 * (armTrap) ends here, in a real wasm trap.
 */
// @ts-ignore: decorator
@inline export function enterCore(): void {
  if (ctl() & CTL_TRAP_ARMED) unreachable();
}
