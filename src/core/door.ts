// The one door to the core: it alone holds the wasm exports and the views of the core's memory.
// The four transitions' common case runs here over typed views (a call into wasm per transition
// costs more than the transition); the rule each one follows is read from the core's RULES table,
// and every other case, and every other operation, is decided by the core.

import { E_FAIL, E_INVALIDARG, HOST_E_CLRNOTAVAILABLE, S_OK } from "../hresult.js";
import { isInt32 } from "../args.js";
import type { Frame } from "../errors.js";
import type { CoreInstance } from "./load.js";
import {
  Act, CORE_FUNCTIONS, CoreAnswer, Counter, Ctl, FrameKind, HeaderField, Layout, RuntimeState, SlotField, TaskFlag,
  TaskState, TraceKind, Transition,
  type CoreExports,
} from "./generated/layout.js";

type Fn = (...args: number[]) => number | void;

/** Not an HRESULT: a transition that must wait for the runtime to resume (assembly/hresult.ts). */
export const MUST_WAIT_FOR_RESUME = CoreAnswer.MUST_WAIT_FOR_RESUME;

/** The public name of each of the core's counters: a counter added in the core fails the type check here. */
const COUNTER_NAME = {
  [Counter.LEAVE]: "leaveRuntime",
  [Counter.ENTER]: "enterRuntime",
  [Counter.REVERSE_ENTER]: "reverseEnterRuntime",
  [Counter.REVERSE_LEAVE]: "reverseLeaveRuntime",
  [Counter.UNMATCHED_REVERSE_ENTER]: "unmatchedReverseEnter",
  [Counter.SWITCH_IN]: "switchIn",
  [Counter.SWITCH_OUT]: "switchOut",
} as const satisfies Record<Counter, string>;
export type CounterName = (typeof COUNTER_NAME)[Counter];
export type Counters = Record<CounterName, number>;
/** The contract's name of each transition. */
export const TRANSITION_NAMES = {
  [Transition.LEAVE]: "LeaveRuntime",
  [Transition.ENTER]: "EnterRuntime",
  [Transition.REVERSE_ENTER]: "ReverseEnterRuntime",
  [Transition.REVERSE_LEAVE]: "ReverseLeaveRuntime",
} as const satisfies Record<Transition, string>;

/** The counters' names in the core's order. */
export const COUNTER_NAMES: readonly CounterName[] = Array.from(
  { length: Layout.COUNTER_COUNT },
  (_, c) => COUNTER_NAME[c as Counter],
);

export type { Frame };

/** A task as the core knows it: slot index, generation, and the slot's address in i32 units. */
export interface TaskRef {
  idx: number;
  gen: number;
  base: number;
}

export class CoreDoor {
  private readonly x: CoreExports;
  private readonly memory: WebAssembly.Memory;
  private i32!: Int32Array;
  private f64!: Float64Array;
  /** i32 index of the current task's slot: where the fast path writes. */
  private cur = 0;

  // The layout comes from the generated module (its const enums are inlined by tsc); what depends
  // on where the core placed its header is computed here once.
  private readonly hdr: number;
  private readonly ctlAt: number;
  private readonly rules: number;
  // The exports the hot paths call, in fixed-shape properties: a load from the exports object (a
  // dictionary of ~100 names) costs more than the transition itself.
  private readonly fnTransition: CoreExports["transition"];
  private readonly fnSwitchIn: CoreExports["switchIn"];
  private readonly fnSwitchOut: CoreExports["switchOut"];
  private readonly fnExchange: CoreExports["exchange"];
  private readonly currentAt: number;

  constructor(core: CoreInstance) {
    this.memory = core.memory;
    const x = core.exports as unknown as CoreExports;
    for (const name of CORE_FUNCTIONS) {
      if (typeof x[name] !== "function") throw new Error(`the core exports no function ${name}: rebuild it (npm run build:core)`);
    }
    this.x = x;
    this.refresh();
    this.hdr = x.headerAddr() >> 2;
    this.ctlAt = this.hdr + HeaderField.CTL;
    this.currentAt = this.hdr + HeaderField.CURRENT;
    this.rules = (x.RULES.value as number) >> 2;
    this.fnTransition = x.transition;
    this.fnSwitchIn = x.switchIn;
    this.fnSwitchOut = x.switchOut;
    this.fnExchange = x.exchange;
    this.readRules();
  }

