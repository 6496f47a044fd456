// `em.call`'s operation (external-link.ts says how an external guest is followed): the fiber
// waits for the instance's turn, runs its start function, and parks until the glue's promise
// settles, waiting for the runtime's resume when a host function's answer must be held.

import type { Task } from "../task/task.js";
import type { FiberEnv } from "../operations/env.js";
import { Op } from "../operations/operation.js";
import { safePoint } from "../operations/env.js";
import { Cmd } from "../kernel/commands.js";
import { BLOCK } from "../kernel/waitable.js";
import { ParkWait } from "../kernel/park.js";
import { E_INVALIDARG, HResultError, INFINITE, S_OK } from "../base/hresult.js";
import { isThenable } from "./guest.js";
import type { ExternalLink } from "./external-link.js";

/** The wait of a fiber whose external call is in flight: woken by the call itself, when its runtime's promise settles. */
const IN_FLIGHT = new ParkWait<Task>({ what: "a call into an external guest (its runtime's promise)" });

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
