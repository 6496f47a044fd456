// Guests whose own glue suspends them (suspension "external"): Emscripten's -sASYNCIFY runtime
// (Module.Asyncify) unwinds the guest inside a suspending import, hands its caller a promise, and
// later rewinds it by calling the bottom export again from a promise job, outside any fiber.
// fiberhost does not drive that asyncify; it follows it, through Emscripten's Asyncify.state, so
// that the call keeps belonging to the fiber that started it:
// - while the guest is unwound, the call's frames stay open on that fiber's task, [..., R, L(target)]
//   (the export's ReverseEnter and the suspending import's Leave are closed by the rewind, not
//   by the unwind);
// - a crossing of the guest made from a promise job (no fiber running) while a fiber's call is in
//   flight is that call's continuation: the fiber's task is made current around it (lent), so it
//   is counted on the fiber's task, never on the root task;
// - a suspending host function wrapped by `suspending()` answers the guest only while the runtime
//   is not suspended: its answer is held, the fiber waiting for the resume, and given in a
//   microtask after it (no fiber runs between that microtask and the guest's next suspension or
//   return, so no suspension can begin in between);
// - the fiber waits in an ExternalCall: for its turn (one suspended call per instance: Emscripten
//   keeps one rewind buffer), then for the promise its start function gave; run() does not settle
//   while a call is in flight; an abort is given to the pending host function (its signal aborts,
//   its answer rejects with the abort, which the guest's glue throws into the guest) and thrown
//   into the fiber once the guest has unwound.
// Emscripten's asyncify exports are its runtime's machinery: they are called unhooked (by name
// when their names are kept, otherwise recognised by the runtime's state when they are called).

import type { Task } from "../task/task.js";
import type { FiberEnv } from "../operations/env.js";
import { Op } from "../operations/operation.js";
import { safePoint } from "../operations/env.js";
import { Cmd } from "../kernel/commands.js";
import { TaskQueue } from "../kernel/queue.js";
import { BLOCK, type Waitable } from "../kernel/waitable.js";
import { E_INVALIDARG, HOST_E_INVALIDOPERATION, HResultError, INFINITE, S_OK } from "../base/hresult.js";
import type { CoreDoor } from "../core/door.js";
import { crossingError, isThenable, noWait, type GuestState, type AnyFn } from "./guest.js";

/** Emscripten's Asyncify.State. */
const NORMAL = 0;
const UNWINDING = 1;
const REWINDING = 2;

/** What fiberhost reads of an Emscripten runtime: Module.Asyncify (its `state` keeps its name in minified builds). */
export interface AsyncifyRuntime {
  readonly state: number;
}

const hex = (target: number): string => `0x${target.toString(16)}`;

const links = new WeakMap<object, ExternalLink>();

/** The link of an external guest, by its `guest.exports` (null: not an external guest of fiberhost's). */
export function externalLinkOf(exports: unknown): ExternalLink | null {
  return typeof exports === "object" && exports !== null ? (links.get(exports) ?? null) : null;
}

/** @internal */
export function registerLink(exports: object, link: ExternalLink): void {
  links.set(exports, link);
}

/** One external guest's link: which fiber's call is in flight, and where its runtime's asyncify is. */
export class ExternalLink {
  /** The guest's runtime (Module.Asyncify), set by the adapter once Emscripten calls instantiateWasm. */
  runtime: AsyncifyRuntime | null = null;
  /** The call in flight (from its start to its promise's settling), or null. */
  owner: ExternalCall<unknown> | null = null;
  /** The call that holds the instance's turn (FIFO) and the ones waiting for it. */
  holder: ExternalCall<unknown> | null = null;
  readonly turn: TurnWait;
  /** The guest is unwound: its bottom export's R (and the import's L) are open on `parkedTask`. */
  private parked = false;
  private parkedTask: Task | null = null;
  /** The runtime has called asyncify_start_rewind: the next rewinding export call is the bottom export. */
  private rewindArmed = false;
  /** Emscripten calls asyncify_stop_unwind right after the outermost export returns unwound. */
  private stopUnwindDue = false;
  /** Inside the rewound import while the glue stops the rewind (its calls are machinery). */
  private machinery = 0;
  /** The task lent to the crossing in progress (switched out again when it returns). */
  private lent: Task | null = null;

