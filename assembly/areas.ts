// The fixed areas of memory, and what makes this instance a thread of the core.
//
// The fixed areas sit right above the static data (the RULES table, read-only: a shared memory's
// active data segments are written again at every instantiation, so no static data may ever be
// written). They are not memory.data() blocks because zero-filled static data would be shipped in
// the binary. In order: the header, the chunk table (one u32 address per chunk of slots), the
// chunk owners (one byte per chunk: the thread that made it), the free lists of the frame-buffer
// classes (heap.ts), the thread records (R_*); the heap starts above them.
//
// Wasm globals are per instance, and an instance is a thread: the shared build's instances over
// one memory each claim a thread record (init: thread 0, attach(): the next one), and what is the
// thread's own (its current task, its free slots, its live count) lives in that record. The plain
// build has thread 0 only: its record's address is a constant there.

import { HEADER_SIZE, MAX_CHUNKS, MAX_THREADS, THREAD_SIZE, H_LOCK } from "./layout";

export const CLASS_COUNT: i32 = 27; // 4 << 26 frames: more than any reservation a host can allow

// The plain build has one thread: it has no owner table (its thread owns every chunk) and one
// record, so that its fixed areas take what they took before threads (its heap, and so what fits
// in a host's memory budget, is unchanged).
export const HEADER: usize = (__heap_base + 15) & ~15;
export const CHUNKS: usize = HEADER + HEADER_SIZE;
export const CHUNK_OWNERS: usize = CHUNKS + MAX_CHUNKS * 4;
export const FREE_LISTS: usize = CHUNK_OWNERS + (ASC_FEATURE_THREADS ? MAX_CHUNKS : 0);
export const THREADS: usize = (FREE_LISTS + CLASS_COUNT * 4 + 7) & ~7; // f64 sums in each record
// The shared build's per-thread control words (one i32 a thread, after the records): what a
// thread's transitions read (see ctl() in state.ts). The plain build has none: its one thread
// reads the header's H_CTL.
export const THREAD_CTLS: usize = THREADS + (ASC_FEATURE_THREADS ? MAX_THREADS : 1) * THREAD_SIZE;
export const HEAP_START: usize = THREAD_CTLS + (ASC_FEATURE_THREADS ? MAX_THREADS * 4 : 0);

/** The thread that made chunk `k` (0 in the plain build: its one thread made them all). */
// @ts-ignore: decorator
@inline export function chunkOwner(k: i32): i32 {
  return ASC_FEATURE_THREADS ? <i32>load<u8>(CHUNK_OWNERS + <usize>k) : 0;
}

/** This instance's thread (its record's index), and that record's address. */
let thread: i32 = 0;
let threadRecord: usize = THREADS;

/** This instance's thread: 0 in the plain build. */
// @ts-ignore: decorator
@inline export function self(): i32 {
  return ASC_FEATURE_THREADS ? thread : 0;
}
/** The byte address of this instance's thread record: a constant in the plain build. */
// @ts-ignore: decorator
@inline export function rec(): usize {
  return ASC_FEATURE_THREADS ? threadRecord : THREADS;
}
/** The byte address of thread `t`'s control word: the header's H_CTL in the plain build. */
// @ts-ignore: decorator
@inline export function ctlAddrOf(t: i32): usize {
  return ASC_FEATURE_THREADS ? THREAD_CTLS + (<usize>t << 2) : HEADER;
}
/** The byte address of thread `t`'s record. */
// @ts-ignore: decorator
@inline export function recOf(t: i32): usize {
  return THREADS + <usize>t * THREAD_SIZE;
}
/** attach(): this instance is thread `t` from now on. */
export function enterThread(t: i32): void {
  thread = t;
  threadRecord = recOf(t);
}

/** Nesting depth of this instance's hold on the allocator's lock (reentrant: takeSlot -> mergeFree -> ...). */
let lockDepth: i32 = 0;

/**
 * Takes the allocator's lock in the shared build (a spin lock: a CAS of H_LOCK from 0 to this
 * thread + 1; the RMW atomics are sequentially consistent, which orders the plain loads and
 * stores made under the lock). Reentrant for this thread. The plain build compiles it to nothing.
 */
// @ts-ignore: decorator
@inline export function lock(): void {
  if (ASC_FEATURE_THREADS) {
    if (lockDepth++ == 0) {
      while (atomic.cmpxchg<i32>(HEADER + (<usize>H_LOCK << 2), 0, thread + 1) != 0) {}
    }
  }
}
// @ts-ignore: decorator
@inline export function unlock(): void {
  if (ASC_FEATURE_THREADS) {
    if (--lockDepth == 0) atomic.store<i32>(HEADER + (<usize>H_LOCK << 2), 0);
  }
}
