// The door's hot paths: the four transitions and the switch between two fibers, over the views of
// the core's memory, in the common case; every other case goes to the core, which decides.

import { Counter, SlotField, Transition, type CoreExports } from "./generated/layout.js";
import type { CoreInstance } from "./load.js";
import { STACK_PROBE_DEPTH, probeStack } from "./memory.js";
import { SharedTransitions } from "./shared-transitions.js";
import type { TaskRef } from "./names.js";

import { BASE as BASE_, GEN as GEN_, IDX as IDX_ } from "./names.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const BASE: typeof BASE_ = BASE_;
const GEN: typeof GEN_ = GEN_;
const IDX: typeof IDX_ = IDX_;
/**
 * True once a second door was made in the process: from then on every door's four transitions are
 * the shared fast paths (SHARED), so that a call site seeing several hosts sees one function.
 */
let sharedFastPaths = false;
/** The process's only door so far (weakly: a host let go must not be kept). */
let firstDoor: WeakRef<TransitionDoor> | null = null;

/** The shared fast paths: the prototype's methods, one function each for every door (see sharedLeave). */
const SHARED = {
  leave: (SharedTransitions.prototype as unknown as { sharedLeave: (target: number) => number }).sharedLeave,
  enter: (SharedTransitions.prototype as unknown as { sharedEnter: () => number }).sharedEnter,
  reverseEnter: (SharedTransitions.prototype as unknown as { sharedReverseEnter: () => number }).sharedReverseEnter,
  reverseLeave: (SharedTransitions.prototype as unknown as { sharedReverseLeave: () => number }).sharedReverseLeave,
};

export class TransitionDoor extends SharedTransitions {
  private rootBase = 0;
  // The exports the hot paths call, in fixed-shape properties: a load from the exports object (a
  // dictionary of ~100 names) costs more than the transition itself.
  private readonly fnSwitchIn: CoreExports["switchIn"];
  private readonly fnSwitchOut: CoreExports["switchOut"];
  private readonly fnExchange: CoreExports["exchange"];
  private readonly fnExitTask: CoreExports["exitTask"];
  private readonly fnCreateStarted: CoreExports["createStarted"];

  constructor(core: CoreInstance) {
    super(core);
    const x = this.x;
    this.fnSwitchIn = x.switchIn;
    this.fnSwitchOut = x.switchOut;
    this.fnExchange = x.exchange;
    this.fnExitTask = x.exitTask;
    this.fnCreateStarted = x.createStarted;
    this.registerDoor();
    this.makeTransitions();
  }
  // --- the transitions: the hot path -------------------------------------------------------
  //
  // Each transition either pushes a frame or pops one. Which frame kind it pushes, and on which
  // top frames it may push or pop, is read from the core's RULES table when the door opens
  // (readRules), so the fast paths below follow the table instead of restating the rules. They run
  // only while the control word is clear (the runtime started, not suspended, not tracing) and
  // the frame fits the buffer; everything else goes to the core, which decides.

  // The four transitions are closures made once, here, over the views as constants: the core's
  // memory grows only past its reservation (src/core/load.ts), so its views do not change, and
  // while one door is in the process a call site sees one closure, which the optimiser inlines
  // with its captured views folded in. A view in a field (or a `let`) would be loaded and checked
  // on every call.
  // Two doors calling through the same call site make it polymorphic and lose this (the README's
  // Performance section has the number).

  /** LeaveRuntime(target): answers an unsigned HRESULT. Neither throws nor allocates. */
  readonly leave!: (target: number) => number;
  /** EnterRuntime: an HRESULT, or MUST_WAIT_FOR_RESUME while the runtime is suspended. */
  readonly enter!: () => number;
  /** ReverseEnterRuntime: an HRESULT, or MUST_WAIT_FOR_RESUME while the runtime is suspended. */
  readonly reverseEnter!: () => number;
  readonly reverseLeave!: () => number;

  /** True when this door's transitions are the shared fast paths (the process has had two doors). */
  get sharesFastPaths(): boolean {
    return sharedFastPaths;
  }

  /** The current task's transition depth (one read: the hooked export's outermost call keeps it). */
  currentDepth(): number {
    return this.i32[this.cur + SlotField.DEPTH];
  }

  /**
   * After a growth past the reservation: new views, so new closures over them (a closure taken
   * before, such as the driver's tryExchange for its slice, reads the detached views as
   * undefined, so it declines and its caller asks the core: right, only slower).
   */
  protected override refresh(): void {
    super.refresh();
    this.makeTransitions();
  }

  /**
   * Builds the four fast paths (from the constructor, after readRules, after a growth, and when a
   * second door is made in the process): closures over this door's views while it is the only
   * door, the shared fast paths (one function each for every door) once there are two.
   */
  private makeTransitions(): void {
    if (sharedFastPaths) {
      const self = this as unknown as {
        leave: (target: number) => number;
        enter: () => number;
        reverseEnter: () => number;
        reverseLeave: () => number;
      };
      self.leave = SHARED.leave;
      self.enter = SHARED.enter;
      self.reverseEnter = SHARED.reverseEnter;
      self.reverseLeave = SHARED.reverseLeave;
    } else {
      this.makeOwnTransitions();
    }
    this.makeTryExchange();
  }

