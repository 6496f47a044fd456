// A parked call's frames on a guest's linear-memory stack (stack 'per-fiber', see
// stack-finder.ts): copied out when the call parks, the stack pointer put back where the call
// found it; copied back to the same addresses, the pointer pointed at them, when it resumes.

import type { StackPointer } from "./stack-types.js";

/** A guest's stack pointer and memory: what a parked call's frames are read from and written back to. */
export class ShadowStack {
  private u8: Uint8Array;
  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly pointer: StackPointer,
  ) {
    this.u8 = new Uint8Array(memory.buffer);
  }

  get sp(): number {
    return this.pointer.get() >>> 0;
  }
  set sp(v: number) {
    this.pointer.set(v | 0);
  }

  /**
   * A view that reaches `end`: a grown memory detaches the old buffer (its view reads length 0),
   * or, shared, leaves the old view shorter. (memory.buffer is read only then: it is not free.)
   */
  private view(end: number): Uint8Array {
    if (end > this.u8.length) this.u8 = new Uint8Array(this.memory.buffer);
    return this.u8;
  }

  /**
   * The frames of a call parking now (from the stack pointer up to `entry`, where the call
   * started), copied out; null when the pointer is not below `entry` inside memory (a guest
   * that switched stacks itself: nothing of it is touched).
   */
  takeFrames(entry: number): Uint8Array | null {
    const at = this.sp;
    const u8 = this.view(entry);
    if (at > entry || entry > u8.length) return null;
    const size = entry - at;
    const frames = this.free.get(size)?.pop() ?? new Uint8Array(size);
    copy(u8, at, frames, 0, size);
    return frames;
  }

  /** Copies a parked call's frames back below `entry` and points the stack at them. */
  putFrames(frames: Uint8Array, entry: number): void {
    const size = frames.length;
    const at = entry - size;
    copy(frames, 0, this.view(entry), at, size);
    this.sp = at;
    this.recycle(frames);
  }

  /**
   * Frames copied back, or dropped with their call, kept for the next park of that size (a call
   * site parks with the same frames each time): a new buffer per park cost more than its copy
   * (an ArrayBuffer's allocation, about 1.5 µs for 544 bytes on this machine's Node 20).
   */
  recycle(frames: Uint8Array): void {
    let list = this.free.get(frames.length);
    if (list === undefined) this.free.set(frames.length, (list = []));
    if (list.length < MAX_KEPT) list.push(frames);
  }
  private readonly free = new Map<number, Uint8Array[]>();
}

/** Buffers kept per frame size: enough for that many fibers parked at one call site. */
const MAX_KEPT = 256;

/** A byte loop for a few bytes; set() over a subarray (a view object, then a memmove) for more. */
function copy(from: Uint8Array, at: number, to: Uint8Array, toAt: number, size: number): void {
  if (size <= 64) for (let i = 0; i < size; i++) to[toAt + i] = from[at + i];
  else to.set(from.subarray(at, at + size), toAt);
}
