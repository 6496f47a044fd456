// The one door to the core: it alone holds the wasm exports and the views of the core's memory
// (memory.ts). The four transitions' common case and the switch run over typed views
// (transitions.ts: a call into wasm per transition costs more than the transition); the rule each
// one follows is read from the core's RULES table, and every other case, and every other
// operation, is decided by the core. This class adds the calls on tasks, the reads of a task, the
// runtime and the trace ring.

import { E_INVALIDARG, HOST_E_CLRNOTAVAILABLE, S_OK } from "../base/hresult.js";
import { isInt32 } from "../base/args.js";
import type { Frame } from "../base/errors.js";
import {
  Ctl,
  FrameKind,
  HeaderField,
  Layout,
  RuntimeState,
  SideField,
  SlotField,
  TaskFlag,
  TaskState,
  type TraceKind,
} from "./generated/layout.js";
import { COUNTER_NAMES, countersAt, totalsAt, type CounterName, type Counters, type TaskRef } from "./names.js";
import { TransitionDoor } from "./transitions.js";

import { BASE as BASE_, GEN as GEN_, IDX as IDX_ } from "./names.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const BASE: typeof BASE_ = BASE_;
const GEN: typeof GEN_ = GEN_;
const IDX: typeof IDX_ = IDX_;
export { COUNTER_NAMES, MUST_WAIT_FOR_RESUME, TRANSITION_NAMES, unpackCounters } from "./names.js";
export type { CounterName, Counters, TaskRef } from "./names.js";
export type { Frame };

/** @internal */
export class CoreDoor extends TransitionDoor {
  // --- tasks --------------------------------------------------------------------------------

  /** CreateTask: the slot index (>= 0; see baseOf), or a failure HRESULT signed (< 0: its top bit set). */
  createTask(stackSize: number): number {
    if (typeof stackSize !== "number") return this.orUnavailable(E_INVALIDARG) | 0;
    return this.call(this.x.createTask, stackSize) | 0;
  }

  /** CreateTask and Start in one call (a spawn's): the slot index, or a failure as createTask answers. */
  createStarted(stackSize: number): number {
    return typeof stackSize === "number" ? this.startNew(stackSize) : this.orUnavailable(E_INVALIDARG) | 0;
  }

  /**
   * True when the core has started `t` (createStarted) and the runtime is available, read over the
   * views: Start then has nothing left to do in the core. (An armed trap goes to the core.)
   */
  startedInCore(t: TaskRef): boolean {
    const i32 = this.i32;
    return (
      (i32[this.ctlAt] & (Ctl.NOT_STARTED | Ctl.DISABLED | Ctl.TRAP_ARMED)) === 0 &&
      i32[t[BASE] + SlotField.GEN] === t[GEN] &&
      (i32[t[BASE] + SlotField.STATE] & TaskState.MASK) === TaskState.STARTED
    );
  }

  /** The generation of the slot at `base` (see baseOf): with the index, a live task's handle. */
  generationAt(base: number): number {
    return this.i32[base + SlotField.GEN];
  }

  /**
   * A slot's address in i32 units (slots never move), read from the core's chunk table over the
   * views: a spawn makes no call into the core for it.
   */
  baseOf(idx: number): number {
    const chunk = this.i32[this.chunksAt + (idx >>> Layout.CHUNK_SHIFT)] >>> 2;
    return chunk + (idx & (Layout.CHUNK_SLOTS - 1)) * (Layout.SLOT_SIZE >> 2);
  }
  /** The chunk table's address in i32 units: one u32 address per chunk of slots. */
  private readonly chunksAt = this.x.chunksAddr() >>> 2;

