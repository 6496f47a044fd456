// The core's own allocator. Nothing in the core is garbage collected: task slots come in chunks
// that never move, and frame buffers come in power-of-two size classes with a free list per class.
// A class with no free buffer splits a bigger free one before it takes new memory, and when memory
// runs out, mergeFree() joins the free buffers that are neighbours (giving the top of the heap back
// when they reach it) and cuts them into classes again: a burst of small buffers, or one deep stack,
// does not keep the memory it used once it has ended (frames.ts reclaim()).
// Owning the allocator lets an allocation past the memory answer E_OUTOFMEMORY instead of trapping.
// The host reserves createHost({ initialMemoryBytes }) at creation (1 MiB by default), so the core
// grows its memory only past that: a growth detaches the buffer the host's views are on (see
// src/core/load.ts and src/core/memory.ts).

import { FRAME_SIZE, HEADER_SIZE, MAX_CHUNKS } from "./layout";


const MIN_CLASS_FRAMES: i32 = 4;
const CLASS_COUNT: i32 = 27; // 4 << 26 frames: more than any reservation a host can allow

// The fixed areas sit right above the static data. They are not memory.data() blocks because
// zero-filled static data would be shipped in the binary.
export const HEADER: usize = (__heap_base + 15) & ~15;
export const CHUNKS: usize = HEADER + HEADER_SIZE;
const FREE_LISTS: usize = CHUNKS + MAX_CHUNKS * 4;
let heapTop: usize = FREE_LISTS + CLASS_COUNT * 4;

/** Makes sure memory covers the fixed areas; false when it cannot grow that far. */
export function coverFixedAreas(): bool {
  const top = heapTop;
  heapTop = HEADER;
  const ok = allocate(top - HEADER) != 0;
  heapTop = top;
  return ok;
}

/** Bump-allocates `bytes` (8-aligned). Returns 0 when memory cannot grow. */
export function allocate(bytes: usize): usize {
  // In 64-bit arithmetic: at 65,536 pages the memory's size in bytes does not fit a u32.
  const start = (<u64>heapTop + 7) & ~7; // f64 counters need 8-byte alignment
  const end = (start + <u64>bytes + 7) & ~7;
  const have = (<u64>memory.size()) << 16;
  if (end > have) {
    // Past the host's reservation (src/core/load.ts): grow, and the host makes its views again.
    if (end > (<u64>1 << 32)) return 0;
    const pages = <i32>((end - have + 0xffff) >> 16);
    if (memory.grow(pages) < 0) return 0;
  }
  heapTop = <usize>end;
  return <usize>start;
}

/** Bytes of memory the core has taken, in whole 64 KiB pages (the pages it may have touched). */
export function heapBytes(): u64 {
  return ((<u64>heapTop + 0xffff) >> 16) << 16;
}

/** The size class that holds at least `frames` frames. */
export function frameClass(frames: i32): i32 {
  if (frames <= MIN_CLASS_FRAMES) return 0;
  return 32 - clz(frames - 1) - 2; // ceil(log2(frames)) - log2(MIN_CLASS_FRAMES)
}

export function classFrames(cls: i32): i32 {
  return MIN_CLASS_FRAMES << cls;
}

/** Bytes of a frame buffer of class `cls`: a multiple of 32, so neighbours merge into whole buffers again. */
// @ts-ignore: decorator
@inline function classBytes(cls: i32): usize {
  return <usize>classFrames(cls) * FRAME_SIZE;
}

// @ts-ignore: decorator
@inline function listOf(cls: i32): usize {
  return FREE_LISTS + (<usize>cls << 2);
}

/** Puts a free buffer on its class's list (its first word links the list). */
// @ts-ignore: decorator
@inline function pushFree(ptr: usize, cls: i32): void {
  store<u32>(ptr, load<u32>(listOf(cls)));
  store<u32>(listOf(cls), <u32>ptr);
}

/** A buffer was freed since the last mergeFree(): merging may find room. */
let freedSinceMerge = false;

/**
 * A frame buffer of class `cls`: from its free list, else the lower part of the smallest bigger
 * free buffer (its upper halves go to the classes in between), else new memory. 0: out of memory.
 */
export function allocateFrames(cls: i32): usize {
  const head = listOf(cls);
  const reused = <usize>load<u32>(head);
  if (reused != 0) {
    store<u32>(head, load<u32>(reused));
    return reused;
  }
  for (let c = cls + 1; c < CLASS_COUNT; c++) {
    const big = <usize>load<u32>(listOf(c));
    if (big == 0) continue;
    store<u32>(listOf(c), load<u32>(big));
    for (let k = c - 1; k >= cls; k--) pushFree(big + classBytes(k), k);
    return big;
  }
  return allocate(classBytes(cls));
}

