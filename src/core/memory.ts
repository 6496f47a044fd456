// The core's exports and the views of its memory, and the one way to call into it: a trap (or a
// failed assertion in the debug core) answers E_FAIL once and disables the runtime. The door
// (door.ts, over transitions.ts) is built on it; nothing else holds the exports or the views.

import { E_FAIL } from "../base/hresult.js";
import type { CoreInstance } from "./load.js";
import { CORE_FUNCTIONS, Ctl, HeaderField, Layout, ThreadField, type CoreExports } from "./generated/layout.js";
import type { TaskRef } from "./names.js";

import { GEN as GEN_, IDX as IDX_ } from "./names.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const GEN: typeof GEN_ = GEN_;
const IDX: typeof IDX_ = IDX_;
/** What an export answers: a number, or nothing (the exports typed `void` in the generated CoreExports). */
// biome-ignore lint/suspicious/noConfusingVoidType: the generated export types say `void`; undefined would refuse them
type Answer = number | void;
type Fn = (...args: number[]) => Answer;

const PAGE = 64 * 1024;
/** The most a growth adds ahead of need, in pages (64 MiB): past that, growths are rare anyway. */
const MAX_GROW_AHEAD = 1024;

export class CoreMemory {
  protected readonly x: CoreExports;
  protected readonly memory: WebAssembly.Memory;
  private readonly maxPages: number;
  // The memory grows only past its reservation (load.ts); then refresh() makes these again.
  protected i32: Int32Array;
  protected f64: Float64Array;

  // The layout comes from the generated module (its const enums are inlined by tsc); what depends
  // on where the core placed its header is computed here once.
  protected readonly hdr: number;
  protected readonly ctlAt: number;
  /** This thread's current task's word (its thread record's R_CURRENT): thread 0's for a plain core. */
  protected readonly currentAt: number;
  /** This thread's root task's slot index (0 for thread 0, the creator's and a plain core's). */
  protected readonly rootIdx: number;

  constructor(core: CoreInstance) {
    this.memory = core.memory;
    this.maxPages = core.maxPages;
    const x = core.exports as unknown as CoreExports;
    for (const name of CORE_FUNCTIONS) {
      if (typeof x[name] !== "function")
        throw new Error(`the core exports no function ${name}: rebuild it (npm run build:core)`);
    }
    this.x = x;
    this.i32 = new Int32Array(this.memory.buffer);
    this.f64 = new Float64Array(this.memory.buffer);
    this.hdr = x.headerAddr() >> 2;
    // This thread's control word: the header's on a plain core; a shared core's threads each read
    // their own (the core's ctl(): a suspension reaches a thread at its own safe points).
    this.ctlAt = x.threadCtlAddr(x.threadIndex()) >> 2;
    this.threadCtls =
      this.memory.buffer instanceof ArrayBuffer
        ? []
        : Array.from({ length: Layout.MAX_THREADS }, (_, t) => x.threadCtlAddr(t) >> 2);
    this.currentAt = (x.threadAddr(x.threadIndex()) >> 2) + ThreadField.CURRENT;
    this.rootIdx = x.rootIndex();
  }

  /**
   * Calls into the core. A trap (or a failed assertion in the debug core) answers E_FAIL, once:
   * the runtime is then disabled and the core answers HOST_E_CLRNOTAVAILABLE to everything.
   */
  protected call(fn: () => Answer): number;
  protected call(fn: (a: number) => Answer, a: number): number;
  protected call(fn: (a: number, b: number) => Answer, a: number, b: number): number;
  protected call(fn: (a: number, b: number, c: number) => Answer, a: number, b: number, c: number): number;
  protected call(
    fn: (a: number, b: number, c: number, d: number) => Answer,
    a: number,
    b: number,
    c: number,
    d: number,
  ): number;
  protected call(fn: Fn, a = 0, b = 0, c = 0, d = 0): number {
    let r: number;
    try {
      r = fn(a, b, c, d) as number;
    } catch (err) {
      return this.failed(err);
    }
    this.afterCall();
    return r;
  }

  /** What call() answers when the call threw (a trap): E_FAIL, the runtime disabled. */
  protected failed(err: unknown): number {
    this.fault(err);
    return E_FAIL;
  }

  /**
   * What call() does after a call that returned: new views when the core grew its memory. A hot
   * path that calls an export directly (a call site of its own is monomorphic, call()'s is not)
   * does the same with failed() and this.
   */
  protected afterCall(): void {
    if (this.i32.length === 0) {
      try {
        this.refresh();
      } catch (err) {
        // The call was made (the core grew its memory): its answer stands. Out of JS stack for the
        // new views, they stay detached for now, which the fast paths read as "not clear" (a
        // detached view reads undefined), so the next call comes here again and makes them.
        if (!isStackOverflow(err)) throw err;
      }
    }
  }

  /** Bytes of the memory's buffer: its reservation, and every growth past it. */
  bufferBytes(): number {
    return this.memory.buffer.byteLength;
  }