  /** The core's memory grew: the old views are detached. Every slow call checks and refreshes here. */
  private refresh(): void {
    this.i32 = new Int32Array(this.memory.buffer);
    this.f64 = new Float64Array(this.memory.buffer);
  }

  /**
   * Calls into the core. A trap (or a failed assertion in the debug core) answers E_FAIL, once:
   * the runtime is then disabled and the core answers HOST_E_CLRNOTAVAILABLE to everything.
   */
  private call(fn: () => number | void): number;
  private call(fn: (a: number) => number | void, a: number): number;
  private call(fn: (a: number, b: number) => number | void, a: number, b: number): number;
  private call(fn: (a: number, b: number, c: number) => number | void, a: number, b: number, c: number): number;
  private call(fn: (a: number, b: number, c: number, d: number) => number | void, a: number, b: number, c: number, d: number): number;
  private call(fn: Fn, a = 0, b = 0, c = 0, d = 0): number {
    let r: number;
    try {
      r = fn(a, b, c, d) as number;
    } catch (err) {
      this.fault(err);
      return E_FAIL;
    }
    if (this.i32.length === 0) this.refresh();
    return r;
  }

  private fault(err: unknown): void {
    if (this.i32.length === 0) this.refresh();
    this.lastFault = err;
    // The core may have stopped half-way; only the control word is written, never read back.
    // As the core's disable() does: a disabled runtime is not suspended any more.
    this.i32[this.ctlAt] = (this.i32[this.ctlAt] | Ctl.DISABLED) & ~(Ctl.TRAP_ARMED | Ctl.SUSPENDED);
    this.onFault?.(err);
  }

  /** The error behind the last E_FAIL, for diagnostics. */
  lastFault: unknown = undefined;
  /** Told when a trap disabled the runtime. */
  onFault: ((err: unknown) => void) | null = null;

  // --- the transitions: the hot path -------------------------------------------------------
  //
  // Each transition either pushes a frame or pops one. Which frame kind it pushes, and on which
  // top frames it may push or pop, is read from the core's RULES table when the door opens
  // (readRules), so the fast paths below follow the table instead of restating the rules. They run
  // only while the control word is clear (the runtime started, not suspended, not tracing) and
  // the frame fits the buffer; everything else goes to the core, which decides.

  /** LeaveRuntime(target): answers an unsigned HRESULT. Neither throws nor allocates. */
  leave(target: number): number {
    return this.push(Transition.LEAVE, this.pushKind0, this.pushTops0, target);
  }
  /** EnterRuntime: an HRESULT, or MUST_WAIT_FOR_RESUME while the runtime is suspended. */
  enter(): number {
    return this.pop(Transition.ENTER, this.popTop1);
  }
  /** ReverseEnterRuntime: an HRESULT, or MUST_WAIT_FOR_RESUME while the runtime is suspended. */
  reverseEnter(): number {
    return this.push(Transition.REVERSE_ENTER, this.pushKind2, this.pushTops2, 0);
  }
  reverseLeave(): number {
    return this.pop(Transition.REVERSE_LEAVE, this.popTop3);
  }
  /** Any transition by its number. */
  transition(op: Transition, target: number): number {
    return op === Transition.LEAVE
      ? this.leave(target)
      : op === Transition.ENTER
        ? this.enter()
        : op === Transition.REVERSE_ENTER
          ? this.reverseEnter()
          : this.reverseLeave();
  }

  private push(op: number, kind: number, tops: number, target: number): number {
    const i32 = this.i32;
    const b = this.cur;
    const depth = i32[b + SlotField.DEPTH];
    if (i32[this.ctlAt] === 0 && depth < i32[b + SlotField.LIMIT]) {
      const frames = i32[b + SlotField.FRAMES] >> 2;
      // tops: a bitmask of the top-frame kinds this push is allowed on (7: any, no need to look).
      if (tops === 7 || ((tops >> (depth === 0 ? 0 : i32[frames + ((depth - 1) << 1)])) & 1) !== 0) {
        const at = frames + (depth << 1);
        i32[at] = kind;
        i32[at + 1] = target;
        i32[b + SlotField.DEPTH] = depth + 1;
        this.f64[(b >> 1) + (SlotField.COUNTERS >> 3) + op]++;
        return 0;
      }
    }
    return this.call(this.fnTransition, op, target) >>> 0;
  }