/** Gives a buffer back: to the bump allocator when it is the last thing allocated, else to its class's list. */
export function freeFrames(ptr: usize, cls: i32): void {
  if (ptr + classBytes(cls) == heapTop) heapTop = ptr;
  else pushFree(ptr, cls);
  freedSinceMerge = true;
}

/** True when a buffer was freed since the last merge (else merging again finds nothing new). */
export function mergeMayHelp(): bool {
  return freedSinceMerge;
}

/**
 * Joins free buffers that are neighbours in memory. A run that reaches the top of the heap gives
 * its memory back to the bump allocator (task-slot chunks and any class can use it); every other
 * run is cut into the biggest classes that fit it, except that the first run of at least `want`
 * bytes (a multiple of 32; 0: none wanted) gives its first `want` bytes to the caller: the answer
 * (0 when no run below the top fits). Only free buffers are touched: a buffer in use never moves.
 * While merging, a free buffer's second word holds its size.
 */
export function mergeFree(want: usize): usize {
  freedSinceMerge = false;
  let all: usize = 0;
  for (let c = 0; c < CLASS_COUNT; c++) {
    let b = <usize>load<u32>(listOf(c));
    store<u32>(listOf(c), 0);
    while (b != 0) {
      const next = <usize>load<u32>(b);
      store<u32>(b, <u32>all);
      store<u32>(b, <u32>classBytes(c), 4);
      all = b;
      b = next;
    }
  }
  let taken: usize = 0;
  let b = sortByAddress(all);
  let start: usize = 0;
  let end: usize = 0;
  while (b != 0) {
    const next = <usize>load<u32>(b);
    const bytes = <usize>load<u32>(b, 4);
    if (b != end) {
      if (want != 0 && taken == 0 && end - start >= want) {
        taken = start;
        start += want;
      }
      cut(start, end);
      start = b;
    }
    end = b + bytes;
    b = next;
  }
  if (end != 0 && end == heapTop) {
    heapTop = start;
  } else {
    if (want != 0 && taken == 0 && end - start >= want) {
      taken = start;
      start += want;
    }
    cut(start, end);
  }
  return taken;
}

/**
 * `bytes` (a multiple of 32) for good, for a chunk of task slots: new memory, else the first part
 * of the smallest free buffer that holds them (the rest goes back, cut into classes). 0: neither.
 * New memory first: slot chunks then sit above the frame buffers, and the buffers' memory merges.
 */
export function allocateRun(bytes: usize): usize {
  const fresh = allocate(bytes);
  if (fresh != 0) return fresh;
  for (let c = 0; c < CLASS_COUNT; c++) {
    if (classBytes(c) < bytes) continue;
    const big = <usize>load<u32>(listOf(c));
    if (big == 0) continue;
    store<u32>(listOf(c), load<u32>(big));
    cut(big + bytes, big + classBytes(c));
    return big;
  }
  return 0;
}

/** Cuts the free run [start, end) into buffers of the biggest classes that fit, onto their lists. */
function cut(start: usize, end: usize): void {
  while (end - start >= classBytes(0)) {
    let c = CLASS_COUNT - 1;
    while (classBytes(c) > end - start) c--;
    pushFree(start, c);
    start += classBytes(c);
  }
}

/**
 * For checkInvariants: every free buffer lies in the heap, whole and 8-aligned, and no list loops
 * (a list longer than the heap has 32-byte buffers would).
 */
export function freeListsSound(): bool {
  const low = FREE_LISTS + CLASS_COUNT * 4;
  for (let c = 0; c < CLASS_COUNT; c++) {
    let n: usize = 0;
    for (let b = <usize>load<u32>(listOf(c)); b != 0; b = <usize>load<u32>(b)) {
      if (b < low || (b & 7) != 0 || b + classBytes(c) > heapTop || ++n > heapTop >> 5) return false;
    }
  }
  return true;
}

/** Sorts a list of free buffers (linked through their first word) by address: a merge sort. */
function sortByAddress(list: usize): usize {
  if (list == 0 || load<u32>(list) == 0) return list;
  let slow = list;
  let fast = <usize>load<u32>(list);
  while (fast != 0 && load<u32>(fast) != 0) {
    slow = <usize>load<u32>(slow);
    fast = <usize>load<u32>(<usize>load<u32>(fast));
  }
  const second = <usize>load<u32>(slow);
  store<u32>(slow, 0);
  let a = sortByAddress(list);
  let b = sortByAddress(second);
  let head: usize = 0;
  let tail: usize = 0;
  while (a != 0 && b != 0) {
    let take: usize;
    if (a < b) {
      take = a;
      a = <usize>load<u32>(a);
    } else {
      take = b;
      b = <usize>load<u32>(b);
    }
    if (tail == 0) head = take;
    else store<u32>(tail, <u32>take);
    tail = take;
  }
  const rest = a != 0 ? a : b;
  if (tail == 0) return rest;
  store<u32>(tail, <u32>rest);
  return head;
}
