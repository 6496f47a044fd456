// The scheduler's hot path: pick the next ready fiber, switch it in, drive its explicit stack of
// iterators until it yields, waits or ends. Everything rarer (a fiber's first run, its requests,
// its end, a suspended runtime) is handed to the hooks, out of line.

import { Outcome, RunState, type Task } from "../task/task.js";
import { HOST_E_INVALIDOPERATION, HResultError, S_OK } from "../base/hresult.js";
import { PRIORITY_LEVELS } from "../base/args.js";
import type { CoreDoor } from "../core/door.js";
import { ReadyRing } from "../kernel/ring.js";
import { DRIVING } from "./driving.js";
import { Cmd, PENDING, isOperation, isThenable, notAResult, notAnOperation } from "../kernel/commands.js";
import { isInstance } from "../base/errors.js";

/** %GeneratorPrototype%, as the prototype of a constructor, for isInstance; and its next. */
const GeneratorPrototype = Object.getPrototypeOf(function* () {}).prototype as Generator;
function GeneratorObject(): void {}
GeneratorObject.prototype = GeneratorPrototype;
const generatorNext = GeneratorPrototype.next;

/** The most steps of one call of Driver.steps: a small integer. */
const MAX_STEPS = 0x3fffffff;

/** The ready level of the default priority (0). */
const DEFAULT_LEVEL = PRIORITY_LEVELS.indexOf(0);

/** What the driver hands on (the scheduler's other parts: lifecycle.ts, requests.ts, suspension.ts). */
export interface DriverHooks {
  /** A fiber switched out in managed mode is not resumed while the collector runs: true when held. */
  holdForGC(t: Task): boolean;
  /** A fiber's first run, and its pending requests (abort, exit, yield), before it resumes. */
  beforeResume(t: Task): void;
  /** The fiber ended: returned, or threw `value`. */
  finish(t: Task, outcome: Outcome, value: unknown): void;
  /** Ends a fiber without running its handlers (rude abort, ExitTask). */
  end(t: Task): void;
}

export class Driver {
  private readonly ready: ReadyRing<Task>[] = PRIORITY_LEVELS.map(() => new ReadyRing<Task>());
  /** The default priority's ring (ready[DEFAULT_LEVEL]), its bit never set in readyMask. */
  private readonly ready3 = this.ready[DEFAULT_LEVEL];
  /** The levels other than the default one that hold ready fibers. */
  private readyMask = 0;
  /** True while a fiber is driven: the one switched in. */
  private stepping = false;
  /**
   * The slot index of the fiber the core has switched in, or −1 (switchedIn answers the fiber).
   * Within a slice it stays switched in after its step, so that the next step switches it out
   * and the next fiber in with one call into the core (or none, when it runs again); the slice
   * switches it out before the root task runs again. An index, not the fiber: a small integer is
   * stored without a write barrier, and a fiber just spawned is young, so storing it in this old
   * object took the barrier's slow path at every switch.
   */
  private switchedIdx = -1;
  /** The fibers this driver has switched in, by slot index (an entry is the fiber while it lives). */
  private readonly bySlot: (Task | undefined)[] = [];
  /** Started fibers that have not ended (the bound of a deadlock search). */
  live = 0;

  /**
   * The fiber being driven, or null when the root task runs (also the fiber every host's
   * operations see as running: see DRIVING). Kept as a flag beside `switchedIn`, which holds it
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
      this.switchedIdx = -1;
      return;
    }
    if (this.bySlot[t.idx] !== t) this.bySlot[t.idx] = t;
    this.switchedIdx = t.idx;
  }

  constructor(
    private readonly door: CoreDoor,
    private readonly hooks: DriverHooks,
  ) {}

  // --- ready levels ------------------------------------------------------------------------------

  /**
   * Puts `t` at the back of its ready level, as Ready, or as Resumable (it yielded from a generator
   * and nothing is to be thrown into it: the fast path may resume it).
   */
  enqueue(t: Task, state: RunState.Ready | RunState.Resumable = RunState.Ready): void {
    t.state = state;
    // The default priority's ring is read without the mask: the other levels are behind one test.
    if (t.level === DEFAULT_LEVEL) this.ready3.push(t);
    else this.enqueueLevel(t);
  }

  private enqueueLevel(t: Task): void {
    this.ready[t.level].push(t);
    this.readyMask |= 1 << t.level;
  }

  /** Some level other than the default one holds fibers: the highest non-empty level first. */
  private dequeueLevels(): Task | undefined {
    while (this.readyMask !== 0) {
      const level = 31 - Math.clz32(this.readyMask);
      if (level < DEFAULT_LEVEL && this.ready3.size !== 0) break;
      const q = this.ready[level];
      const t = q.shift();
      if (q.size === 0) this.readyMask &= ~(1 << level);
      if (t) return t;
    }
    return this.ready3.shift();
  }

  /** True when some fiber is ready. */
  private anyReady(): boolean {
    return this.readyMask !== 0 || this.ready3.size !== 0;
  }

