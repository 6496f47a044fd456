// The scheduler's hot path: pick the next ready fiber, switch it in, drive its explicit stack of
// iterators until it yields, waits or ends. The switch's common step is here (steps); the rest of
// a step, the iterator interpreter, is interpreter.ts's; everything rarer (a fiber's first run,
// its requests, its end, a suspended runtime) is handed to the hooks, out of line.

import { Outcome, RunState, type Task } from "../task/task.js";
import { HOST_E_INVALIDOPERATION, HResultError, S_OK } from "../base/hresult.js";
import { Level, PRIORITY_LEVELS } from "../base/args.js";
import type { CoreDoor } from "../core/door.js";
import { ReadyRing } from "../kernel/ring.js";
import { DRIVING } from "./driving.js";
import { Cmd, PENDING } from "../kernel/commands.js";
import { type DispatchHooks, type Interpreting, drive, generatorNext, handle, unwound } from "./interpreter.js";

import {
  ATTENTION as ATTENTION_,
  ITER as ITER_,
  LEVEL as LEVEL_,
  RESUME_VALUE as RESUME_VALUE_,
  STACK as STACK_,
  STATE as STATE_,
  YIELD_TOKEN as YIELD_TOKEN_,
} from "../task/state.js";
import { IDX as IDX_ } from "../core/names.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const ATTENTION: typeof ATTENTION_ = ATTENTION_;
const ITER: typeof ITER_ = ITER_;
const LEVEL: typeof LEVEL_ = LEVEL_;
const RESUME_VALUE: typeof RESUME_VALUE_ = RESUME_VALUE_;
const STACK: typeof STACK_ = STACK_;
const STATE: typeof STATE_ = STATE_;
const YIELD_TOKEN: typeof YIELD_TOKEN_ = YIELD_TOKEN_;
const IDX: typeof IDX_ = IDX_;
export type { DispatchHooks } from "./interpreter.js";

/** The most steps of one call of Dispatcher.steps: a small integer. */
const MAX_STEPS = 0x3fffffff;

/** The ready levels and the switch: which fiber runs next, and its step. */
export class Dispatcher implements Interpreting {
  private readonly ready: ReadyRing[] = PRIORITY_LEVELS.map(() => new ReadyRing());
  /** The default priority's ring (ready[Level.Default]), its bit never set in readyMask. */
  private readonly readyDefault = this.ready[Level.Default];
  /** The levels other than the default one that hold ready fibers. */
  private readyMask = 0;
  /**
   * The driver's switch state in one small integer: the slot index of the fiber the core has
   * switched in, times two (−2: none; switchedIn answers the fiber), plus 1 while that fiber is
   * driven (stepping). One store each side of a resume instead of two. Within a slice the fiber
   * stays switched in after its step, so that the next step switches it out and the next fiber
   * in with one call into the core (or none, when it runs again); the slice switches it out
   * before the root task runs again. An index, not the fiber: a small integer is stored without
   * a write barrier, and a fiber just spawned is young, so storing it in this old object took the
   * barrier's slow path at every switch.
   */
  private switched = -2;
  /** The slot index of the fiber switched in, or −1. */
  private get switchedIdx(): number {
    return this.switched >> 1;
  }
  /** True while a fiber is driven: the one switched in. */
  private get stepping(): boolean {
    return (this.switched & 1) !== 0;
  }
  private set stepping(on: boolean) {
    this.switched = on ? this.switched | 1 : this.switched & ~1;
  }
  /**
   * The fibers this driver has queued or switched in, by slot index (an entry is the fiber while
   * it lives): the ready rings hold slot indices, and this answers the fiber. A fiber is taken out
   * of its ring before its slot is freed (unqueue), so an index in a ring is always its fiber's.
   */
  private readonly bySlot: (Task | undefined)[] = [];
  /** Started fibers that have not ended (the bound of a deadlock search). */
  live = 0;

  /**
   * The fiber being driven, or null when the root task runs (also the fiber every host's
   * operations see as running: see DRIVING). Kept as a bit beside `switchedIn`, which holds it
   * then: one pointer store a switch fewer (each is a write barrier while the fiber is young).
   */
  get running(): Task | null {
    return this.stepping ? this.switchedIn : null;
  }

  private get switchedIn(): Task | null {
    return this.switchedIdx < 0 ? null : this.bySlot[this.switchedIdx]!;
  }

  private set switchedIn(t: Task | null) {
    if (t === null) {
      this.switched = -2;
      return;
    }
    if (this.bySlot[t[IDX]] !== t) this.bySlot[t[IDX]] = t;
    this.switched = (t[IDX] << 1) | (this.switched & 1);
  }

  constructor(
    /** @internal */ readonly door: CoreDoor,
    /** @internal */ readonly hooks: DispatchHooks,
  ) {}

  // --- ready levels ------------------------------------------------------------------------------