  /** Counts the doors of the process: the second one turns every door to the shared fast paths. */
  private registerDoor(): void {
    if (sharedFastPaths) return;
    const first = firstDoor?.deref();
    if (first === undefined || first === this) {
      firstDoor = new WeakRef(this);
      return;
    }
    sharedFastPaths = true;
    firstDoor = null;
    first.makeTransitions(); // (this door's are made by its constructor, after this)
  }

  /** The four fast paths as closures over this door's views, folded in while it is the process's only door. */
  private makeOwnTransitions(): void {
    const i32 = this.i32;
    const ctlAt = this.ctlAt;
    const fn = this.fnTransition;
    const slow = (op: number, target: number): number => {
      probeStack(STACK_PROBE_DEPTH); // (see probeStack: an overflow fails here, not in the core)
      return this.call(fn, op, target) >>> 0;
    };
    // A push: the control word clear, room below the limit, a top frame the RULES allow (tops: a
    // bitmask of allowed top-frame kinds; 7: any, no need to look).
    // Each counter is a u32 low word (read as i32): one at 2^32 - 1 (-1) would carry into the
    // task's side record, which only the core can make, so the fast path declines before it
    // changes anything (n === 0) and the core does the transition and the carry.
    const pushLeave = this.pushKind0;
    const pushLeaveTops = this.pushTops0;
    const pushReverse = this.pushKind2;
    const pushReverseTops = this.pushTops2;
    const popEnter = this.popTop1;
    const popReverse = this.popTop3;
    (this as { leave: (target: number) => number }).leave = (target: number): number => {
      const b = this.cur;
      const depth = i32[b + SlotField.DEPTH];
      if (i32[ctlAt] === 0 && depth < i32[b + SlotField.LIMIT]) {
        const frames = i32[b + SlotField.FRAMES] >> 2;
        if (
          pushLeaveTops === 7 ||
          ((pushLeaveTops >> (depth === 0 ? 0 : i32[frames + ((depth - 1) << 1)])) & 1) !== 0
        ) {
          const n = (i32[b + SlotField.COUNTERS + Transition.LEAVE] + 1) | 0;
          if (n !== 0) {
            const at = frames + (depth << 1);
            i32[at] = pushLeave;
            i32[at + 1] = target;
            i32[b + SlotField.DEPTH] = depth + 1;
            i32[b + SlotField.COUNTERS + Transition.LEAVE] = n;
            return 0;
          }
        }
      }
      return slow(Transition.LEAVE, target);
    };
    // A reverse enter's frame has no target: its target word is left as it is (frames() reads 0).
    (this as { reverseEnter: () => number }).reverseEnter = (): number => {
      const b = this.cur;
      const depth = i32[b + SlotField.DEPTH];
      if (i32[ctlAt] === 0 && depth < i32[b + SlotField.LIMIT]) {
        const frames = i32[b + SlotField.FRAMES] >> 2;
        if (
          pushReverseTops === 7 ||
          ((pushReverseTops >> (depth === 0 ? 0 : i32[frames + ((depth - 1) << 1)])) & 1) !== 0
        ) {
          const n = (i32[b + SlotField.COUNTERS + Transition.REVERSE_ENTER] + 1) | 0;
          if (n !== 0) {
            i32[frames + (depth << 1)] = pushReverse;
            i32[b + SlotField.DEPTH] = depth + 1;
            i32[b + SlotField.COUNTERS + Transition.REVERSE_ENTER] = n;
            return 0;
          }
        }
      }
      return slow(Transition.REVERSE_ENTER, 0);
    };
    (this as { enter: () => number }).enter = (): number => {
      const b = this.cur;
      const depth = i32[b + SlotField.DEPTH];
      if (i32[ctlAt] === 0 && depth > 0 && i32[(i32[b + SlotField.FRAMES] >> 2) + ((depth - 1) << 1)] === popEnter) {
        const n = (i32[b + SlotField.COUNTERS + Transition.ENTER] + 1) | 0;
        if (n !== 0) {
          i32[b + SlotField.DEPTH] = depth - 1;
          i32[b + SlotField.COUNTERS + Transition.ENTER] = n;
          return 0;
        }
      }
      return slow(Transition.ENTER, 0);
    };
    (this as { reverseLeave: () => number }).reverseLeave = (): number => {
      const b = this.cur;
      const depth = i32[b + SlotField.DEPTH];
      if (i32[ctlAt] === 0 && depth > 0 && i32[(i32[b + SlotField.FRAMES] >> 2) + ((depth - 1) << 1)] === popReverse) {
        const n = (i32[b + SlotField.COUNTERS + Transition.REVERSE_LEAVE] + 1) | 0;
        if (n !== 0) {
          i32[b + SlotField.DEPTH] = depth - 1;
          i32[b + SlotField.COUNTERS + Transition.REVERSE_LEAVE] = n;
          return 0;
        }
      }
      return slow(Transition.REVERSE_LEAVE, 0);
    };
  }

