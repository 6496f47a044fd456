// A guest's stack in linear memory (what clang, rustc, Emscripten and every LLVM-built module
// have: a stack pointer global, usually `__stack_pointer`, and frames for the locals whose address
// is taken). Asyncify saves a parked call's wasm locals and call stack, but not these frames: they
// stay below the stack pointer, shared by every call into the instance. Parked calls resumed out
// of last-in-first-out order would then pop the pointer above a frame still in use, and the next
// call would write over it.
//
// Two answers, per instance:
// - per-fiber: the stack pointer is reachable (an exported global, Emscripten's stackSave and
//   stackRestore, or what the user names). A call that parks hands its frames (the bytes between
//   the stack pointer at the park and at the call's entry) to its f.call, which keeps them while
//   it waits, and puts the pointer back where the call found it; the resume copies them back to
//   the same addresses and points the stack there before the rewind. Each parked fiber's frames
//   are its own, at their own addresses when they run (pointers into them stay valid), on the
//   guest's own stack (no smaller per-fiber region that could overflow unseen), with no allocator
//   call; the price is a copy of the parked frames' bytes at each park and each resume.
// - serial: a stack is there (its name in the name section, a compiler in the producers
//   section) but cannot be reached, or the guest suspends through JSPI (its parked stacks are the
//   engine's): then one call at a time may be parked inside the instance, and other fibers'
//   f.calls into it wait their turn, first come first served (CallGate).
// The shadow-stack model is Emscripten's fibers' (emscripten_fiber_t: a C stack and an asyncify
// buffer per fiber); moving the frames instead of switching regions keeps it to the stack the
// guest already has.

import type { Task } from "../task/task.js";
import type { HeldLock } from "../task/extras.js";
import { TaskQueue } from "../kernel/queue.js";
import { BLOCK, type Waitable } from "../kernel/waitable.js";
import type { SchedulerPort } from "../scheduler/port.js";
import { E_INVALIDARG, HResultError, S_OK } from "../base/hresult.js";
import { describeValue } from "../base/args.js";
import type { GuestStackKind, StackOption, StackPointer } from "./stack-types.js";

export type { GuestStackKind, StackOption, StackPointer };

function bad(message: string): HResultError {
  return new HResultError(E_INVALIDARG, `instantiate: ${message}`);
}

const SHAPE = `'auto', 'none', 'serial' or { pointer: an exported global's name, a WebAssembly.Global, or { get(), set(v) } }`;

/** options.stack checked (a snapshot: each property read once). */
export function readStackOption(v: unknown): StackOption {
  if (v === undefined || v === "auto") return "auto";
  if (v === "none" || v === "serial") return v;
  if (typeof v !== "object" || v === null) throw bad(`options.stack must be ${SHAPE}, not ${describeValue(v)}`);
  let pointer: unknown;
  let memory: unknown;
  try {
    pointer = (v as { pointer?: unknown }).pointer;
    memory = (v as { memory?: unknown }).memory;
  } catch (err) {
    throw bad(`options.stack could not be read (${(err as Error)?.message})`);
  }
  if (memory !== undefined && !(memory instanceof WebAssembly.Memory))
    throw bad(`options.stack.memory must be a WebAssembly.Memory, not ${describeValue(memory)}`);
  const mem = memory as WebAssembly.Memory | undefined;
  if (typeof pointer === "string" || pointer instanceof WebAssembly.Global) return { pointer, memory: mem };
  if (typeof pointer === "object" && pointer !== null) {
    let get: unknown;
    let set: unknown;
    try {
      get = (pointer as { get?: unknown }).get;
      set = (pointer as { set?: unknown }).set;
    } catch (err) {
      throw bad(`options.stack.pointer could not be read (${(err as Error)?.message})`);
    }
    if (typeof get === "function" && typeof set === "function") {
      const g = get as () => number;
      const s = set as (v: number) => void;
      return { pointer: { get: () => g.call(pointer), set: (x) => void s.call(pointer, x) }, memory: mem };
    }
  }
  throw bad(`options.stack.pointer must be an exported global's name, a WebAssembly.Global or { get(), set(v) }`);
}

/**
 * A tiny module that imports the pointer global and reads and writes it: a call into wasm costs a
 * few ns, where `WebAssembly.Global.value` is an API call (about 30 ns each way here, and a park
 * and its resume make four of them). Its link also checks the global is a mutable i32.
 */