  /**
   * Puts `t` at the back of its ready level, as Ready, or as Resumable (it yielded from a generator
   * and nothing is to be thrown into it: the fast path may resume it).
   */
  enqueue(t: Task, state: RunState.Ready | RunState.Resumable = RunState.Ready): void {
    t[STATE] = state;
    const idx = t[IDX];
    if (this.bySlot[idx] !== t) this.bySlot[idx] = t; // (once a fiber: the store is a write barrier)
    // The default priority's ring is read without the mask: the other levels are behind one test.
    if (t[LEVEL] === Level.Default) this.readyDefault.push(idx);
    else this.enqueueLevel(t);
  }

  /** As enqueue, at the front of its level's ring: it runs before the fibers ready already. */
  enqueueFirst(t: Task): void {
    t[STATE] = RunState.Ready;
    const idx = t[IDX];
    if (this.bySlot[idx] !== t) this.bySlot[idx] = t;
    if (t[LEVEL] === Level.Default) this.readyDefault.unshift(idx);
    else {
      this.ready[t[LEVEL]].unshift(idx);
      this.readyMask |= 1 << t[LEVEL];
    }
  }

  private enqueueLevel(t: Task): void {
    this.ready[t[LEVEL]].push(t[IDX]);
    this.readyMask |= 1 << t[LEVEL];
  }

  /** Some level other than the default one holds fibers: the highest non-empty level first (−1: none). */
  private dequeueLevels(): number {
    while (this.readyMask !== 0) {
      const level = 31 - Math.clz32(this.readyMask);
      if (level < Level.Default && this.readyDefault.size !== 0) break;
      const q = this.ready[level];
      const idx = q.shift();
      if (q.size === 0) this.readyMask &= ~(1 << level);
      if (idx >= 0) return idx;
    }
    return this.readyDefault.shift();
  }

  /**
   * `t`, queued, is ending or its slot is being freed: out of its ready ring (a linear scan: a
   * fiber ends while queued only when it is ended from outside), so that no ring holds the index
   * of a slot another fiber may reuse; and out of the table by slot unless it is the fiber
   * switched in (stepped() forgets that one after its step).
   */
  unqueue(t: Task): void {
    const idx = t[IDX];
    if ((t[STATE] === RunState.Ready || t[STATE] === RunState.Resumable) && this.ready[t[LEVEL]].remove(idx)) {
      if (this.ready[t[LEVEL]].size === 0) this.readyMask &= ~(1 << t[LEVEL]);
    }
    if (this.bySlot[idx] === t && this.switchedIdx !== idx) this.bySlot[idx] = undefined;
  }

  /** True when some fiber is ready. */
  private anyReady(): boolean {
    return this.readyMask !== 0 || this.readyDefault.size !== 0;
  }

  /** Moves `t` to ready level `level`: a ready task goes to the back of it (a linear scan: priority changes are rare). */
  moveToLevel(t: Task, level: number): void {
    if (level === t[LEVEL]) return;
    if ((t[STATE] === RunState.Ready || t[STATE] === RunState.Resumable) && this.ready[t[LEVEL]].remove(t[IDX])) {
      if (this.ready[t[LEVEL]].size === 0) this.readyMask &= ~(1 << t[LEVEL]);
      t[LEVEL] = level;
      this.enqueue(t);
    } else {
      t[LEVEL] = level;
    }
  }

  // --- a slice -----------------------------------------------------------------------------------

  /** Runs up to `budget` steps; true when fibers are still ready. */
  slice(budget: number): boolean {
    // (On a disabled runtime nothing reaches a task's frames any more: the fibers run to unwind.)
    if (this.switchedIn === null && this.door.currentIdx() !== this.door.rootIndex() && this.door.isAvailable()) {
      throw new HResultError(
        HOST_E_INVALIDOPERATION,
        "a task is switched in by hand (task.switchIn()); switch it out before running fibers",
      );
    }
    const outer = DRIVING.sched;
    DRIVING.sched = this;
    try {
      return this.steps(budget);
    } catch (err) {
      if (!this.fault(err)) throw err;
      return true;
    } finally {
      DRIVING.sched = outer;
      this.switchToRoot();
    }
  }

