// The door's transitions' common ground: the RULES table read into the fast paths' parameters,
// the current task's slot, the slow path, and the shared fast paths (every door's four transitions
// once a process has two hosts: see makeTransitions in transitions.ts, which also has the closures
// a lone door uses instead).

import { Act, type CoreExports, SlotField, Transition } from "./generated/layout.js";
import type { CoreInstance } from "./load.js";
import { CoreMemory, STACK_PROBE_DEPTH, probeStack } from "./memory.js";

export class SharedTransitions extends CoreMemory {
  /** i32 index of the current task's slot: where the fast path writes. */
  protected cur = 0;
  private readonly rules: number;
  /** The core's transition export, in a fixed-shape property (see TransitionDoor's). */
  protected readonly fnTransition: CoreExports["transition"];

  constructor(core: CoreInstance) {
    super(core);
    this.rules = (this.x.RULES.value as number) >> 2;
    this.fnTransition = this.x.transition;
    this.readRules();
  }

  /**
   * The shared fast paths: the same rules as the closures below, over this door's fields instead
   * of constants (views, current slot, control word, the RULES' parameters). Every door's
   * `reverseEnter` is then the same function, so a call site that sees several hosts stays
   * monomorphic and inlines it; the price is a load of the view and its length per access, which
   * the closures fold in.
   */
  protected sharedLeave(target: number): number {
    return this.sharedPush(Transition.LEAVE, this.pushKind0, this.pushTops0, target, true);
  }
  protected sharedReverseEnter(): number {
    // (A reverse enter's frame has no target: its target word is left as it is.)
    return this.sharedPush(Transition.REVERSE_ENTER, this.pushKind2, this.pushTops2, 0, false);
  }
  protected sharedEnter(): number {
    return this.sharedPop(Transition.ENTER, this.popTop1);
  }
  protected sharedReverseLeave(): number {
    return this.sharedPop(Transition.REVERSE_LEAVE, this.popTop3);
  }
  /**
   * A push of a `kind` frame by transition `op`, allowed on the top-frame kinds in the bitmask
   * `tops` (7: any). Each caller passes constants but its own fields, so the optimiser inlines one
   * copy per transition, as if written out.
   */
  private sharedPush(op: Transition, kind: number, tops: number, target: number, withTarget: boolean): number {
    const i32 = this.i32;
    const b = this.cur;
    const depth = i32[b + SlotField.DEPTH];
    if (i32[this.ctlAt] === 0 && depth < i32[b + SlotField.LIMIT]) {
      const frames = i32[b + SlotField.FRAMES] >> 2;
      if (tops === 7 || ((tops >> (depth === 0 ? 0 : i32[frames + ((depth - 1) << 1)])) & 1) !== 0) {
        const n = (i32[b + SlotField.COUNTERS + op] + 1) | 0;
        if (n !== 0) {
          const at = frames + (depth << 1);
          i32[at] = kind;
          if (withTarget) i32[at + 1] = target;
          i32[b + SlotField.DEPTH] = depth + 1;
          i32[b + SlotField.COUNTERS + op] = n;
          return 0;
        }
      }
    }
    return this.slowTransition(op, target);
  }
  /** A pop by transition `op`, allowed when the top frame is of kind `top`. */
  private sharedPop(op: Transition, top: number): number {
    const i32 = this.i32;
    const b = this.cur;
    const depth = i32[b + SlotField.DEPTH];
    if (i32[this.ctlAt] === 0 && depth > 0 && i32[(i32[b + SlotField.FRAMES] >> 2) + ((depth - 1) << 1)] === top) {
      const n = (i32[b + SlotField.COUNTERS + op] + 1) | 0;
      if (n !== 0) {
        i32[b + SlotField.DEPTH] = depth - 1;
        i32[b + SlotField.COUNTERS + op] = n;
        return 0;
      }
    }
    return this.slowTransition(op, 0);
  }
  /** A transition the fast path declined: the core decides. */
  protected slowTransition(op: number, target: number): number {
    probeStack(STACK_PROBE_DEPTH); // (see probeStack: an overflow fails here, not in the core)
    return this.call(this.fnTransition, op, target) >>> 0;
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
  protected pushKind0 = 0;
  protected pushTops0 = 0;
  protected pushKind2 = 0;
  protected pushTops2 = 0;
  protected popTop1 = 0;
  protected popTop3 = 0;
}
