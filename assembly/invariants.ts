// checkInvariants(): the core's invariants over every thread, with assertions in the debug build.

import {
  H_CHUNKS, H_THREADS, H_TRACE_BASE, H_TRACE_CLASS, R_LIVE, R_ROOT, R_CURRENT, R_FREE_HEAD, R_NEXT_SLOT, R_SLOT_END,
  R_STATE, THREAD_ATTACHED, THREAD_REAPED, CHUNK_SHIFT, CHUNK_SLOTS, SLOT_SIZE, STATE_FREE, STATE_STARTED,
  T_DEPTH, T_RESERVE, T_CAPACITY, T_FRAMES, T_SIDE, T_NEXT_FREE, FRAME_REVERSE, FRAME_SIZE, SIDE_CLASS,
  C_LEAVE, C_ENTER, C_REVERSE_ENTER, C_REVERSE_LEAVE, C_UNMATCHED_REVERSE_ENTER,
} from "./layout";
import { chunkOwner, CLASS_COUNT, HEAP_START, recOf, lock, unlock } from "./areas";
import { hdr, slotAddr, chunkAt, field, taskState, recGet, ownerOf, slotsMade } from "./state";
import { counter } from "./side";
import { freeListsSound, firstFree, bytesOfClass, heapEnd } from "./heap";

const CHUNK_BYTES: usize = <usize>CHUNK_SLOTS * SLOT_SIZE;

/**
 * Checks the core's invariants (under the allocator's lock: no thread's allocation moves anything
 * meanwhile). For every live task: its depth is within its reservation and its buffer; its open
 * reverse-enter frames are exactly its reverse enters not yet left nor counted unmatched; it has at
 * most as many open leave frames as leaves not yet entered. Each thread's live count matches the
 * tasks in its chunks; its free-slot list holds only free slots of its own chunks, none never
 * handed, without a loop; its root and current tasks are live tasks of its own. Every chunk lies
 * in the heap, apart from every other chunk, and no free buffer, frame buffer, side record or
 * trace ring overlaps one (two threads handed the same chunk once). The allocator's free lists
 * are sound. Returns 1 when they hold.
 */
export function checkInvariants(): i32 {
  lock();
  const ok = freeListsSound() && chunksSound() && threadsSound();
  unlock();
  assert(ok, "core invariant broken");
  return ok ? 1 : 0;
}

/** A live task's frames agree with its counters. */
function taskSound(slot: usize): bool {
  const depth = field(slot, T_DEPTH);
  if (!(depth >= 0 && depth <= field(slot, T_RESERVE) && depth <= field(slot, T_CAPACITY))) return false;
  let reverse = 0;
  const frames = <usize>field(slot, T_FRAMES);
  for (let d = 0; d < depth; d++) if (load<i32>(frames + <usize>d * FRAME_SIZE) == FRAME_REVERSE) reverse++;
  const openReverse =
    counter(slot, C_REVERSE_ENTER) - counter(slot, C_REVERSE_LEAVE) - counter(slot, C_UNMATCHED_REVERSE_ENTER);
  return openReverse == <f64>reverse && counter(slot, C_LEAVE) - counter(slot, C_ENTER) >= <f64>(depth - reverse);
}

/** Every thread's tasks, live count, free-slot list, root and current task. */
function threadsSound(): bool {
  const threads = hdr(H_THREADS);
  const chunks = hdr(H_CHUNKS);
  const made = slotsMade();
  for (let k = 0; k < chunks; k++) if (chunkOwner(k) >= threads) return false;
  for (let t = 0; t < threads; t++) {
    const r = recOf(t);
    const state = recGet(r, R_STATE);
    if (state != THREAD_ATTACHED && state != THREAD_REAPED) return false;
    let live = 0;
    for (let k = 0; k < chunks; k++) {
      if (chunkOwner(k) != t) continue;
      for (let i = 0; i < CHUNK_SLOTS; i++) {
        const slot = slotAddr((k << CHUNK_SHIFT) + i);
        if (taskState(slot) == STATE_FREE) continue;
        live++;
        if (!taskSound(slot)) return false;
      }
    }
    if (live != recGet(r, R_LIVE)) return false;
    const next = recGet(r, R_NEXT_SLOT);
    const end = recGet(r, R_SLOT_END);
    if (next > end || (end != 0 && ownerOf(end - 1) != t)) return false;
    let n = 0;
    for (let f = recGet(r, R_FREE_HEAD); f != 0; f = field(slotAddr(f - 1), T_NEXT_FREE)) {
      const idx = f - 1;
      if (++n > made || ownerOf(idx) != t || (idx >= next && idx < end)) return false;
      if (taskState(slotAddr(idx)) != STATE_FREE) return false;
    }
    if (state == THREAD_ATTACHED) {
      const root = recGet(r, R_ROOT);
      const current = recGet(r, R_CURRENT);
      if (ownerOf(root) != t || taskState(slotAddr(root)) != STATE_STARTED) return false;
      if (ownerOf(current) != t || taskState(slotAddr(current)) == STATE_FREE) return false;
    }
  }
  return true;
}