const POINTER_MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  // types: () -> i32, (i32) -> ()
  0x01, 0x09, 0x02, 0x60, 0x00, 0x01, 0x7f, 0x60, 0x01, 0x7f, 0x00,
  // import g.sp: (mut i32)
  0x02, 0x09, 0x01, 0x01, 0x67, 0x02, 0x73, 0x70, 0x03, 0x7f, 0x01,
  // functions: get, set
  0x03, 0x03, 0x02, 0x00, 0x01,
  // exports "get", "set"
  0x07, 0x0d, 0x02, 0x03, 0x67, 0x65, 0x74, 0x00, 0x00, 0x03, 0x73, 0x65, 0x74, 0x00, 0x01,
  // code: global.get 0; local.get 0 global.set 0
  0x0a, 0x0d, 0x02, 0x04, 0x00, 0x23, 0x00, 0x0b, 0x06, 0x00, 0x20, 0x00, 0x24, 0x00, 0x0b,
]);
let pointerModule: WebAssembly.Module | null = null;

/** A mutable i32 global as a stack pointer, or null. */
function globalPointer(g: unknown): StackPointer | null {
  if (!(g instanceof WebAssembly.Global)) return null;
  try {
    pointerModule ??= new WebAssembly.Module(POINTER_MODULE);
    const e = new WebAssembly.Instance(pointerModule, { g: { sp: g } }).exports;
    return { get: e.get as () => number, set: e.set as (v: number) => void };
  } catch {
    return null; // not a mutable i32 (the link refuses it)
  }
}

/** Emscripten's stack exports (the names of the last few years' releases and the older ones). */
function emscriptenPointer(exports: WebAssembly.Exports): StackPointer | null {
  const get = exports.emscripten_stack_get_current ?? exports.stackSave;
  const set = exports._emscripten_stack_restore ?? exports.stackRestore;
  if (typeof get !== "function" || typeof set !== "function") return null;
  const g = get as () => number;
  const s = set as (v: number) => void;
  return { get: () => g(), set: (x) => s(x) };
}

/** An imported `__stack_pointer` global (a module linked with --import-globals, or PIC). */
function importedPointer(module: WebAssembly.Module, imports: unknown): StackPointer | null {
  for (const d of WebAssembly.Module.imports(module)) {
    if (d.kind !== "global" || d.name !== "__stack_pointer") continue;
    try {
      const ns = Object.getOwnPropertyDescriptor(imports, d.module)?.value as unknown;
      const g = typeof ns === "object" && ns !== null ? Object.getOwnPropertyDescriptor(ns, d.name)?.value : null;
      return globalPointer(g);
    } catch {
      return null;
    }
  }
  return null;
}

/** Reads a LEB128 u32 at `at`: [value, next offset]. */
function leb(b: Uint8Array, at: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const x = b[at++];
    if (x === undefined) return [-1, b.length];
    v += (x & 0x7f) * 2 ** shift;
    if ((x & 0x80) === 0) return [v, at];
    shift += 7;
  }
}

/**
 * Signs of a linear-memory stack fiberhost cannot reach: an imported __stack_pointer that is not a
 * mutable global fiberhost can write, a global named __stack_pointer in the name section (clang's and rustc's output keep it unexported), or a producers section naming a
 * language (what LLVM-based toolchains write; AssemblyScript's output has none).
 */
function hasHiddenStack(module: WebAssembly.Module): boolean {
  if (WebAssembly.Module.imports(module).some((d) => d.kind === "global" && d.name === "__stack_pointer")) return true;
  for (const sec of WebAssembly.Module.customSections(module, "name")) {
    const b = new Uint8Array(sec);
    let at = 0;
    while (at < b.length) {
      const id = b[at++];
      const [size, start] = leb(b, at);
      if (size < 0) break;
      at = start + size;
      if (id !== 7) continue; // global names
      let [count, p] = leb(b, start);
      for (; count > 0 && p < at; count--) {
        const [, q] = leb(b, p);
        const [len, s] = leb(b, q);
        if (len === 15 && String.fromCharCode(...b.subarray(s, s + len)) === "__stack_pointer") return true;
        p = s + len;
      }
    }
  }
  for (const sec of WebAssembly.Module.customSections(module, "producers")) {
    const text = String.fromCharCode(...new Uint8Array(sec).subarray(0, 256));
    if (text.includes("language")) return true;
  }
  return false;
}