  private pop(op: number, top: number): number {
    const i32 = this.i32;
    const b = this.cur;
    const depth = i32[b + SlotField.DEPTH];
    if (i32[this.ctlAt] === 0 && depth > 0 && i32[(i32[b + SlotField.FRAMES] >> 2) + ((depth - 1) << 1)] === top) {
      i32[b + SlotField.DEPTH] = depth - 1;
      this.f64[(b >> 1) + (SlotField.COUNTERS >> 3) + op]++;
      return 0;
    }
    return this.call(this.fnTransition, op, 0) >>> 0;
  }

  /** Reads RULES (op × top-frame kind → action) into the fast paths' parameters. */
  private readRules(): void {
    const pushKind = [0, 0, 0, 0];
    const pushTops = [0, 0, 0, 0];
    const popTop = [-1, -1, -1, -1];
    for (let op = 0; op < 4; op++) {
      for (let top = 0; top < 3; top++) {
        const act = this.i32[this.rules + op * 3 + top];
        if (act === Act.POP) popTop[op] = top;
        else if (act !== Act.INVALID) {
          pushKind[op] = act; // a push action is the kind of the frame it pushes
          pushTops[op] |= 1 << top;
        }
      }
      // The fast paths assume each transition either pushes one kind or pops from one kind.
      if ((pushTops[op] !== 0) === (popTop[op] !== -1) || (op % 2 === 0) !== (pushTops[op] !== 0)) {
        throw new Error(`the core's RULES table changed shape (transition ${op}): update CoreDoor's fast paths`);
      }
    }
    this.pushKind0 = pushKind[0];
    this.pushTops0 = pushTops[0];
    this.pushKind2 = pushKind[2];
    this.pushTops2 = pushTops[2];
    this.popTop1 = popTop[1];
    this.popTop3 = popTop[3];
  }
  private pushKind0 = 0;
  private pushTops0 = 0;
  private pushKind2 = 0;
  private pushTops2 = 0;
  private popTop1 = 0;
  private popTop3 = 0;

  // --- tasks --------------------------------------------------------------------------------

  /**
   * CreateTask: the new task's slot index (>= 0; see generationOf and baseOf), or a failure
   * HRESULT in its signed form (< 0: every failure code has its top bit set).
   */
  createTask(stackSize: number): number {
    if (typeof stackSize !== "number") return this.orUnavailable(E_INVALIDARG) | 0;
    return this.call(this.x.createTask, stackSize) | 0;
  }

  /** A live slot's generation: with the index, the task's handle. */
  generationOf(idx: number): number {
    return this.i32[this.slotBase(idx) + SlotField.GEN];
  }

  /** A slot's address in i32 units (slots never move). */
  baseOf(idx: number): number {
    return this.slotBase(idx);
  }
  private slotBase(idx: number): number {
    return this.x.slotAddress(idx) >> 2;
  }

  private task(fn: (idx: number, gen: number, arg: number) => number | void, t: TaskRef, arg = 0): number {
    return this.call(fn, t.idx, t.gen, arg) >>> 0;
  }

  start(t: TaskRef): number { return this.task(this.x.start, t); }
  /** Validates a handle: S_OK, E_INVALIDARG for a stale one, HOST_E_CLRNOTAVAILABLE. */
  check(t: TaskRef): number { return this.task(this.x.check, t); }
  reset(t: TaskRef, full: boolean): number { return this.task(this.x.reset, t, full ? 1 : 0); }
  abort(t: TaskRef, rude: boolean): number { return this.task(this.x.abort, t, rude ? 1 : 0); }
  abortDeliverable(t: TaskRef): boolean { return this.task(this.x.abortDeliverable, t) === 1; }
  abortDelivered(t: TaskRef): void { this.task(this.x.abortDelivered, t); }
  preventAsyncAbort(t: TaskRef, begin: boolean): number { return this.task(this.x.preventAsyncAbort, t, begin ? 1 : 0); }
  locksHeldAdd(t: TaskRef, delta: number): number { return this.task(this.x.locksHeldAdd, t, delta); }
  setPriority(t: TaskRef, priority: number): number {
    return typeof priority === "number" ? this.task(this.x.setPriority, t, priority) : this.orUnavailable(E_INVALIDARG);
  }
  yieldTask(t: TaskRef): number { return this.task(this.x.yieldTask, t); }
  alert(t: TaskRef): number { return this.task(this.x.alert, t); }
  /** Takes a remembered Alert (for the task's alertable wait): true when there was one. */
  takeAlert(t: TaskRef): boolean { return this.task(this.x.takeFlag, t, TaskFlag.ALERTED) === 1; }
  /** Honours a pending YieldTask request: true when there was one. */
  takeYieldRequest(t: TaskRef): boolean { return this.task(this.x.takeFlag, t, TaskFlag.YIELD_REQUESTED) === 1; }
  setTaskIdentifier(t: TaskRef, lo: number, hi: number): number {
    return this.call(this.x.setTaskIdentifier, t.idx, t.gen, lo, hi) >>> 0;
  }