// The chunks' addresses, sorted, for the overlap checks: in scratch memory above the heap's top
// (nothing is allocated there while the lock is held), when the memory has room for them.
let sorted: usize = 0;
let sortedCount: i32 = 0;

/** Every chunk in the heap and apart; no buffer of any kind overlaps a chunk. */
function chunksSound(): bool {
  const chunks = hdr(H_CHUNKS);
  const top = heapEnd();
  for (let k = 0; k < chunks; k++) {
    const at = chunkAt(k);
    if (at < HEAP_START || (at & 7) != 0 || <u64>at + CHUNK_BYTES > <u64>top) return false;
  }
  sortedCount = chunks;
  sorted = (top + 7) & ~7;
  if (<u64>sorted + (<u64>chunks << 2) > (<u64>memory.size() << 16)) sorted = 0;
  if (sorted != 0) {
    // An insertion sort: chunks are made in rising addresses mostly, so it is near linear.
    for (let k = 0; k < chunks; k++) {
      const v = <u32>chunkAt(k);
      let j = k;
      while (j > 0 && load<u32>(sorted + (<usize>(j - 1) << 2)) > v) {
        store<u32>(sorted + (<usize>j << 2), load<u32>(sorted + (<usize>(j - 1) << 2)));
        j--;
      }
      store<u32>(sorted + (<usize>j << 2), v);
    }
    for (let k = 1; k < chunks; k++) {
      if (<usize>load<u32>(sorted + (<usize>(k - 1) << 2)) + CHUNK_BYTES > <usize>load<u32>(sorted + (<usize>k << 2)))
        return false;
    }
  } else {
    for (let a = 0; a < chunks; a++) {
      for (let b = a + 1; b < chunks; b++) if (overlap(chunkAt(a), chunkAt(b))) return false;
    }
  }
  for (let c = 0; c < CLASS_COUNT; c++) {
    for (let b = firstFree(c); b != 0; b = <usize>load<u32>(b)) if (overlapsChunk(b, b + bytesOfClass(c))) return false;
  }
  const made = slotsMade();
  for (let i = 0; i < made; i++) {
    const slot = slotAddr(i);
    const frames = <usize>field(slot, T_FRAMES);
    if (frames != 0 && overlapsChunk(frames, frames + <usize>field(slot, T_CAPACITY) * FRAME_SIZE)) return false;
    const side = <usize>field(slot, T_SIDE);
    if (side != 0 && overlapsChunk(side, side + bytesOfClass(SIDE_CLASS))) return false;
  }
  const ring = <usize>hdr(H_TRACE_BASE);
  return ring == 0 || !overlapsChunk(ring, ring + bytesOfClass(hdr(H_TRACE_CLASS)));
}

/** True when chunks at `a` and `b` overlap (not apart). */
// @ts-ignore: decorator
@inline function overlap(a: usize, b: usize): bool {
  return a < b + CHUNK_BYTES && b < a + CHUNK_BYTES;
}

/** True when [start, end) overlaps a chunk. */
function overlapsChunk(start: usize, end: usize): bool {
  if (sorted == 0) {
    for (let k = 0; k < sortedCount; k++) {
      const at = chunkAt(k);
      if (at < end && start < at + CHUNK_BYTES) return true;
    }
    return false;
  }
  // The last chunk that starts below `end`: only it can reach past `start`.
  let lo = 0;
  let hi = sortedCount;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (<usize>load<u32>(sorted + (<usize>mid << 2)) < end) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && <usize>load<u32>(sorted + (<usize>(lo - 1) << 2)) + CHUNK_BYTES > start;
}