/** What findStack decided for an instance. */
export interface StackPlan {
  kind: GuestStackKind;
  stack: ShadowStack | null;
  gate: CallGate | null;
}

/**
 * How fiberhost keeps the instance's stack: per-fiber when its pointer and memory are reachable
 * and fiberhost's asyncify parks its calls; serial when a stack is there but not reachable (or the
 * guest parks through JSPI); none when no call can park or no stack is there.
 */
export function findStack(
  option: StackOption,
  mode: "asyncify" | "jspi" | "none",
  module: WebAssembly.Module,
  exports: WebAssembly.Exports,
  imports: unknown,
): StackPlan {
  const none: StackPlan = { kind: "none", stack: null, gate: null };
  if (mode === "none" || option === "none") return none;
  const serial: StackPlan = { kind: "serial", stack: null, gate: new CallGate() };
  if (option === "serial") return serial;
  let pointer: StackPointer | null;
  let memory: unknown = exports.memory;
  if (option === "auto") {
    pointer = globalPointer(exports.__stack_pointer) ?? importedPointer(module, imports) ?? emscriptenPointer(exports);
    if (pointer === null) return hasHiddenStack(module) ? serial : none;
  } else {
    if (option.memory !== undefined) memory = option.memory;
    const p = option.pointer;
    if (typeof p === "string") {
      pointer = globalPointer(Object.getOwnPropertyDescriptor(exports, p)?.value);
      if (pointer === null)
        throw bad(`options.stack.pointer names ${p}, which the guest does not export as a mutable i32 global`);
    } else if (p instanceof WebAssembly.Global) {
      pointer = globalPointer(p);
      if (pointer === null) throw bad("options.stack.pointer is a WebAssembly.Global that is not a mutable i32");
    } else pointer = p;
  }
  // JSPI's parked calls keep their wasm frames on the engine's stacks, out of fiberhost's reach.
  if (mode !== "asyncify" || !(memory instanceof WebAssembly.Memory)) return serial;
  return { kind: "per-fiber", stack: new ShadowStack(memory, pointer), gate: null };
}

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

/**
 * One parked call at a time inside an instance whose stack fiberhost cannot keep per fiber: an
 * f.call that opens while another call holds the instance waits (a managed wait, FIFO); the call
 * that holds it passes it to the first waiter when it ends. A call takes the instance when it
 * parks, or when it is handed it.
 */
export class CallGate implements Waitable<Task>, HeldLock {
  private owner: Task | null = null;
  private readonly waiters = new TaskQueue<Task>();
  private sched: SchedulerPort | null = null;

  tryAcquire(t: Task): number {
    return this.owner === null || this.owner === t ? S_OK : BLOCK;
  }
  enqueue(t: Task): void {
    this.waiters.push(t);
  }
  remove(t: Task): void {
    this.waiters.remove(t);
  }
  waitsFor(): Task | null {
    return this.owner;
  }
  describe(): string {
    return "a guest instance whose stack holds another fiber's parked call (stack 'serial')";
  }

  /** `t`'s call parked inside the instance: it holds it until it ends. */
  hold(t: Task, sched: SchedulerPort): void {
    this.sched = sched;
    if (this.owner !== t) this.take(t);
  }

  /**
   * The owner is listed with the task's locks, so that a fiber ending without its call ending (a
   * rude abort, ExitTask: its operations never run again) still passes the instance on.
   */
  private take(t: Task): void {
    this.owner = t;
    (t.extras().held ??= new Set()).add(this);
  }

  /** `t`'s call ended (returned, threw, abandoned, or never opened): the next waiter gets the instance. */
  release(t: Task): void {
    if (this.owner !== t) return;
    t.extra?.held?.delete(this);
    this.owner = null;
    const next = this.waiters.shift();
    if (next === null) return;
    this.take(next);
    this.sched!.wake(next, S_OK);
  }

  /** The owner ended (HeldLock): as if its call had. */
  abandon(): void {
    if (this.owner !== null) this.release(this.owner);
  }

  /** Fibers waiting for the instance (for tests and dumps). */
  get waiting(): number {
    return this.waiters.size;
  }
}