  /** Moves `t` to ready level `level`: a ready task goes to the back of it (a linear scan: priority changes are rare). */
  moveToLevel(t: Task, level: number): void {
    if (level === t.level) return;
    if ((t.state === RunState.Ready || t.state === RunState.Resumable) && this.ready[t.level].remove(t)) {
      if (this.ready[t.level].size === 0) this.readyMask &= ~(1 << t.level);
      t.level = level;
      this.enqueue(t);
    } else {
      t.level = level;
    }
  }

  // --- a slice -----------------------------------------------------------------------------------

  /** Runs up to `budget` steps; true when fibers are still ready. */
  slice(budget: number): boolean {
    // (On a disabled runtime nothing reaches a task's frames any more: the fibers run to unwind.)
    if (this.switchedIn === null && this.door.currentIdx() !== 0 && this.door.isAvailable()) {
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
    const ring = this.ready3;
    const tryExchange = this.door.tryExchange;
    // The module's constants, read once: the optimiser loads a module binding again at every use,
    // with its hole check (about a nanosecond a switch for the four).
    const next = generatorNext;
    const pending = PENDING;
    const ok = S_OK;
    const level = DEFAULT_LEVEL;
    // A small integer: runUntilIdle's budget is Infinity, a double to compare against every step
    // (the caller asks again while fibers are ready).
    const steps = Math.min(budget, MAX_STEPS);
    const bySlot = this.bySlot;
    for (let n = 0; n < steps; n++) {
      const t = this.readyMask === 0 ? ring.shift() : this.dequeueLevels();
      if (t === undefined) return false;
      const prevIdx = this.switchedIdx;
      const idx = t.idx;
      if (
        t.state !== RunState.Resumable ||
        t.attention ||
        prevIdx < 0 ||
        prevIdx === idx ||
        bySlot[idx] !== t || // (it is, once the fiber has been stepped: a Resumable fiber has)
        !tryExchange(bySlot[prevIdx]!, t) // (a clear control word: the runtime is not suspended)
      ) {
        this.step(t);
        continue;
      }
      this.switchedIdx = idx;
      this.stepping = true;
      t.state = RunState.Running;
      const it = t.iter as Generator;
      const v = t.resumeValue;
      t.resumeValue = undefined;
      let r: IteratorResult<unknown>;
      try {
        // A generator is resumed through %GeneratorPrototype%.next itself: every generator
        // function closure has a prototype of its own, so `it.next` would be a megamorphic
        // load in a program that spawns closures (and the switch would cost a third more).
        r = next.call(it, v);
      } catch (err) {
        if (this.unwound(t, err)) this.drive(t);
        this.stepped(t);
        continue;
      }
      // `yield* f.yield()` (its command), or a plain `yield f.yield()`: back to the ready ring. A
      // generator's result is plain data, read without a fence. (A pending safe point takes the
      // long way: the token is then run as an operation.)
      let yielded = false;
      if (r === pending) {
        yielded = pending.cmd === Cmd.Yield;
      } else {
        const tok = t.yieldToken;
        if (r.value === tok && tok !== null && !r.done && !t.attention) {
          t.resumeValue = ok;
          yielded = true;
        }
      }
      if (yielded) {
        t.state = RunState.Resumable;
        if (t.level === level) ring.push(t);
        else this.enqueueLevel(t);
      } else if (this.handle(t, it, r)) {
        this.drive(t);
      }
      this.stepped(t);
    }
    return this.anyReady();
  }

  /** Runs one ready fiber until it yields, waits or ends: the general case of a step. */
  private step(t: Task): void {
    if (t.state === RunState.Done) return; // ended by a hand-made ExitTask while it was queued
    if (this.door.isSuspended() && this.hooks.holdForGC(t)) return;
    const prev = this.switchedIn;
    if (prev !== t) {
      if (prev === null) this.door.switchIn(t);
      else this.door.exchange(prev, t);
      this.switchedIn = t;
    }
    this.stepping = true;
    t.state = RunState.Running;
    if (t.attention || !t.iter) this.hooks.beforeResume(t);
    if (t.state === RunState.Running) this.drive(t);
    this.stepped(t);
  }

  /** After a step: no fiber runs; one that ended was switched out by its ExitTask. */
  private stepped(t: Task): void {
    this.stepping = false;
    if (t.state === RunState.Done) {
      this.switchedIn = null;
      if (this.bySlot[t.idx] === t) this.bySlot[t.idx] = undefined; // (its slot is free)
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
    t.iter = t.stack = null;
    this.hooks.finish(t, Outcome.Threw, err);
    if (this.switchedIn === t) this.switchedIn = null; // its ExitTask switched it out
    if (t.state === RunState.Done && this.bySlot[t.idx] === t) this.bySlot[t.idx] = undefined;
    return true;
  }

  // --- the iterator interpreter ------------------------------------------------------------------

  /**
   * Resumes the fiber's innermost iterator and follows its commands until it yields, waits or
   * ends. Only the switch itself (a resume that yields again) stays in this loop; everything
   * rarer is out of line, so that the engine inlines the hot path the same way every run.
   */
  private drive(t: Task): void {
    for (;;) {
      const it = t.iter!;
      // (Guarded: the iterator is the body's, and a Proxy's getPrototypeOf trap may throw.)
      const gen = isInstance(it, GeneratorObject);
      let r: IteratorResult<unknown>;
      try {
        if (t.resumeThrow) {
          r = this.throwInto(t, it);
        } else {
          const v = t.resumeValue;
          t.resumeValue = undefined;
          r = gen ? generatorNext.call(it, v) : it.next(v); // (generatorNext: see steps)
        }
      } catch (err) {
        if (this.unwound(t, err)) continue;
        return;
      }
      // A plain `yield f.yield()`: see steps.
      if (r !== PENDING && gen) {
        const tok = t.yieldToken;
        if (r.value === tok && tok !== null && !r.done && !t.attention) {
          t.resumeValue = S_OK;
          this.enqueue(t, RunState.Resumable);
          return;
        }
      }
      if (!this.handle(t, it, r)) return;
    }
  }

  /**
   * What `it`'s resume answered, other than a plain yield of f.yield(): an operation's command, a
   * return, a plain `yield op`, or something no iterator may answer. True when the fiber goes on
   * (drive resumes its innermost iterator again).
   */
  private handle(t: Task, it: Iterator<unknown>, r: IteratorResult<unknown>): boolean {
    if (r === PENDING) {
      if (PENDING.cmd === Cmd.Yield) {
        if (isInstance(it, GeneratorObject)) this.enqueue(t, RunState.Resumable);
        else this.enqueue(t);
        return false;
      }
      return this.command(t, it);
    }
    return this.finished(t, r);
  }

  /**
   * A resume answered something else than an operation's command: the body returned, yielded a
   * value that is not an operation, or answered what no iterator may (a non-object, a promise, a
   * result whose getters throw). True when drive goes on with the fiber. Reading the result runs
   * user code, so it is fenced here, out of the switch's hot path: what escapes is the broken
   * iterator's error, handled as if its body had thrown it.
   */
  private finished(t: Task, r: IteratorResult<unknown>): boolean {
    let done: boolean;
    let value: unknown;
    try {
      if (typeof r !== "object" || r === null || isThenable(r)) throw notAResult(t.name, r);
      done = !!r.done;
      value = r.value;
    } catch (err) {
      return this.unwound(t, err);
    }
    if (done) return this.returned(t, value);
    if (isOperation(value)) {
      // A plain `yield op`: run as `yield* op` would, its answer the value of the yield.
      (t.stack ??= []).push(t.iter!);
      t.iter = value as unknown as Iterator<unknown>;
      return true;
    }
    this.yieldedNonOperation(t, value);
    return false;
  }

  private throwInto(t: Task, it: Iterator<unknown>): IteratorResult<unknown> {
    const err = t.resumeValue;
    t.resumeValue = undefined;
    t.resumeThrow = false;
    if (t.x !== null) t.x.abortInFlight = false;
    if (typeof it.throw !== "function") throw err;
    return it.throw(err);
  }

  /** An error left the innermost body: true when a parent body takes it (drive goes on). */
  private unwound(t: Task, err: unknown): boolean {
    // The frames where this error first left a body (a parent may still catch it).
    const x = t.extras();
    if (x.errorOf !== err) {
      x.errorOf = err;
      x.errorFrames = this.door.frames(t);
    }
    if (t.stack !== null && t.stack.length > 0) {
      t.iter = t.stack.pop()!;
      t.resumeThrow = true;
      t.resumeValue = err;
      return true;
    }
    this.hooks.finish(t, Outcome.Threw, err);
    return false;
  }

  /** The innermost body returned: true when its parent goes on with the value. */
  private returned(t: Task, value: unknown): boolean {
    if (t.stack !== null && t.stack.length > 0) {
      t.iter = t.stack.pop()!;
      t.resumeValue = value;
      return true;
    }
    this.hooks.finish(t, Outcome.Returned, value);
    return false;
  }

  /**
   * The fiber yielded something else than an operation: that is thrown back into it at its next
   * step, as a yield. Not at once: a body that catches it and yields again would otherwise keep
   * the run loop from ever returning to the event loop.
   */
  private yieldedNonOperation(t: Task, value: unknown): void {
    t.resumeThrow = true;
    t.resumeValue = notAnOperation(t.name, value);
    this.enqueue(t);
  }

  /** Every command but Yield: true when drive goes on with the fiber. */
  private command(t: Task, it: Iterator<unknown>): boolean {
    switch (PENDING.cmd) {
      case Cmd.Park:
        return false;
      case Cmd.Push:
        (t.stack ??= []).push(it);
        t.iter = PENDING.body!;
        PENDING.body = null;
        return true;
      case Cmd.End:
        this.hooks.end(t);
        return false;
      default:
        this.enqueue(t);
        return false;
    }
  }
}
