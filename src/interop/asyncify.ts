// Binaryen's asyncify transform, driven from JS: a suspending import starts an unwind, the f.call
// that drives the guest stops it and keeps the unwound stack (one copy per parked fiber), and
// later copies it back and rewinds. The data region belongs to the guest (growing memory from JS
// would collide with its allocator); it is shared by every fiber parked in the instance, which
// is safe because an unwind is copied out, and a rewind runs, before any other JS can run.

type Fn = (...args: number[]) => number;

/** asyncify_get_state's answers. */
const enum State {
  Normal = 0,
  Unwinding = 1,
  Rewinding = 2,
}

/** The guest's asyncify exports (what Binaryen's pass adds). */
export const ASYNCIFY_EXPORTS = [
  "asyncify_start_unwind",
  "asyncify_stop_unwind",
  "asyncify_start_rewind",
  "asyncify_stop_rewind",
  "asyncify_get_state",
] as const;

/** The smallest data region: asyncify's (current, end) pair and room for a frame or two. */
export const MIN_ASYNCIFY_DATA = 64;

/** Unwound-stack buffers kept per size (see Asyncify.stopUnwind). */
const MAX_KEPT = 256;

export class Asyncify {
  /** Set between startRewind and the suspending import's stopRewind. */
  rewinding = false;
  private readonly startUnwind_: Fn;
  private readonly stopUnwind_: Fn;
  private readonly startRewind_: Fn;
  private readonly stopRewind_: Fn;
  private readonly getState: Fn;

  constructor(
    exports: WebAssembly.Exports,
    private readonly memory: WebAssembly.Memory,
    /** The data region's address and size in the guest's memory (the first 8 bytes are asyncify's). */
    readonly address: number,
    readonly size: number,
  ) {
    this.startUnwind_ = exports.asyncify_start_unwind as Fn;
    this.stopUnwind_ = exports.asyncify_stop_unwind as Fn;
    this.startRewind_ = exports.asyncify_start_rewind as Fn;
    this.stopRewind_ = exports.asyncify_stop_rewind as Fn;
    this.getState = exports.asyncify_get_state as Fn;
    this.u8 = new Uint8Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
  }

  /** Does the guest have the exports the pass adds? */
  static isAsyncified(exports: { name: string }[]): boolean {
    return ASYNCIFY_EXPORTS.every((n) => exports.some((e) => e.name === n));
  }

  // Views of the guest's memory, made again when it has grown (a grown memory detaches the old
  // buffer: its views read length 0). Making them per use cost a third of a round trip.
  private u8: Uint8Array;
  private i32: Int32Array;
  private views(): void {
    if (this.u8.length === 0) {
      this.u8 = new Uint8Array(this.memory.buffer);
      this.i32 = new Int32Array(this.memory.buffer);
    }
  }

  private setPointers(used: number): void {
    this.views();
    const at = this.address >> 2;
    this.i32[at] = this.address + 8 + used;
    this.i32[at + 1] = this.address + this.size;
  }

  /** Called by a suspending import that got a promise: the guest unwinds when the import returns. */
  startUnwind(): void {
    this.setPointers(0);
    this.startUnwind_(this.address);
  }

  /** The guest's export returned after an unwind: stops it and answers the unwound stack. */
  stopUnwind(): Uint8Array {
    this.stopUnwind_();
    this.views();
    const at = this.address + 8;
    const size = this.i32[this.address >> 2] - at;
    const u8 = this.u8;
    // A buffer kept from an earlier rewind of that size (a call site unwinds the same frames each
    // time): a new one per unwind (slice: an ArrayBuffer) cost more than the copy of a few bytes.
    const stack = this.kept(size).pop() ?? new Uint8Array(size);
    if (size <= 64) for (let i = 0; i < size; i++) stack[i] = u8[at + i];
    else stack.set(u8.subarray(at, at + size));
    return stack;
  }

  /** Puts an unwound stack back; the caller then calls the same export again to rewind into it. */
  startRewind(stack: Uint8Array): void {
    this.views();
    const size = stack.length;
    const at = this.address + 8;
    const u8 = this.u8;
    if (size <= 64) for (let i = 0; i < size; i++) u8[at + i] = stack[i];
    else u8.set(stack, at);
    this.setPointers(size);
    this.recycle(stack);
    this.rewinding = true;
    this.startRewind_(this.address);
  }

  /** A stack copied back, kept for the next unwind of its size (up to MAX_KEPT of each: fibers parked at one site). */
  private recycle(stack: Uint8Array): void {
    const list = this.kept(stack.length);
    if (list.length < MAX_KEPT) list.push(stack);
  }

  /** The buffers kept for `size`; the last size asked is answered without the map (a call site unwinds one size). */
  private kept(size: number): Uint8Array[] {
    if (size === this.lastSize) return this.lastList;
    let list = this.free.get(size);
    if (list === undefined) this.free.set(size, (list = []));
    this.lastSize = size;
    this.lastList = list;
    return list;
  }
  private lastSize = -1;
  private lastList: Uint8Array[] = [];
  private readonly free = new Map<number, Uint8Array[]>();

  /** Called by the suspending import when the rewind reaches it. */
  stopRewind(): void {
    this.rewinding = false;
    this.stopRewind_();
  }

  /** After a trap or a JS exception in the middle of an unwind or a rewind: back to normal. */
  reset(): void {
    this.rewinding = false;
    // An unwind that overflowed the region left its pointer past the end, and stopping checks it.
    this.setPointers(0);
    const s = this.getState();
    if (s === State.Unwinding) this.stopUnwind_();
    else if (s === State.Rewinding) this.stopRewind_();
  }
}
