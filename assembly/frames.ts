// A task's transition stack ("fiber stack"): push, pop, grow on demand up to the reservation.

import {
  T_DEPTH, T_LIMIT, T_CAPACITY, T_FRAMES, T_RESERVE, FRAME_SIZE, FRAME_NONE, FRAME_REVERSE, C_UNMATCHED_REVERSE_ENTER,
} from "./layout";
import { field, setField, count } from "./state";
import { allocateFrames, freeFrames, frameClass, classFrames } from "./heap";
import { S_OK, COR_E_STACKOVERFLOW, E_OUTOFMEMORY } from "./hresult";

/** Frame buffers above this many frames go back to the allocator when their task ends. */
const KEEP_FRAMES: i32 = 64;

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
    const grown = allocateFrames(cls);
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
  for (let i = 0; i < depth; i++) {
    if (load<i32>(frames + <usize>i * FRAME_SIZE) == FRAME_REVERSE) count(slot, C_UNMATCHED_REVERSE_ENTER);
  }
  setField(slot, T_DEPTH, 0);
}

/** Sets a (new or reused) slot's reservation; keeps a small buffer for the next task in the slot. */
export function reserveFrames(slot: usize, reserve: i32): void {
  const capacity = field(slot, T_CAPACITY);
  if (capacity > KEEP_FRAMES) {
    freeFrames(<usize>field(slot, T_FRAMES), frameClass(capacity));
    setField(slot, T_FRAMES, 0);
    setField(slot, T_CAPACITY, 0);
  }
  setField(slot, T_RESERVE, reserve);
  updateLimit(slot);
}
