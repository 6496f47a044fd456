// Where a guest's linear-memory stack is, and how fiberhost keeps it while calls are parked in it.
//
// A guest's stack in linear memory (what clang, rustc, Emscripten and every LLVM-built module
// have: a stack pointer global, usually `__stack_pointer`, and frames for the locals whose address
// is taken). Asyncify saves a parked call's wasm locals and call stack, but not these frames: they
// stay below the stack pointer, shared by every call into the instance. Parked calls resumed out
// of last-in-first-out order would then pop the pointer above a frame still in use, and the next
// call would write over it.
//
// Two answers, per instance:
// - per-fiber: the stack pointer is reachable (an exported global, Emscripten's stackSave and
//   stackRestore, or what the user names), whichever way the guest suspends. A call that parks
//   hands its frames (the bytes between the stack pointer at the park and at the call's entry)
//   to its f.call, which keeps them while it waits, and puts the pointer back where the call
//   found it; the resume copies them back to the same addresses and points the stack there
//   before the guest goes on (asyncify: before the rewind; JSPI: where the engine resumes it, in
//   the import trampoline's callback, jspi.ts). JSPI keeps a parked call's wasm frames on the
//   engine's own stacks, but its linear-memory frames are shared all the same. Each parked fiber's frames
//   are its own, at their own addresses when they run (pointers into them stay valid), on the
//   guest's own stack (no smaller per-fiber region that could overflow unseen), with no allocator
//   call; the price is a copy of the parked frames' bytes at each park and each resume.
// - serial: a stack is there (its name in the name section, a compiler in the producers
//   section) but cannot be reached (or its memory is not): then one call at a time may be parked
//   inside the instance, and other fibers' f.calls into it wait their turn, first come first
//   served (CallGate).
// The shadow-stack model is Emscripten's fibers' (emscripten_fiber_t: a C stack and an asyncify
// buffer per fiber); moving the frames instead of switching regions keeps it to the stack the
// guest already has.

import type { StackPointer } from "./stack-types.js";
import type { GuestStackKind, StackOption } from "./stack-types.js";
import { bad } from "./user-input.js";
import { ShadowStack } from "./shadow-stack.js";
import { CallGate } from "./call-gate.js";

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
 * (asyncify or JSPI parks its calls); serial when a stack is there but not reachable; none when
 * no call can park or no stack is there.
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
  if (!(memory instanceof WebAssembly.Memory)) return serial;
  return { kind: "per-fiber", stack: new ShadowStack(memory, pointer), gate: null };
}