  start(t: TaskRef): number {
    return this.task(this.x.start, t);
  }
  /** Validates a handle: S_OK, E_INVALIDARG for a stale one, HOST_E_CLRNOTAVAILABLE. */
  check(t: TaskRef): number {
    return this.task(this.x.check, t);
  }
  reset(t: TaskRef, full: boolean): number {
    return this.task(this.x.reset, t, full ? 1 : 0);
  }
  abort(t: TaskRef, rude: boolean): number {
    return this.task(this.x.abort, t, rude ? 1 : 0);
  }
  abortDeliverable(t: TaskRef): boolean {
    return this.task(this.x.abortDeliverable, t) === 1;
  }
  abortDelivered(t: TaskRef): void {
    this.task(this.x.abortDelivered, t);
  }
  /** Ends the abort delivered to the current task `t` (Thread.ResetAbort): S_OK, HOST_E_INVALIDOPERATION. */
  resetAbort(t: TaskRef): number {
    return this.task(this.x.resetAbort, t);
  }
  preventAsyncAbort(t: TaskRef, begin: boolean): number {
    return this.task(this.x.preventAsyncAbort, t, begin ? 1 : 0);
  }
  locksHeldAdd(t: TaskRef, delta: number): number {
    return this.task(this.x.locksHeldAdd, t, delta);
  }
  setPriority(t: TaskRef, priority: number): number {
    return typeof priority === "number" ? this.task(this.x.setPriority, t, priority) : this.orUnavailable(E_INVALIDARG);
  }
  yieldTask(t: TaskRef): number {
    return this.task(this.x.yieldTask, t);
  }
  alert(t: TaskRef): number {
    return this.task(this.x.alert, t);
  }
  /** Takes a remembered Alert (for the task's alertable wait): true when there was one. */
  takeAlert(t: TaskRef): boolean {
    return this.task(this.x.takeFlag, t, TaskFlag.ALERTED) === 1;
  }
  /** Honours a pending YieldTask request: true when there was one. */
  takeYieldRequest(t: TaskRef): boolean {
    return this.task(this.x.takeFlag, t, TaskFlag.YIELD_REQUESTED) === 1;
  }
  setTaskIdentifier(t: TaskRef, lo: number, hi: number): number {
    return this.call(this.x.setTaskIdentifier, t[IDX], t[GEN], lo, hi) >>> 0;
  }

  // --- the current task's regions -------------------------------------------------------------

  delayAbort(begin: boolean): number {
    return this.call(this.x.delayAbort, begin ? 1 : 0) >>> 0;
  }
  threadAffinity(begin: boolean): number {
    return this.call(this.x.threadAffinity, begin ? 1 : 0) >>> 0;
  }

  // --- reading a task (no call into wasm) ------------------------------------------------------