  /** The switch's fast path, a closure over the views (see tryExchange). */
  private makeTryExchange(): void {
    const i32 = this.i32;
    const ctlAt = this.ctlAt;
    const currentAt = this.currentAt;
    (this as { tryExchange: (from: TaskRef, to: TaskRef) => boolean }).tryExchange = (from, to): boolean => {
      const fromBase = from[BASE];
      const toBase = to[BASE];
      if (
        i32[ctlAt] === 0 &&
        i32[currentAt] === from[IDX] &&
        i32[fromBase + SlotField.GEN] === from[GEN] &&
        i32[toBase + SlotField.GEN] === to[GEN] // a freed slot's generation moves on, so a match is live
      ) {
        // As the transitions: a counter that would carry past 2^32 leaves the switch to the core.
        const out = (i32[fromBase + SlotField.COUNTERS + Counter.SWITCH_OUT] + 1) | 0;
        const into = (i32[toBase + SlotField.COUNTERS + Counter.SWITCH_IN] + 1) | 0;
        if (out !== 0 && into !== 0) {
          i32[currentAt] = to[IDX];
          i32[fromBase + SlotField.COUNTERS + Counter.SWITCH_OUT] = out;
          i32[toBase + SlotField.COUNTERS + Counter.SWITCH_IN] = into;
          this.cur = toBase;
          return true;
        }
      }
      return false;
    };
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

  /** SwitchIn / SwitchOut / ExitTask also move the fast path's notion of the current task. */
  switchIn(t: TaskRef): number {
    // The common case over the views, as tryExchange's (a fiber's first step, every spawn's):
    // the control word clear, the root task switched in, the handle live, no carry.
    const i32 = this.i32;
    const base = t[BASE];
    const root = this.rootIdx;
    if (
      i32[this.ctlAt] === 0 &&
      i32[this.currentAt] === root &&
      t[IDX] !== root &&
      i32[base + SlotField.GEN] === t[GEN]
    ) {
      const into = (i32[base + SlotField.COUNTERS + Counter.SWITCH_IN] + 1) | 0;
      if (into !== 0) {
        i32[this.currentAt] = t[IDX];
        i32[base + SlotField.COUNTERS + Counter.SWITCH_IN] = into;
        this.cur = base;
        return 0;
      }
    }
    const hr = this.call(this.fnSwitchIn, t[IDX], t[GEN]) >>> 0;
    if (hr === 0) this.cur = t[BASE];
    return hr;
  }
  switchOut(t: TaskRef): number {
    const hr = this.call(this.fnSwitchOut, t[IDX], t[GEN]) >>> 0;
    if (hr === 0) this.cur = this.rootBase;
    return hr;
  }
  /**
   * SwitchOut of `from`, then SwitchIn of `to`: the scheduler's switch between two fibers, done
   * here when tryExchange can, otherwise by the core. Answers an unsigned HRESULT.
   */
  exchange(from: TaskRef, to: TaskRef): number {
    if (this.tryExchange(from, to)) return 0;
    const hr = this.call(this.fnExchange, from[IDX], from[GEN], to[IDX], to[GEN]) >>> 0;
    if (hr === 0) this.cur = to[BASE];
    return hr;
  }

  /**
   * The switch's common case, over the views (a closure like the transitions): the control word
   * clear (so the runtime is not suspended and nothing is traced), `from` the task switched in,
   * both handles live. True when it switched; false when it changed nothing (ask exchange).
   */
  readonly tryExchange!: (from: TaskRef, to: TaskRef) => boolean;

  /** CoreDoor.createStarted's call into the core, for a numeric stack size: the slot index, or a signed failure. */
  protected startNew(stackSize: number): number {
    let idx: number;
    try {
      idx = this.fnCreateStarted(stackSize) | 0; // (every spawn's: called directly, see afterCall)
    } catch (err) {
      return this.failed(err) | 0;
    }
    this.afterCall();
    return idx;
  }

  exitTask(t: TaskRef): number {
    let hr: number;
    try {
      hr = this.fnExitTask(t[IDX], t[GEN]) >>> 0; // (every fiber's end: called directly, see afterCall)
    } catch (err) {
      return this.failed(err) >>> 0;
    }
    this.afterCall();
    if (hr === 0) this.cur = this.rootBase;
    return hr;
  }
  setRoot(root: TaskRef): void {
    this.rootBase = root[BASE];
    this.cur = root[BASE];
  }

  /** The slot index of the task switched in on this thread (rootIndex(): the root task; 0 on a plain core). */
  currentIdx(): number {
    return this.i32[this.currentAt];
  }
}
