// A task's transition stack ("fiber stack"): push, pop, grow on demand up to the reservation.

import {
  T_DEPTH, T_LIMIT, T_CAPACITY, T_FRAMES, T_RESERVE, T_NEXT_FREE, R_FREE_HEAD, R_IDLE_BUFFERS, FRAME_SIZE, FRAME_NONE,
  FRAME_REVERSE, C_UNMATCHED_REVERSE_ENTER,
} from "./layout";
import { field, setField, slotAddr, own, setOwn, recGet, recSet } from "./state";
import { add, canAdd } from "./side";
import { allocateFrames, freeFrames, frameClass, classFrames, mergeFree, mergeMayHelp } from "./heap";
import { S_OK, COR_E_STACKOVERFLOW, E_OUTOFMEMORY } from "./hresult";

/**
 * A task that ends keeps a buffer of up to this many frames in its free slot, for the next task
 * there (a spawn's first push then needs no allocation); bigger ones go back to the allocator.
 */
const KEEP_FRAMES: i32 = 64;
// This thread's free slots that hold a kept buffer (what releaseIdleBuffers() can give back) are
// counted in its record (R_IDLE_BUFFERS).

/**
 * A frame buffer of class `cls` (heap.ts), or 0 when memory is exhausted even after the kept
 * buffers of free slots are given back and free neighbours merged.
 */
export function allocateBuffer(cls: i32): usize {
  const ptr = allocateFrames(cls);
  if (ptr != 0 || !releaseIdleBuffers()) return ptr;
  mergeFree(0);
  return allocateFrames(cls);
}

/**
 * When memory runs out: the buffers this thread's free slots keep go back to the allocator (the
 * caller then merges). False when no buffer was freed since the last merge: merging again would
 * find nothing new (a burst that keeps running out does not walk the free slots again and again).
 * Only this thread's own free list is walked: another thread's is that thread's alone.
 */
export function releaseIdleBuffers(): bool {
  if (own(R_IDLE_BUFFERS) == 0 && !mergeMayHelp()) return false;
  for (let next = own(R_FREE_HEAD); next != 0; ) {
    const slot = slotAddr(next - 1);
    dropKeptBuffer(slot);
    next = field(slot, T_NEXT_FREE);
  }
  setOwn(R_IDLE_BUFFERS, 0);
  return true;
}

/** Gives the buffer a free slot keeps back to the allocator, if it keeps one (the caller counts it). */
export function dropKeptBuffer(slot: usize): void {
  const capacity = field(slot, T_CAPACITY);
  if (capacity > 0) {
    freeFrames(<usize>field(slot, T_FRAMES), frameClass(capacity));
    setField(slot, T_FRAMES, 0);
    setField(slot, T_CAPACITY, 0);
    setField(slot, T_LIMIT, 0);
  }
}

export function topKind(slot: usize): i32 {
  const depth = field(slot, T_DEPTH);
  if (depth == 0) return FRAME_NONE;
  return load<i32>(<usize>field(slot, T_FRAMES) + <usize>(depth - 1) * FRAME_SIZE);
}

function updateLimit(slot: usize): void {
  setField(slot, T_LIMIT, min(field(slot, T_CAPACITY), field(slot, T_RESERVE)));
}

/** Pushes a frame. Nothing changes on failure (COR_E_STACKOVERFLOW, E_OUTOFMEMORY). */
export function push(slot: usize, kind: i32, target: u32): i32 {
  const depth = field(slot, T_DEPTH);
  if (depth >= field(slot, T_RESERVE)) return COR_E_STACKOVERFLOW;
  if (depth >= field(slot, T_CAPACITY)) {
    const cls = frameClass(depth + 1);
    const grown = allocateBuffer(cls);
    if (grown == 0) return E_OUTOFMEMORY;
    const old = <usize>field(slot, T_FRAMES);
    const oldCapacity = field(slot, T_CAPACITY);
    if (old != 0) {
      memory.copy(grown, old, <usize>depth * FRAME_SIZE);
      freeFrames(old, frameClass(oldCapacity));
    }
    setField(slot, T_FRAMES, <i32>grown);
    setField(slot, T_CAPACITY, classFrames(cls));
    updateLimit(slot);
  }
  const at = <usize>field(slot, T_FRAMES) + <usize>depth * FRAME_SIZE;
  store<i32>(at, kind);
  store<u32>(at, target, 4);
  setField(slot, T_DEPTH, depth + 1);
  return S_OK;
}

export function pop(slot: usize): void {
  setField(slot, T_DEPTH, field(slot, T_DEPTH) - 1);
}

/**
 * Clears every frame (ExitTask, Reset, the end of a fiber). Reverse enters still open are not an
 * error: a task born in unmanaged code may never get its ReverseLeaveRuntime. They are counted.
 */
export function clearFrames(slot: usize): void {
  const depth = field(slot, T_DEPTH);
  const frames = <usize>field(slot, T_FRAMES);
  let reverse: u32 = 0;
  for (let i = 0; i < depth; i++) {
    if (load<i32>(frames + <usize>i * FRAME_SIZE) == FRAME_REVERSE) reverse++;
  }
  add(slot, C_UNMATCHED_REVERSE_ENTER, reverse);
  setField(slot, T_DEPTH, 0);
}

/**
 * True when clearFrames can count the task's open reverse enters: its counter stays below 2^32
 * with as many more as it has frames, or the side record for the carry is there or made.
 */
export function canClearFrames(slot: usize): bool {
  return canAdd(slot, C_UNMATCHED_REVERSE_ENTER, <u32>field(slot, T_DEPTH));
}

/** Sets a (new or reused) slot's reservation; a reused slot's kept buffer is its task's now. */
export function reserveFrames(slot: usize, reserve: i32): void {
  if (field(slot, T_CAPACITY) > 0) setOwn(R_IDLE_BUFFERS, own(R_IDLE_BUFFERS) - 1);
  setField(slot, T_RESERVE, reserve);
  updateLimit(slot);
}

/**
 * The task in `slot` has ended: its buffer goes back unless it is small enough to keep in the
 * slot (counted in the record at `r`, its thread's).
 */
export function releaseFrames(slot: usize, r: usize): void {
  const capacity = field(slot, T_CAPACITY);
  if (capacity > KEEP_FRAMES) {
    freeFrames(<usize>field(slot, T_FRAMES), frameClass(capacity));
    setField(slot, T_FRAMES, 0);
    setField(slot, T_CAPACITY, 0);
    setField(slot, T_LIMIT, 0);
  } else if (capacity > 0) {
    recSet(r, R_IDLE_BUFFERS, recGet(r, R_IDLE_BUFFERS) + 1);
  }
}