  constructor(
    private readonly g: GuestState,
    /** @internal */
    readonly door: CoreDoor,
  ) {
    this.turn = new TurnWait(this);
  }

  private state(): number {
    const r = this.runtime;
    if (r === null) return NORMAL;
    const s = r.state;
    return typeof s === "number" ? s : NORMAL;
  }

  // --- the hooked crossings ------------------------------------------------------------------

  /** The hooked form of an export of an external guest. */
  hookExport(raw: AnyFn, name: string): AnyFn {
    // Names kept (a debug build): the runtime's own exports are known at once.
    if (name.startsWith("asyncify_")) {
      const stop = name === "asyncify_stop_unwind";
      const rewind = name === "asyncify_start_rewind";
      return (...args: unknown[]) => {
        if (stop) this.stopUnwindDue = false;
        if (rewind) this.rewindArmed = true;
        return raw(...args);
      };
    }
    return (...args: unknown[]) => {
      if (this.machinery > 0) return raw(...args);
      const s = this.state();
      // Unwinding: the glue allocates its buffer and starts the unwind (malloc, asyncify_start_unwind).
      if (s === UNWINDING) return raw(...args);
      if (this.stopUnwindDue) {
        this.stopUnwindDue = false; // asyncify_stop_unwind, renamed
        return raw(...args);
      }
      if (s === REWINDING && this.parked) {
        if (!this.rewindArmed) {
          this.rewindArmed = true; // asyncify_start_rewind, renamed
          return raw(...args);
        }
        return this.rewind(raw, args, name);
      }
      return this.call(raw, args, name);
    };
  }

  /** An ordinary export call: R … RL on the current task, or lent to the call in flight. */
  private call(raw: AnyFn, args: unknown[], name: string): unknown {
    const g = this.g;
    const door = this.door;
    const outer = g.depth === 0;
    const lent = outer ? this.lend(this.owner?.task ?? null) : false;
    const hr = door.reverseEnter();
    if (hr !== S_OK) {
      if (lent) this.unlend();
      throw crossingError(noWait(hr), `ReverseEnterRuntime failed calling export ${name}`);
    }
    g.depth++;
    let r: unknown;
    try {
      r = raw(...args);
    } catch (e) {
      g.depth--;
      door.reverseLeave();
      if (lent) this.unlend();
      throw e;
    }
    g.depth--;
    if (outer && this.state() === UNWINDING) {
      // The runtime unwound the guest from a suspending import: the call goes on when the runtime
      // rewinds it; its frames stay open meanwhile.
      this.park();
      if (lent) this.unlend();
      return r;
    }
    const hr2 = door.reverseLeave();
    if (lent) this.unlend();
    if (hr2 !== S_OK) throw crossingError(hr2, `ReverseLeaveRuntime failed returning from export ${name}`);
    return r;
  }

  private park(): void {
    this.parked = true;
    this.rewindArmed = false;
    this.stopUnwindDue = true;
    this.parkedTask = this.lent ?? this.owner?.task ?? null;
  }

  /** The runtime re-calls the bottom export to rewind it: the parked call goes on, on its own task. */
  private rewind(raw: AnyFn, args: unknown[], name: string): unknown {
    const g = this.g;
    this.parked = false;
    this.rewindArmed = false;
    const lent = this.lend(this.parkedTask);
    this.parkedTask = null;
    g.depth++;
    let r: unknown;
    try {
      r = raw(...args);
    } catch (e) {
      g.depth--;
      this.door.reverseLeave();
      if (lent) this.unlend();
      throw e;
    }
    g.depth--;
    if (this.state() === UNWINDING) {
      this.park(); // suspended again, from another suspending import
      if (lent) this.unlend();
      return r;
    }
    const hr = this.door.reverseLeave();
    if (lent) this.unlend();
    if (hr !== S_OK) this.owner?.failed(crossingError(hr, `ReverseLeaveRuntime failed returning from export ${name}`));
    return r;
  }

