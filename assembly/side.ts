// A task's counters (u32 low words in its slot, high words in its side record) and its side record:
// the fields few tasks ever set, kept out of the slot so that a parked fiber's slot stays small.

import { T_COUNTERS, T_SIDE, X_HIGH, SIDE_FIELDS, SIDE_CLASS, COUNTER_COUNT } from "./layout";
import { field, setField } from "./state";
import { allocateBuffer } from "./frames";
import { freeFrames } from "./heap";

/** Byte address of the low word of counter `c` of the task at `slot`. */
// @ts-ignore: decorator
@inline function lowAt(slot: usize, c: i32): usize {
  return slot + (<usize>(T_COUNTERS + c) << 2);
}

/** The task's side record, or 0 when it has none yet. */
// @ts-ignore: decorator
@inline export function sideOf(slot: usize): usize {
  return <usize>field(slot, T_SIDE);
}

/** The task's side record, made (all zero) when it has none: 0 when memory is exhausted. */
export function ensureSide(slot: usize): usize {
  let side = sideOf(slot);
  if (side != 0) return side;
  side = allocateBuffer(SIDE_CLASS);
  if (side == 0) return 0;
  for (let i = 0; i < SIDE_FIELDS; i++) store<i32>(side + (<usize>i << 2), 0);
  setField(slot, T_SIDE, <i32>side);
  return side;
}

/** Gives the side record back (the slot is reused, or its task ended with no high word set). */
export function freeSide(slot: usize): void {
  const side = sideOf(slot);
  if (side == 0) return;
  freeFrames(side, SIDE_CLASS);
  setField(slot, T_SIDE, 0);
}

/** True when the task's side record holds a counter's high word (it must outlive the task then). */
export function hasHighWords(slot: usize): bool {
  const side = sideOf(slot);
  if (side == 0) return false;
  for (let c = 0; c < COUNTER_COUNT; c++) if (load<i32>(side + (<usize>(X_HIGH + c) << 2)) != 0) return true;
  return false;
}

/** A side field (0 while the task has no side record). */
export function sideField(slot: usize, x: i32): i32 {
  const side = sideOf(slot);
  return side == 0 ? 0 : load<i32>(side + (<usize>x << 2));
}

/** Sets a side field, making the record if it must: false (nothing changed) when memory is exhausted. */
export function setSideField(slot: usize, x: i32, value: i32): bool {
  let side = sideOf(slot);
  if (side == 0) {
    if (value == 0) return true;
    side = ensureSide(slot);
    if (side == 0) return false;
  }
  store<i32>(side + (<usize>x << 2), value);
  return true;
}

/**
 * True when counter `c` can take `n` more: it stays below 2^32, or the side record that takes
 * the carry exists or could be made. The callers ask before they change anything, so that a
 * carry never finds memory exhausted half-way through an operation.
 */
export function canAdd(slot: usize, c: i32, n: u32): bool {
  return <u64>load<u32>(lowAt(slot, c)) + <u64>n <= <u64>u32.MAX_VALUE || ensureSide(slot) != 0;
}
// @ts-ignore: decorator
@inline export function canCount(slot: usize, c: i32): bool {
  return load<u32>(lowAt(slot, c)) != u32.MAX_VALUE || ensureSide(slot) != 0;
}

/**
 * Adds 1 to counter `c` (canCount said yes). The totals are not stored: they are the ended
 * tasks' sums plus the live tasks' counters (sumTotals), so a transition writes one word.
 */
// @ts-ignore: decorator
@inline export function count(slot: usize, c: i32): void {
  const at = lowAt(slot, c);
  const v = load<u32>(at) + 1;
  store<u32>(at, v);
  if (v == 0) carry(slot, c);
}

/** Adds `n` to counter `c` (canAdd said yes). */
export function add(slot: usize, c: i32, n: u32): void {
  const at = lowAt(slot, c);
  const low = load<u32>(at);
  store<u32>(at, low + n);
  if (low + n < low) carry(slot, c);
}

/** The low word wrapped: one more in the high word. */
function carry(slot: usize, c: i32): void {
  const side = ensureSide(slot);
  if (side == 0) unreachable(); // a caller that did not ask canCount / canAdd first
  const at = side + (<usize>(X_HIGH + c) << 2);
  store<u32>(at, load<u32>(at) + 1);
}

/** Counter `c`'s value (exact: below 2^53). */
export function counter(slot: usize, c: i32): f64 {
  const low = <f64>load<u32>(lowAt(slot, c));
  const side = sideOf(slot);
  return side == 0 ? low : low + <f64>load<u32>(side + (<usize>(X_HIGH + c) << 2)) * 4294967296.0;
}

/** Sets counter `c` to `value` (an integer in [0, 2^53]): false when its high word finds no side record. */
export function setCounter(slot: usize, c: i32, value: f64): bool {
  const high = Math.floor(value / 4294967296.0);
  if (high != 0 && ensureSide(slot) == 0) return false;
  store<u32>(lowAt(slot, c), <u32>(<u64>(value - high * 4294967296.0)));
  const side = sideOf(slot);
  if (side != 0) store<u32>(side + (<usize>(X_HIGH + c) << 2), <u32>high);
  return true;
}

/** Zeroes every counter's low word (a new task in the slot; its side record is gone by then). */
export function clearCounters(slot: usize): void {
  // (Stores, not memory.fill: the engine calls out of wasm for a fill, which costs more than these.)
  for (let c = 0; c < COUNTER_COUNT; c++) store<u32>(lowAt(slot, c), 0);
}