  /** SwitchIn / SwitchOut / ExitTask also move the fast path's notion of the current task. */
  switchIn(t: TaskRef): number {
    const hr = this.call(this.fnSwitchIn, t.idx, t.gen) >>> 0;
    if (hr === 0) this.cur = t.base;
    return hr;
  }
  switchOut(t: TaskRef): number {
    const hr = this.call(this.fnSwitchOut, t.idx, t.gen) >>> 0;
    if (hr === 0) this.cur = this.rootBase;
    return hr;
  }
  /**
   * SwitchOut of `from`, then SwitchIn of `to`: the scheduler's switch between two fibers. Its
   * common case (the control word clear, `from` the task switched in, both handles live: the
   * case the core's exchange accepts) is done here over the views; anything else asks the core.
   */
  exchange(from: TaskRef, to: TaskRef): number {
    const i32 = this.i32;
    if (
      i32[this.ctlAt] === 0 &&
      i32[this.currentAt] === from.idx &&
      i32[from.base + SlotField.GEN] === from.gen &&
      i32[to.base + SlotField.GEN] === to.gen // a freed slot's generation moves on, so a match is live
    ) {
      i32[this.currentAt] = to.idx;
      const f64 = this.f64;
      f64[(from.base >> 1) + (SlotField.COUNTERS >> 3) + Counter.SWITCH_OUT]++;
      f64[(to.base >> 1) + (SlotField.COUNTERS >> 3) + Counter.SWITCH_IN]++;
      this.cur = to.base;
      return 0;
    }
    const hr = this.call(this.fnExchange, from.idx, from.gen, to.idx, to.gen) >>> 0;
    if (hr === 0) this.cur = to.base;
    return hr;
  }
  exitTask(t: TaskRef): number {
    const hr = this.task(this.x.exitTask, t);
    if (hr === 0) this.cur = this.rootBase;
    return hr;
  }
  private rootBase = 0;
  setRoot(root: TaskRef): void {
    this.rootBase = root.base;
    this.cur = root.base;
  }

  /** The slot index of the task switched in (0: the root task). */
  currentIdx(): number { return this.i32[this.currentAt]; }

  // --- the current task's regions -------------------------------------------------------------

  delayAbort(begin: boolean): number { return this.call(this.x.delayAbort, begin ? 1 : 0) >>> 0; }
  threadAffinity(begin: boolean): number { return this.call(this.x.threadAffinity, begin ? 1 : 0) >>> 0; }

  // --- reading a task (no call into wasm) ------------------------------------------------------

  /** The task's THREAD_PRIORITY value, as the core keeps it. */
  priority(t: TaskRef): number { return this.i32[t.base + SlotField.PRIORITY]; }
  /** ICLRTask::LocksHeld: Crsts the task holds, as the core counts them. */
  locksHeld(t: TaskRef): number { return this.i32[t.base + SlotField.LOCKS]; }
  isLive(t: TaskRef): boolean {
    return this.i32[t.base + SlotField.GEN] === t.gen && this.i32[t.base + SlotField.STATE] !== TaskState.FREE;
  }
  depth(t: TaskRef): number { return this.i32[t.base + SlotField.DEPTH]; }
  /** An abort (rude or not) is requested and not yet delivered: the core holds the request. */
  abortRequested(t: TaskRef): boolean { return this.isLive(t) && (this.i32[t.base + SlotField.FLAGS] & TaskFlag.ABORT_REQUESTED) !== 0; }
  /** A rude abort is requested: the task ends at its next safe point without running its handlers. */
  rudeAbortRequested(t: TaskRef): boolean { return this.isLive(t) && (this.i32[t.base + SlotField.FLAGS] & TaskFlag.RUDE_ABORT) !== 0; }
  /** FRAME_NONE, FRAME_LEAVE or FRAME_REVERSE: the task's mode is its top frame's. */
  topKind(t: TaskRef): FrameKind {
    const depth = this.i32[t.base + SlotField.DEPTH];
    return depth === 0 ? FrameKind.NONE : this.i32[(this.i32[t.base + SlotField.FRAMES] >> 2) + ((depth - 1) << 1)];
  }
  isManaged(t: TaskRef): boolean { return this.topKind(t) === FrameKind.REVERSE; }
  frames(t: TaskRef): Frame[] {
    const out: Frame[] = [];
    const depth = this.depth(t);
    const at = this.i32[t.base + SlotField.FRAMES] >> 2;
    for (let i = 0; i < depth; i++) {
      const kind = this.i32[at + i * 2] === FrameKind.REVERSE ? "reverseEnter" : "leave";
      out.push({ kind, target: this.i32[at + i * 2 + 1] >>> 0 });
    }
    return out;
  }
  counters(t: TaskRef): Counters { return this.readCounters((t.base >> 1) + (SlotField.COUNTERS >> 3)); }
  /** The totals: computed by the core (ended tasks' sums plus the live tasks' counters). */
  totals(): Counters {
    this.call(this.x.sumTotals);
    return this.readCounters((this.hdr >> 1) + (HeaderField.TOTALS >> 3));
  }
  private readCounters(at: number): Counters {
    const c = {} as Counters;
    for (let i = 0; i < COUNTER_NAMES.length; i++) c[COUNTER_NAMES[i]] = this.f64[at + i];
    return c;
  }
  liveTasks(): number { return this.i32[this.hdr + HeaderField.LIVE]; }