  /** The hooked form of an import of an external guest. */
  hookImport(fn: AnyFn, target: number, key: string): AnyFn {
    const door = this.door;
    return (...args: unknown[]) => {
      if (this.state() === REWINDING) {
        // The rewind reaches the import that suspended: its glue stops the rewind and answers; the
        // Leave frame opened before the unwind closes now, on the lent task.
        this.machinery++;
        let r: unknown;
        try {
          r = fn(...args);
        } finally {
          this.machinery--;
        }
        const hr = door.enter();
        if (hr !== S_OK)
          this.owner?.failed(crossingError(noWait(hr), `EnterRuntime failed returning from import ${key}`));
        return r;
      }
      const hr = door.leave(target);
      if (hr !== S_OK) throw crossingError(hr, `LeaveRuntime(${hex(target)}) failed calling import ${key}`);
      let r: unknown;
      try {
        r = fn(...args);
      } catch (e) {
        door.enter();
        throw e;
      }
      if (this.state() === UNWINDING) return r; // suspended: the Leave stays open until the rewind
      const hr2 = door.enter();
      if (hr2 !== S_OK) throw crossingError(noWait(hr2), `EnterRuntime failed returning from import ${key}`);
      if (isThenable(r))
        throw crossingError(
          HOST_E_INVALIDOPERATION,
          `import ${key} answered a promise to an external guest: its runtime suspends through its own glue (Asyncify.handleAsync)`,
        );
      return r;
    };
  }

  /** Makes `t` current for a crossing made outside any fiber (no-op when a fiber runs: it is its own). */
  private lend(t: Task | null): boolean {
    if (t === null || this.lent !== null) return false;
    if (this.door.switchIn(t) !== S_OK) return false;
    this.lent = t;
    return true;
  }

  private unlend(): void {
    const t = this.lent!;
    this.lent = null;
    this.door.switchOut(t);
  }

  // --- suspending host functions ---------------------------------------------------------------

  /**
   * A host function the guest's glue may wait for: `work` runs at once, inside the import; when it
   * answers a promise, the guest gets `finish(value)` (or the rejection) only while the runtime is
   * not suspended, and an abort of the waiting fiber rejects it at once with the abort.
   */
  suspending<A extends unknown[], V, R = V>(
    work: (this: unknown, ...args: A) => PromiseLike<V> | V,
    finish?: (value: V) => R,
  ): (this: unknown, ...args: A) => R | V | Promise<R | V> {
    if (typeof work !== "function")
      throw new HResultError(E_INVALIDARG, "suspending(work, finish?): work must be a function");
    if (finish !== undefined && typeof finish !== "function")
      throw new HResultError(E_INVALIDARG, "suspending(work, finish?): finish must be a function");
    const link = this;
    return function (this: unknown, ...args: A) {
      const v = work.apply(this, args);
      if (!isThenable(v)) return finish !== undefined ? finish(v as V) : (v as V);
      const owner = link.owner;
      return new Promise<R | V>((resolve, reject) => {
        let done = false;
        const answer = (x: unknown, threw: boolean): void => {
          if (done) return;
          done = true;
          owner?.signal.removeEventListener("abort", onAbort);
          link.whenRunning(owner, () => {
            if (threw) reject(x);
            else if (finish === undefined) resolve(x as V);
            else {
              try {
                resolve(finish(x as V));
              } catch (e) {
                reject(e);
              }
            }
          });
        };
        const onAbort = (): void => answer(owner!.signal.reason, true);
        if (owner !== null) {
          if (owner.signal.aborted) onAbort();
          else owner.signal.addEventListener("abort", onAbort);
        }
        Promise.resolve(v).then(
          (x) => answer(x, false),
          (e) => answer(e, true),
        );
      });
    };
  }

  /** Runs `go` now, or (the runtime suspended) once the owner has waited for the resume. */
  whenRunning(owner: ExternalCall<unknown> | null, go: () => void): void {
    if (!this.door.isSuspended() || owner === null || !owner.holdForResume(go)) go();
  }

  // --- the turn --------------------------------------------------------------------------------

