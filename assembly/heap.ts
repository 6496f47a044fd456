// The core's own allocator. Nothing in the core is garbage collected: task slots come in chunks
// that never move, and frame buffers come in power-of-two size classes with a free list per class.
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

/** A frame buffer of class `cls`, reused from its free list when one is there. 0: out of memory. */
export function allocateFrames(cls: i32): usize {
  const head = FREE_LISTS + (<usize>cls << 2);
  const reused = load<u32>(head);
  if (reused != 0) {
    store<u32>(head, load<u32>(reused));
    return reused;
  }
  return allocate(<usize>classFrames(cls) * FRAME_SIZE);
}

export function freeFrames(ptr: usize, cls: i32): void {
  const head = FREE_LISTS + (<usize>cls << 2);
  store<u32>(ptr, load<u32>(head));
  store<u32>(head, <u32>ptr);
}