  /**
   * The switch: up to `budget` steps. The common step (the next fiber of the default ring,
   * Resumable and asked nothing, switched in from the previous one by the door's fast path,
   * resumed, and yielding f.yield() again) is done here, in one function, so that the engine
   * compiles it the same way every run; any other step, or the rest of one, goes out of line.
   */
  private steps(budget: number): boolean {
    const ring = this.readyDefault;
    const tryExchange = this.door.tryExchange;
    // The module's constants, read once: the optimiser loads a module binding again at every use,
    // with its hole check (about a nanosecond a switch for the four).
    const next = generatorNext;
    const pending = PENDING;
    const ok = S_OK;
    const level = Level.Default as number;
    // A small integer: runUntilIdle's budget is Infinity, a double to compare against every step
    // (the caller asks again while fibers are ready).
    const steps = Math.min(budget, MAX_STEPS);
    const bySlot = this.bySlot;
    // The fiber switched in, as a local: a hint only (every out-of-line step reads it again from
    // `switched`, and tryExchange checks it against the core), which spares the fast path a load
    // of the table by slot and of the fiber's map a switch (~14% of steps' samples were there).
    let prev = this.switchedIn;
    for (let n = 0; n < steps; n++) {
      const idx = this.readyMask === 0 ? ring.shift() : this.dequeueLevels();
      if (idx < 0) return false;
      const t = bySlot[idx]!; // (enqueue put it there; unqueue took its index out before its slot was freed)
      if (
        t[STATE] !== RunState.Resumable ||
        t[ATTENTION] ||
        prev === null ||
        prev === t ||
        !tryExchange(prev, t) // (a clear control word: the runtime is not suspended)
      ) {
        this.step(t);
        prev = this.switchedIn;
        continue;
      }
      this.switched = (idx << 1) | 1; // switched in, and driven
      t[STATE] = RunState.Running;
      const it = t[ITER] as Generator;
      const v = t[RESUME_VALUE];
      t[RESUME_VALUE] = undefined;
      let r: IteratorResult<unknown>;
      try {
        // A generator is resumed through %GeneratorPrototype%.next itself: every generator
        // function closure has a prototype of its own, so `it.next` would be a megamorphic
        // load in a program that spawns closures (and the switch would cost a third more).
        r = next.call(it, v);
      } catch (err) {
        if (unwound(this, t, err)) drive(this, t);
        this.stepped(t);
        prev = this.switchedIn;
        continue;
      }
      // `yield* f.yield()` (its command), or a plain `yield f.yield()`: back to the ready ring. A
      // generator's result is plain data, read without a fence. (A pending safe point takes the
      // long way: the token is then run as an operation.)
      let yielded = false;
      if (r === pending) {
        yielded = pending.cmd === Cmd.Yield;
      } else {
        const tok = t[YIELD_TOKEN];
        if (r.value === tok && tok !== null && !r.done && !t[ATTENTION]) {
          t[RESUME_VALUE] = ok;
          yielded = true;
        }
      }
      if (yielded) {
        // (Still switched in, not Done: what stepped() does for it is the flag.)
        t[STATE] = RunState.Resumable;
        if (t[LEVEL] === level) ring.push(idx);
        else this.enqueueLevel(t);
        this.switched = idx << 1; // (still switched in; no longer driven)
        prev = t;
        continue;
      }
      if (handle(this, t, it, r)) drive(this, t);
      this.stepped(t);
      prev = this.switchedIn;
    }
    return this.anyReady();
  }

  /** Runs one ready fiber until it yields, waits or ends: the general case of a step. */
  private step(t: Task): void {
    if (t[STATE] === RunState.Done) return; // ended by a hand-made ExitTask while it was queued
    if (this.door.isSuspended() && this.hooks.holdForGC(t)) return;
    const prev = this.switchedIn;
    if (prev !== t) {
      if (prev === null) this.door.switchIn(t);
      else this.door.exchange(prev, t);
      this.switchedIn = t;
    }
    this.stepping = true;
    t[STATE] = RunState.Running;
    if (t[ATTENTION] || !t[ITER]) this.hooks.beforeResume(t);
    if (t[STATE] === RunState.Running) drive(this, t);
    this.stepped(t);
  }

  /** After a step: no fiber runs; one that ended was switched out by its ExitTask. */
  private stepped(t: Task): void {
    this.stepping = false;
    if (t[STATE] === RunState.Done) {
      this.switchedIn = null;
      if (this.bySlot[t[IDX]] === t) this.bySlot[t[IDX]] = undefined; // (its slot is free)
    }
  }

  /** Hands the JS thread back to the root task: the last fiber of a slice is switched out. */
  private switchToRoot(): void {
    if (this.switchedIn !== null) {
      this.door.switchOut(this.switchedIn);
      this.switchedIn = null;
    }
  }

  /**
   * The run loop's last fence. Every call into user code is contained where it is made (a body's
   * next/throw/return and its results, a hook, a clock, a dispatch); should anything still escape
   * a step, it ends the fiber being stepped (its result rejects with it), never the host: true
   * when it did. No iterator of that fiber is called again.
   */
  private fault(err: unknown): boolean {
    const t = this.running;
    if (t === null) return false;
    this.stepping = false;
    t[ITER] = t[STACK] = null;
    this.hooks.finish(t, Outcome.Threw, err);
    if (this.switchedIn === t) this.switchedIn = null; // its ExitTask switched it out
    if (t[STATE] === RunState.Done && this.bySlot[t[IDX]] === t) this.bySlot[t[IDX]] = undefined;
    return true;
  }
}