  /** The call has ended: the next waiting call gets the instance. */
  release(op: ExternalCall<unknown>): void {
    if (this.owner === op) this.owner = null;
    if (this.holder !== op) return;
    this.holder = null;
    const next = this.turn.next();
    if (next !== null) {
      this.holder = next.op;
      next.op.env.sched.wake(next.task, S_OK);
    }
  }
}

/** Waiting for an instance's turn: FIFO. */
class TurnWait implements Waitable<Task> {
  private readonly queue = new TaskQueue<Task>();
  private readonly ops = new Map<Task, ExternalCall<unknown>>();
  constructor(private readonly link: ExternalLink) {}
  want(op: ExternalCall<unknown>): void {
    this.ops.set(op.task, op);
  }
  tryAcquire(t: Task): number {
    if (this.link.holder === null && this.queue.size === 0) {
      this.link.holder = this.ops.get(t) ?? null;
      this.ops.delete(t);
      return S_OK;
    }
    return BLOCK;
  }
  enqueue(t: Task): void {
    this.queue.push(t);
  }
  remove(t: Task): void {
    this.queue.remove(t);
    this.ops.delete(t);
  }
  next(): { task: Task; op: ExternalCall<unknown> } | null {
    for (let t = this.queue.shift(); t !== null; t = this.queue.shift()) {
      const op = this.ops.get(t);
      this.ops.delete(t);
      if (op !== undefined) return { task: t, op };
    }
    return null;
  }
  waitsFor(): Task | null {
    return this.link.holder?.task ?? null;
  }
  describe(): string {
    return "its turn in an external guest (one suspended call per instance)";
  }
}

/** The wait of a fiber whose external call is in flight: woken by the call itself. */
class InFlight implements Waitable<Task> {
  tryAcquire(): number {
    return BLOCK;
  }
  enqueue(): void {}
  remove(): void {}
  waitsFor(): null {
    return null;
  }
  describe(): string {
    return "a call into an external guest (its runtime's promise)";
  }
}
const IN_FLIGHT = new InFlight();

const enum Phase {
  Start,
  Turn,
  InFlight,
  WaitResume,
  Done,
}

/** A wake of the fiber: hold a host function's answer until the runtime resumes. */
const HOLD = Symbol("fiberhost.external.hold");

/**
 * `yield* call(f, start)`: runs start(signal) on the fiber once it has the instance's turn; start
 * calls the guest through its glue and answers the glue's promise, which the fiber waits for.
 */
export class ExternalCall<T> extends Op<T> {
  private phase = Phase.Start;
  private readonly controller = new AbortController();
  private promiseSettled = false;
  private settledValue: unknown = undefined;
  private settledThrew = false;
  private heldAbort: unknown = undefined;
  private aborted = false;
  private failure: Error | null = null;
  private held: (() => void)[] = [];
  private waiting = false;
  private accounted = false;

  constructor(
    t: Task,
    /** @internal */
    readonly env: FiberEnv,
    private readonly link: ExternalLink,
    private readonly start: (signal: AbortSignal) => PromiseLike<T> | T,
  ) {
    super(t);
  }

  get task(): Task {
    return this.t;
  }
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  next(v?: unknown): IteratorResult<T, T> {
    this.own();
    switch (this.phase) {
      case Phase.Start: {
        const sp = safePoint(this.env.sched, this.t);
        if (sp) return this.command(sp);
        this.link.turn.want(this);
        const hr = this.env.sched.block(this.t, this.link.turn, INFINITE, 0);
        if (hr === BLOCK) {
          this.phase = Phase.Turn;
          return this.command(Cmd.Park);
        }
        if (hr !== S_OK)
          throw new HResultError(hr, `external call in fiber ${this.t.name} could not wait for its turn`);
        return this.begin();
      }
      case Phase.Turn:
        if (v !== S_OK)
          throw new HResultError(v as number, `external call in fiber ${this.t.name} could not get its turn`);
        return this.begin();
      case Phase.InFlight:
        if (v === HOLD) return this.waitResume();
        return this.settled();
      case Phase.WaitResume: {
        // Resumed (or the wait ended otherwise): the held answers go in a microtask, after this slice.
        const held = this.held;
        this.held = [];
        queueMicrotask(() => {
          for (const go of held) this.link.whenRunning(this, go);
        });
        return this.park();
      }
      default:
        throw new HResultError(E_INVALIDARG, "external call: an operation is used once");
    }
  }