  /**
   * The core's memory grew past its reservation: the old views are detached. The memory is grown
   * ahead here (doubled, by at most 64 MiB, within its maximum), so that the core's next
   * allocations fit: the core grows it by the pages it needs, and each growth makes the views and
   * the fast paths again and throws away the optimised code that had the old ones folded in
   * (page by page, a million parked fibers took ~1,000 growths and twice the time). Its buffer
   * was just detached, so growing it again costs the process nothing more; the pages ahead cost
   * no RSS until the core uses them.
   */
  protected refresh(): void {
    const pages = this.memory.buffer.byteLength / PAGE;
    const ahead = Math.min(pages, MAX_GROW_AHEAD, this.maxPages - pages);
    if (ahead > 0) {
      try {
        this.memory.grow(ahead);
      } catch {
        // The engine could not map more now: the core grows by what it needs, as before.
      }
    }
    this.i32 = new Int32Array(this.memory.buffer);
    this.f64 = new Float64Array(this.memory.buffer);
  }

  private fault(err: unknown): void {
    if (this.i32.length === 0) this.refresh();
    this.lastFault = err;
    // The core may have stopped half-way; only the control word is written, never read back.
    // As the core's disable() does: a disabled runtime is not suspended any more. A shared core's
    // word is every thread's: changed atomically there (a plain store could undo another's bit).
    if (this.i32.buffer instanceof ArrayBuffer)
      this.i32[this.ctlAt] = (this.i32[this.ctlAt] | Ctl.DISABLED) & ~(Ctl.TRAP_ARMED | Ctl.SUSPENDED);
    else
      for (const at of [this.hdr + HeaderField.CTL, ...this.threadCtls]) {
        Atomics.or(this.i32, at, Ctl.DISABLED);
        Atomics.and(this.i32, at, ~(Ctl.TRAP_ARMED | Ctl.SUSPENDED));
      }
    this.onFault?.(err);
  }

  /** The error behind the last E_FAIL, for diagnostics. */
  lastFault: unknown = undefined;
  /** Told when a trap disabled the runtime. */
  onFault: ((err: unknown) => void) | null = null;

  /** A call on a task's handle, answering an unsigned HRESULT. */
  protected task(fn: (idx: number, gen: number, arg: number) => Answer, t: TaskRef, arg = 0): number {
    return this.call(fn, t[IDX], t[GEN], arg) >>> 0;
  }

  // --- a shared core's threads (src/threads/) -----------------------------------------------------

  /** Every thread's control word (i32 index), read once: a fault writes them without calling the core. */
  private readonly threadCtls: number[];
  /** The runtime-wide suspension (H_CTL), which another thread may have asked for since this one's last safe point. */
  suspensionRequested(): boolean {
    return (Atomics.load(this.i32, this.hdr + HeaderField.CTL) & Ctl.SUSPENDED) !== 0;
  }
  /** At a safe point of this thread: takes the runtime's suspension as it stands (true: suspended). */
  syncSuspension(): boolean {
    return this.call(this.x.syncSuspension) === 1;
  }

  /** This instance's thread of its core: 0 for a plain core's, and for the creator's of a shared core. */
  threadIndex(): number {
    return this.x.threadIndex();
  }
  /** The thread whose chunk holds slot `idx` (−1: no chunk made holds it). */
  ownerOf(idx: number): number {
    return Number.isInteger(idx) && idx >= 0 && idx <= 0x7fffffff ? this.x.ownerOf(idx) : -1;
  }
  /** Slot indexes below this lie in made chunks: every live task's index of every thread is below it. */
  slotBound(): number {
    return this.i32[this.hdr + HeaderField.CHUNKS] << Layout.CHUNK_SHIFT;
  }
  /** Thread `t` died: its tasks end in the core. How many ended, or an HRESULT (< 0 as an i32). */
  reapThread(t: number): number {
    return this.call(this.x.reapThread, t) | 0;
  }
}

/**
 * Calls deep enough for the core's nested calls and the engine's JS-to-wasm entry, with room to
 * spare. With 32, one full Chromium test run left a runaway recursion's frames open
 * (test/interop-hostile.test.ts, not reproduced alone): most likely an overflow inside the core,
 * which disables the runtime so that nothing closes them. Only the slow path pays for the probe.
 */
export const STACK_PROBE_DEPTH = 128;

/**
 * Throws the engine's RangeError when the JS stack has less room than `n` small calls. A
 * transition's slow path runs it first: runaway export → import → export recursion must fail
 * there, before the core changes anything (an overflow inside the core's nested calls would leave
 * its state half-changed, so it is a trap), as the caller's exception, which unwinds balanced
 * (interop/hook-import.ts, hook-export.ts). Only the transitions cross guests: spawn and exit do not pay for it.
 */
export function probeStack(n: number): number {
  return n === 0 ? 0 : probeStack(n - 1) + 1;
}

/** V8's "Maximum call stack size exceeded" (a RangeError; Firefox's is an InternalError, "too much recursion"). */
function isStackOverflow(err: unknown): boolean {
  const name = (err as { name?: unknown } | null)?.name;
  return (
    (name === "RangeError" || name === "InternalError") && /call stack|recursion/i.test(String((err as Error).message))
  );
}