  /** A field of the task's side record: 0 while it has none (nothing set one). */
  private sideField(t: TaskRef, x: SideField): number {
    return this.i32[t[BASE] + SlotField.SIDE] === 0 ? 0 : this.i32[(this.i32[t[BASE] + SlotField.SIDE] >> 2) + x];
  }
  /** The task's THREAD_PRIORITY value, as the core keeps it. */
  priority(t: TaskRef): number {
    return this.sideField(t, SideField.PRIORITY);
  }
  /** ICLRTask::LocksHeld: Crsts the task holds, as the core counts them. */
  locksHeld(t: TaskRef): number {
    return this.sideField(t, SideField.LOCKS);
  }
  isLive(t: TaskRef): boolean {
    return (
      this.i32[t[BASE] + SlotField.GEN] === t[GEN] &&
      (this.i32[t[BASE] + SlotField.STATE] & TaskState.MASK) !== TaskState.FREE
    );
  }
  depth(t: TaskRef): number {
    return this.i32[t[BASE] + SlotField.DEPTH];
  }
  /**
   * An abort (rude or not) is requested and not yet delivered, or delivered and not reset (it is
   * raised again): the core holds it.
   */
  abortPending(t: TaskRef): boolean {
    return (
      this.isLive(t) &&
      (this.i32[t[BASE] + SlotField.FLAGS] & (TaskFlag.ABORT_REQUESTED | TaskFlag.ABORT_DELIVERED)) !== 0
    );
  }
  /** An abort was delivered to the task and not reset: every safe point a region does not hold raises it again. */
  abortDeliveredNotReset(t: TaskRef): boolean {
    return this.isLive(t) && (this.i32[t[BASE] + SlotField.FLAGS] & TaskFlag.ABORT_DELIVERED) !== 0;
  }
  /** A rude abort is requested: the task ends at its next safe point without running its handlers. */
  rudeAbortRequested(t: TaskRef): boolean {
    return this.isLive(t) && (this.i32[t[BASE] + SlotField.FLAGS] & TaskFlag.RUDE_ABORT) !== 0;
  }
  /** FRAME_NONE, FRAME_LEAVE or FRAME_REVERSE: the task's mode is its top frame's. */
  topKind(t: TaskRef): FrameKind {
    const depth = this.i32[t[BASE] + SlotField.DEPTH];
    return depth === 0 ? FrameKind.NONE : this.i32[(this.i32[t[BASE] + SlotField.FRAMES] >> 2) + ((depth - 1) << 1)];
  }
  isManaged(t: TaskRef): boolean {
    return this.topKind(t) === FrameKind.REVERSE;
  }
  frames(t: TaskRef): Frame[] {
    const out: Frame[] = [];
    const depth = this.depth(t);
    const at = this.i32[t[BASE] + SlotField.FRAMES] >> 2;
    for (let i = 0; i < depth; i++) {
      // A reverse enter's target word is not written (transitions.ts): it reads 0.
      const reverse = this.i32[at + i * 2] === FrameKind.REVERSE;
      out.push({ kind: reverse ? "reverseEnter" : "leave", target: reverse ? 0 : this.i32[at + i * 2 + 1] >>> 0 });
    }
    return out;
  }
  counters(t: TaskRef): Counters {
    return countersAt(this.i32, t[BASE]);
  }
  /**
   * The task's counters in one small integer (4 bits each, the core's order from the lowest bits)
   * when every one is below 16, as most fibers' are when they end; -1 when one is not. A fiber's
   * final counters are kept so (names.ts's unpackCounters reads them back): its end allocates nothing.
   */
  packCounters(t: TaskRef): number {
    const i32 = this.i32;
    const at = t[BASE] + SlotField.COUNTERS;
    if (i32[t[BASE] + SlotField.SIDE] !== 0) return -1; // (it may hold a high word: counters() reads it)
    let packed = 0;
    for (let c = Layout.COUNTER_COUNT - 1; c >= 0; c--) {
      const v = i32[at + c] >>> 0;
      if (!(v < 16)) return -1;
      packed = (packed << 4) | v;
    }
    return packed;
  }
  /** The totals: computed by the core (ended tasks' sums plus the live tasks' counters). */
  totals(): Counters {
    this.call(this.x.sumTotals);
    return totalsAt(this.f64, (this.hdr >> 1) + (HeaderField.TOTALS >> 3));
  }
  /** Live tasks of every thread of the core (the sum of the thread records' live counts). */
  liveTasks(): number {
    return this.x.liveCount();
  }
  /** This thread's root task's slot index (0 but on a thread attached to a shared core); its generation is the slot's. */
  rootIndex(): number {
    return this.rootIdx;
  }

  /** Test hook: sets one of a live task's counters (to carry counters past 2^32 in a test). */
  presetCounter(t: TaskRef, name: CounterName, value: number): number {
    return this.call(this.x.presetCounter, t[IDX], t[GEN], COUNTER_NAMES.indexOf(name), value) >>> 0;
  }

  // --- the runtime ------------------------------------------------------------------------------

  startRuntime(): number {
    return this.call(this.x.startRuntime) >>> 0;
  }
  runtimeState(): RuntimeState {
    return this.x.runtimeState();
  }
  /**
   * S_OK, or HOST_E_CLRNOTAVAILABLE when the runtime is not started or disabled: asked by the
   * public calls that need nothing else from the core, so that they too meet an armed trap.
   */
  available(): number {
    return this.call(this.x.available) >>> 0;
  }

  /**
   * S_OK when the runtime is started and not disabled, else HOST_E_CLRNOTAVAILABLE, without
   * calling into the core (so an armed trap waits for the first call that reaches the core).
   */
  peekAvailable(): number {
    return this.x.runtimeState() === RuntimeState.STARTED ? S_OK : HOST_E_CLRNOTAVAILABLE;
  }
  /** peekAvailable() as a boolean: true when the runtime is started and not disabled. */
  isAvailable(): boolean {
    return this.x.runtimeState() === RuntimeState.STARTED;
  }