  throw(err: unknown): IteratorResult<T, T> {
    this.own();
    if (this.phase === Phase.InFlight && this.promiseSettled) {
      // The call is over (its guest has returned): the abort is delivered as any other.
      this.phase = Phase.Done;
      throw err;
    }
    if (this.phase === Phase.InFlight || this.phase === Phase.WaitResume) {
      // An abort: the pending host function is told; the fiber waits until the guest has unwound.
      if (!this.aborted) {
        this.aborted = true;
        this.heldAbort = err;
        try {
          this.controller.abort(err);
        } catch {
          // (a listener of the user's threw: the abort goes on)
        }
      }
      if (this.phase === Phase.WaitResume) return this.next(S_OK);
      return this.park();
    }
    throw err;
  }

  private begin(): IteratorResult<T, T> {
    const link = this.link;
    link.holder = this;
    link.owner = this;
    this.env.sched.awaiting(+1); // run() does not settle while the call is in flight
    this.accounted = true;
    let p: PromiseLike<T> | T;
    try {
      p = this.start(this.controller.signal);
    } catch (err) {
      this.end();
      throw err;
    }
    if (!isThenable(p)) {
      this.end();
      return this.result(p as T);
    }
    // Adopted by a promise of our own: a thenable that throws rejects this call, never the scheduler.
    new Promise<unknown>((resolve) => resolve(p)).then(
      (value) => this.onSettled(value, false),
      (err) => this.onSettled(err, true),
    );
    return this.park();
  }

  private park(): IteratorResult<T, T> {
    if (this.promiseSettled) return this.settled();
    const hr = this.env.sched.block(this.t, IN_FLIGHT, INFINITE, 0);
    if (hr !== BLOCK)
      return this.settledWith(new HResultError(hr, `external call in fiber ${this.t.name} could not wait`));
    this.waiting = true;
    this.phase = Phase.InFlight;
    return this.command(Cmd.Park);
  }

  /** The glue's promise settled: the call is over (its crossings are done), whatever the fiber does next. */
  private onSettled(value: unknown, threw: boolean): void {
    this.promiseSettled = true;
    this.settledValue = value;
    this.settledThrew = threw;
    this.end();
    if (this.waiting && this.phase === Phase.InFlight && !this.t.done) {
      this.waiting = false;
      this.env.sched.wake(this.t, undefined);
    }
  }

  private end(): void {
    if (this.accounted) {
      this.accounted = false;
      this.env.sched.awaiting(-1);
    }
    this.link.release(this);
  }

  private settled(): IteratorResult<T, T> {
    this.phase = Phase.Done;
    this.waiting = false;
    if (this.aborted) throw this.heldAbort;
    if (this.failure !== null) throw this.failure;
    if (this.settledThrew) throw this.settledValue;
    return this.result(this.settledValue as T);
  }

  private settledWith(err: Error): never {
    this.phase = Phase.Done;
    throw err;
  }

  /** A crossing of the continuation failed where nothing could throw it: thrown into the fiber at the end. */
  failed(err: Error): void {
    this.failure ??= err;
  }

  /** The runtime is suspended: `go` waits for the resume (false: the fiber cannot wait, go now). */
  holdForResume(go: () => void): boolean {
    if (this.phase === Phase.Done || this.promiseSettled || this.t.done) return false;
    this.held.push(go);
    if (this.phase === Phase.InFlight && this.waiting && this.held.length === 1 && !this.t.done) {
      this.waiting = false;
      this.env.sched.wake(this.t, HOLD);
    }
    return true;
  }

  private waitResume(): IteratorResult<T, T> {
    const w = this.env.sched.waitForResume(this.t, true);
    this.phase = Phase.WaitResume;
    if (w !== BLOCK) return this.next(w);
    return this.command(Cmd.Park);
  }
}
