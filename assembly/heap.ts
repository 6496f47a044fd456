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

// In the shared build every entry point here runs under the allocator's lock (areas.ts), and the
// heap's top lives in the header (H_HEAP_TOP), not in a wasm global: every thread's instance
// moves the same one (two instances with a top each handed out the same memory).

import { FRAME_SIZE, H_HEAP_TOP, H_FREED_SINCE_MERGE } from "./layout";
import { HEADER, FREE_LISTS, HEAP_START, CLASS_COUNT, lock, unlock } from "./areas";
export { HEADER, CHUNKS } from "./areas";

const MIN_CLASS_FRAMES: i32 = 4;

// @ts-ignore: decorator
@inline function heapTop(): usize {
  return <usize>load<u32>(HEADER + (<usize>H_HEAP_TOP << 2));
}
// @ts-ignore: decorator
@inline function setHeapTop(top: usize): void {
  store<u32>(HEADER + (<usize>H_HEAP_TOP << 2), <u32>top);
}

/** The heap's top (checkInvariants: everything made lies below it). */
export function heapEnd(): usize {
  return heapTop();
}

/** Makes sure memory covers the fixed areas, and starts the heap above them; false when it cannot grow that far. */
export function coverFixedAreas(): bool {
  lock();
  // The header itself may lie past the memory's end (a tiny memory): nothing is written before this.
  const have = (<u64>memory.size()) << 16;
  let ok = true;
  if (<u64>HEAP_START > have) ok = memory.grow(<i32>((<u64>HEAP_START - have + 0xffff) >> 16)) >= 0;
  if (ok) setHeapTop(HEAP_START);
  unlock();
  return ok;
}

/** Bump-allocates `bytes` (8-aligned). Returns 0 when memory cannot grow. */
export function allocate(bytes: usize): usize {
  lock();
  const r = bump(bytes);
  unlock();
  return r;
}

function bump(bytes: usize): usize {
  // In 64-bit arithmetic: at 65,536 pages the memory's size in bytes does not fit a u32.
  const start = (<u64>heapTop() + 7) & ~7; // f64 counters need 8-byte alignment
  const end = (start + <u64>bytes + 7) & ~7;
  const have = (<u64>memory.size()) << 16;
  if (end > have) {
    // Past the host's reservation (src/core/load.ts): grow, and the host makes its views again.
    // (A shared core's memory is reserved whole: it never grows.)
    if (end > (<u64>1 << 32)) return 0;
    const pages = <i32>((end - have + 0xffff) >> 16);
    if (memory.grow(pages) < 0) return 0;
  }
  setHeapTop(<usize>end);
  return <usize>start;
}

/** Bytes of memory the core has taken, in whole 64 KiB pages (the pages it may have touched). */
export function heapBytes(): u64 {
  return ((<u64>heapTop() + 0xffff) >> 16) << 16;
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

/** A buffer was freed since the last mergeFree(): merging may find room (a header word: every thread's). */
// @ts-ignore: decorator
@inline function setFreedSinceMerge(v: bool): void {
  store<i32>(HEADER + (<usize>H_FREED_SINCE_MERGE << 2), v ? 1 : 0);
}

/**
 * A frame buffer of class `cls`: from its free list, else the lower part of the smallest bigger
 * free buffer (its upper halves go to the classes in between), else new memory. 0: out of memory.
 */
export function allocateFrames(cls: i32): usize {
  lock();
  const r = takeFrames(cls);
  unlock();
  return r;
}

function takeFrames(cls: i32): usize {
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
  return bump(classBytes(cls));
}

/** Gives a buffer back: to the bump allocator when it is the last thing allocated, else to its class's list. */
export function freeFrames(ptr: usize, cls: i32): void {
  lock();
  if (ptr + classBytes(cls) == heapTop()) setHeapTop(ptr);
  else pushFree(ptr, cls);
  setFreedSinceMerge(true);
  unlock();
}

/** True when a buffer was freed since the last merge (else merging again finds nothing new). */
export function mergeMayHelp(): bool {
  return load<i32>(HEADER + (<usize>H_FREED_SINCE_MERGE << 2)) != 0;
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
  lock();
  const r = merge(want);
  unlock();
  return r;
}

function merge(want: usize): usize {
  setFreedSinceMerge(false);
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
  if (end != 0 && end == heapTop()) {
    setHeapTop(start);
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
  lock();
  const r = takeRun(bytes);
  unlock();
  return r;
}

function takeRun(bytes: usize): usize {
  const fresh = bump(bytes);
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
  lock();
  const top = heapTop();
  let ok = true;
  for (let c = 0; c < CLASS_COUNT && ok; c++) {
    let n: usize = 0;
    for (let b = <usize>load<u32>(listOf(c)); b != 0 && ok; b = <usize>load<u32>(b)) {
      ok = b >= HEAP_START && (b & 7) == 0 && b + classBytes(c) <= top && ++n <= top >> 5;
    }
  }
  unlock();
  return ok;
}

/** For checkInvariants (under the lock): the first free buffer of class `cls` (each links the next). */
export function firstFree(cls: i32): usize {
  return <usize>load<u32>(listOf(cls));
}
/** For checkInvariants: the bytes of a buffer of class `cls`. */
export function bytesOfClass(cls: i32): usize {
  return classBytes(cls);
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