  /**
   * The answer of a host-side check that failed (E_INVALIDARG, E_POINTER, …), unless the runtime
   * is unavailable: "any call on a disabled runtime answers HOST_E_CLRNOTAVAILABLE" comes first.
   */
  orUnavailable(hr: number): number {
    return this.peekAvailable() || hr;
  }
  isSuspended(): boolean {
    return (this.i32[this.ctlAt] & Ctl.SUSPENDED) !== 0;
  }
  suspend(on: boolean): number {
    return this.call(this.x.suspend, on ? 1 : 0) >>> 0;
  }
  disable(): void {
    this.call(this.x.disable);
  }
  armTrap(): void {
    this.call(this.x.armTrap);
  }
  countManaged(): number {
    return this.call(this.x.countManaged);
  }
  checkInvariants(): boolean {
    return this.call(this.x.checkInvariants) === 1;
  }
  init(defaultStackSize: number, maxStackSize: number): number {
    return this.call(this.x.init, defaultStackSize, maxStackSize) >>> 0;
  }
  /** Bytes of linear memory the core holds now. */
  memoryBytes(): number {
    // Not the buffer's length: the memory is reserved whole at creation (src/core/load.ts).
    return this.x.usedBytes();
  }

  // --- the trace ring -----------------------------------------------------------------------------

  traceStart(capacity: number): number {
    // Only a value the i32 parameter takes unchanged crosses: 2^32 + 5 would wrap to 5, and a
    // bigint or a symbol would make the call itself throw (a "trap" that disables the runtime).
    if (!isInt32(capacity)) return this.orUnavailable(E_INVALIDARG);
    return this.call(this.x.traceStart, capacity) >>> 0;
  }
  traceStop(): void {
    this.call(this.x.traceStop);
  }
  traceRecord(kind: TraceKind, t: TaskRef, arg: number): void {
    this.call(this.x.record, kind, t[IDX], arg);
  }
  /** Events the ring overwrote: written since traceStart beyond its capacity. */
  traceDropped(): number {
    const h = this.hdr;
    return Math.max(0, (this.i32[h + HeaderField.TRACE_COUNT] >>> 0) - this.i32[h + HeaderField.TRACE_CAPACITY]);
  }
  /** The recorded events, oldest first. */
  traceEvents(): { time: number; kind: TraceKind; idx: number; gen: number; arg: number }[] {
    const out: { time: number; kind: TraceKind; idx: number; gen: number; arg: number }[] = [];
    this.forEachTraceEvent((kind, idx, gen, arg, time) => void out.push({ time, kind, idx, gen, arg }));
    return out;
  }
  /**
   * Visits the events the ring holds, oldest first, without making an object per event: the
   * recorder walks the ring this way to learn which fibers and wait texts it still refers to.
   */
  forEachTraceEvent(visit: (kind: TraceKind, idx: number, gen: number, arg: number, time: number) => void): void {
    const h = this.hdr;
    const base = this.i32[h + HeaderField.TRACE_BASE];
    const capacity = this.i32[h + HeaderField.TRACE_CAPACITY];
    if (base === 0 || capacity <= 0) return;
    const written = this.i32[h + HeaderField.TRACE_COUNT] >>> 0;
    const n = Math.min(written, capacity);
    for (let i = written - n; i < written; i++) {
      const at = base + (i % capacity) * Layout.TRACE_EVENT_SIZE;
      const w = at >> 2;
      visit(this.i32[w + 2], this.i32[w + 3], this.i32[w + 4], this.i32[w + 5] >>> 0, this.f64[at >> 3]);
    }
  }
  /** True while slot `idx` holds a live task of generation `gen` (a handle read back from the ring). */
  isLiveHandle(idx: number, gen: number): boolean {
    // (Every index below H_CHUNKS << CHUNK_SHIFT lies in a made chunk; a never-handed slot reads free.)
    if (!(idx >= 0 && idx < this.i32[this.hdr + HeaderField.CHUNKS] << Layout.CHUNK_SHIFT)) return false;
    const base = this.baseOf(idx);
    return (
      this.i32[base + SlotField.GEN] === gen && (this.i32[base + SlotField.STATE] & TaskState.MASK) !== TaskState.FREE
    );
  }
}
