// The context of a debug host's fiber: an operation made and never run (`f.sleep(10)` without
// `yield*`) is reported (console.warn) when the fiber next runs an operation made after it, or
// ends. The operations watched are found on FiberContext.prototype, not listed: every method of
// it is wrapped, and what a call answers is watched when it is an operation (so a new `f` method
// is watched from the day it is written).

import type { Task } from "../task/task.js";
import { isOperation } from "../kernel/commands.js";
import type { FiberEnv } from "../operations/env.js";
import { FiberContext } from "./context.js";

import { EXTRAS as EXTRAS_ } from "../task/state.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const EXTRAS: typeof EXTRAS_ = EXTRAS_;
/**
 * The context of a debug host's fiber: an operation made and never run (`f.sleep(10)` without
 * `yield*`) is reported (console.warn) when the fiber next runs an operation made after it, or
 * ends. Each operation gets a `next` of its own that tells the context it ran.
 */
export class DebugFiberContext extends FiberContext {
  private made = 0;
  private readonly unrun = new Map<object, { seq: number; what: string }>();

  constructor(env: FiberEnv, task: Task) {
    super(env, task);
    const x = task[EXTRAS]();
    const before = x.onEnd;
    x.onEnd = () => {
      before?.();
      this.report(Infinity);
    };
  }

  /** @internal */
  track(op: object, what: string): void {
    this.unrun.set(op, { seq: ++this.made, what });
    if (Object.hasOwn(op, "next")) return; // (f.yield's operation is reused: watched once)
    const next = (op as Iterator<unknown>).next;
    const ctx = this;
    Object.defineProperty(op, "next", {
      value(this: Iterator<unknown>, v?: unknown) {
        ctx.ran(op);
        return next.call(this, v);
      },
      configurable: true,
      writable: true,
    });
  }

  private ran(op: object): void {
    const e = this.unrun.get(op);
    if (e === undefined) return;
    this.unrun.delete(op);
    this.report(e.seq);
  }

  /** Reports the operations made before the `seq`th that never ran. */
  private report(seq: number): void {
    for (const [op, e] of this.unrun) {
      if (e.seq >= seq) continue;
      this.unrun.delete(op);
      console.warn(
        `fiberhost (debug): fiber ${this.task.name} made f.${e.what}(…) and never ran it: an operation runs only with yield* (yield* f.${e.what}(…))`,
      );
    }
  }
}

/** The methods of FiberContext.prototype a debug context wraps: all but its constructor and getters. */
export const TRACKED_METHODS: readonly (string | symbol)[] = Reflect.ownKeys(FiberContext.prototype).filter((key) => {
  const d = Object.getOwnPropertyDescriptor(FiberContext.prototype, key)!;
  return key !== "constructor" && typeof d.value === "function";
});

for (const key of TRACKED_METHODS) {
  const make = Reflect.get(FiberContext.prototype, key) as (...args: unknown[]) => unknown;
  const what = String(key);
  Object.defineProperty(DebugFiberContext.prototype, key, {
    value(this: DebugFiberContext, ...args: unknown[]) {
      const made = make.apply(this, args);
      if (isOperation(made)) this.track(made as object, what);
      return made;
    },
    configurable: true,
    writable: true,
  });
}
