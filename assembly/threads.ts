// The core's threads: each instance of the shared build over one memory is a thread of the core
// (areas.ts). init() claims thread 0; attach() claims the next record for a second instance (a
// worker's); reapThread() ends a dead thread's tasks. The plain build has thread 0 only.

import {
  H_CHUNKS, H_LOCK, H_THREADS, MAX_THREADS, R_STATE, R_IDLE_BUFFERS, THREAD_ATTACHED, THREAD_REAPED, CHUNK_SHIFT,
  CHUNK_SLOTS, STATE_FREE, T_DEPTH,
} from "./layout";
import { HEADER, chunkOwner, self, recOf, lock, unlock, ctlAddrOf } from "./areas";
import { hdr, hdrCas, hdrShared, slotAddr, taskState, setField, recGet, recSet, rootIdx } from "./state";
import { becomeThread, hasClaimed, retire } from "./tasks";
import { canClearFrames, dropKeptBuffer } from "./frames";
import { E_NOTIMPL, E_OUTOFMEMORY, E_INVALIDARG, E_UNEXPECTED, HOST_E_INVALIDOPERATION } from "./hresult";

/**
 * A second instance over an initialised shared memory claims the next thread record and makes
 * that thread's root task (started, switched in): answers the thread's index (>= 0), or
 * E_OUTOFMEMORY when MAX_THREADS are claimed (nothing is claimed then) or no slot is left for
 * the root task, E_UNEXPECTED before init(), HOST_E_INVALIDOPERATION for an instance that is
 * already a thread. The plain build answers E_NOTIMPL: its memory has one thread.
 */
export function attach(): i32 {
  if (!ASC_FEATURE_THREADS) return E_NOTIMPL;
  if (hasClaimed()) return HOST_E_INVALIDOPERATION;
  while (true) {
    const n = hdrShared(H_THREADS);
    if (n == 0) return E_UNEXPECTED;
    if (n >= MAX_THREADS) return E_OUTOFMEMORY;
    if (hdrCas(H_THREADS, n, n + 1) == n) return becomeThread(n);
  }
}

/** This instance's thread: 0 for the creator's (and in the plain build). */
export function threadIndex(): i32 {
  return self();
}

/** The byte address of thread `t`'s control word (what its calls read: the header's H_CTL in the plain build). */
export function threadCtlAddr(t: i32): usize {
  return ctlAddrOf(t);
}

/** The byte address of thread `t`'s record (R_* fields). */
export function threadAddr(t: i32): usize {
  return recOf(t);
}

/** This thread's root task's slot index (0 for thread 0); its generation is the slot's. */
export function rootIndex(): i32 {
  return rootIdx();
}

/**
 * Thread `t` is dead (its worker exited; the caller guarantees it runs nothing any more): its
 * record is marked reaped, and every live task in its chunks is ended as exitTask ends one
 * (counters to its retired sums, slot freed, generation bumped, its live count down). Answers how
 * many tasks it ended (>= 0; 0 when it was already reaped), E_INVALIDARG for a thread never
 * attached, HOST_E_INVALIDOPERATION for this instance's own thread. The dead thread's chunks are
 * not handed to other threads (a bounded leak per dead worker: its free slots stay on its list),
 * but the frame buffers its free slots kept go back to the allocator.
 */
export function reapThread(t: i32): i32 {
  // (The plain build's one thread is the caller's own: nothing to compile past this.)
  if (!ASC_FEATURE_THREADS) return t == 0 ? HOST_E_INVALIDOPERATION : E_INVALIDARG;
  if (t < 0 || t >= hdrShared(H_THREADS)) return E_INVALIDARG;
  if (t == self()) return HOST_E_INVALIDOPERATION;
  const r = recOf(t);
  const state = recGet(r, R_STATE);
  if (state == THREAD_REAPED) return 0;
  if (state != THREAD_ATTACHED) return E_INVALIDARG;
  // A thread that died holding the allocator's lock would hold it for ever: it is let go (what
  // the dead thread was changing under it may be half-done; invariants then tell).
  if (ASC_FEATURE_THREADS) atomic.cmpxchg<i32>(HEADER + (<usize>H_LOCK << 2), t + 1, 0);
  lock();
  recSet(r, R_STATE, THREAD_REAPED);
  let ended = 0;
  const chunks = hdr(H_CHUNKS);
  for (let k = 0; k < chunks; k++) {
    if (chunkOwner(k) != t) continue;
    for (let i = 0; i < CHUNK_SLOTS; i++) {
      const idx = (k << CHUNK_SHIFT) + i;
      const slot = slotAddr(idx);
      if (taskState(slot) != STATE_FREE) {
        // Open frames whose count would need memory there is not: dropped uncounted, not a trap.
        if (!canClearFrames(slot)) setField(slot, T_DEPTH, 0);
        retire(idx, slot, r);
        ended++;
      }
      dropKeptBuffer(slot); // (its thread will not reuse it)
    }
  }
  recSet(r, R_IDLE_BUFFERS, 0);
  unlock();
  return ended;
}
