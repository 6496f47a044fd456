// The core's state: the header (runtime state, current task, totals) and the task table.

import {
  H_CTL, H_CURRENT, CHUNK_SHIFT, CHUNK_SLOTS, SLOT_SIZE, T_GEN, T_STATE, STATE_FREE, STATE_MASK, CTL_TRAP_ARMED,
  H_SLOTS,
} from "./layout";

import { HEADER, CHUNKS } from "./heap";
export { HEADER };

// @ts-ignore: decorator
@inline export function hdr(field: i32): i32 {
  return load<i32>(HEADER + (<usize>field << 2));
}
// @ts-ignore: decorator
@inline export function setHdr(field: i32, value: i32): void {
  store<i32>(HEADER + (<usize>field << 2), value);
}

// @ts-ignore: decorator
@inline export function ctl(): i32 {
  return hdr(H_CTL);
}

/** Byte address of slot `idx` (the chunk must exist). */
// @ts-ignore: decorator
@inline export function slotAddr(idx: i32): usize {
  return <usize>load<u32>(CHUNKS + (<usize>(idx >>> CHUNK_SHIFT) << 2)) + <usize>(idx & (CHUNK_SLOTS - 1)) * SLOT_SIZE;
}
export function chunkAt(chunk: i32): usize {
  return <usize>load<u32>(CHUNKS + (<usize>chunk << 2));
}
export function setChunk(chunk: i32, ptr: usize): void {
  store<u32>(CHUNKS + (<usize>chunk << 2), <u32>ptr);
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

/** The current task's slot index. */
// @ts-ignore: decorator
@inline export function currentIdx(): i32 {
  return hdr(H_CURRENT);
}

/**
 * Resolves a handle (slot index + generation) to a live slot's address, or 0 when the handle is
 * stale or was never issued by this core.
 */
export function resolve(idx: i32, gen: i32): usize {
  if (idx < 0 || idx >= hdr(H_SLOTS)) return 0;
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