  /** Test hook: sets one of a live task's counters (to carry counters past 2^32 in a test). */
  presetCounter(t: TaskRef, name: CounterName, value: number): number {
    return this.call(this.x.presetCounter, t.idx, t.gen, COUNTER_NAMES.indexOf(name), value) >>> 0;
  }

  // --- the runtime ------------------------------------------------------------------------------

  startRuntime(): number { return this.call(this.x.startRuntime) >>> 0; }
  runtimeState(): RuntimeState { return this.x.runtimeState(); }
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
  isSuspended(): boolean { return (this.i32[this.ctlAt] & Ctl.SUSPENDED) !== 0; }
  suspend(on: boolean): number { return this.call(this.x.suspend, on ? 1 : 0) >>> 0; }
  disable(): void { this.call(this.x.disable); }
  armTrap(): void { this.call(this.x.armTrap); }
  countManaged(): number { return this.call(this.x.countManaged); }
  checkInvariants(): boolean { return this.call(this.x.checkInvariants) === 1; }
  init(defaultStackSize: number, maxStackSize: number): number {
    return this.call(this.x.init, defaultStackSize, maxStackSize) >>> 0;
  }
  /** Bytes of linear memory the core holds now. */
  memoryBytes(): number { return this.memory.buffer.byteLength; }

  // --- the trace ring -----------------------------------------------------------------------------

  traceStart(capacity: number): number {
    // Only a value the i32 parameter takes unchanged crosses: 2^32 + 5 would wrap to 5, and a
    // bigint or a symbol would make the call itself throw (a "trap" that disables the runtime).
    if (!isInt32(capacity)) return this.orUnavailable(E_INVALIDARG);
    return this.call(this.x.traceStart, capacity) >>> 0;
  }
  traceStop(): void { this.call(this.x.traceStop); }
  traceRecord(kind: TraceKind, t: TaskRef, arg: number): void { this.call(this.x.record, kind, t.idx, arg); }
  /** Events the ring overwrote: written since traceStart beyond its capacity. */
  traceDropped(): number {
    const h = this.hdr;
    return Math.max(0, (this.i32[h + HeaderField.TRACE_COUNT] >>> 0) - this.i32[h + HeaderField.TRACE_CAPACITY]);
  }
  /** The recorded events, oldest first. */
  traceEvents(): { time: number; kind: TraceKind; idx: number; gen: number; arg: number }[] {
    const h = this.hdr;
    const base = this.i32[h + HeaderField.TRACE_BASE];
    const capacity = this.i32[h + HeaderField.TRACE_CAPACITY];
    const written = this.i32[h + HeaderField.TRACE_COUNT] >>> 0;
    const n = Math.min(written, capacity);
    const out = [];
    for (let i = written - n; i < written; i++) {
      const at = base + (i % capacity) * Layout.TRACE_EVENT_SIZE;
      out.push({
        time: this.f64[at >> 3],
        kind: this.i32[(at >> 2) + 2],
        idx: this.i32[(at >> 2) + 3],
        gen: this.i32[(at >> 2) + 4],
        arg: this.i32[(at >> 2) + 5] >>> 0,
      });
    }
    return out;
  }
}
