// What an f.call keeps besides its phases (guest-call.ts): its fields, the state of a call that
// has suspended (made at its first suspension: most calls never do), its wait while parked, the
// suspending import's side of the call (GuestCallState.suspend / answer: the guest's hooked
// import calls them) and a kept stack's frames (a guest with a linear-memory stack: stack-finder.ts, shadow-stack.ts, call-gate.ts).

import type { Task } from "../task/task.js";
import { Op } from "../operations/operation.js";
import type { FiberEnv } from "../operations/env.js";
import type { SchedulerPort } from "../scheduler/port.js";
import { BLOCK, type Waitable } from "../kernel/waitable.js";
import { HOST_E_INVALIDOPERATION, HResultError } from "../base/hresult.js";
import type { SuspendingCall, ExportInfo } from "./guest.js";

import {
  DESCRIBE as DESCRIBE_,
  ENQUEUE as ENQUEUE_,
  REMOVE as REMOVE_,
  TRY_ACQUIRE as TRY_ACQUIRE_,
  WAITS_FOR as WAITS_FOR_,
} from "../kernel/waitable.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const DESCRIBE: typeof DESCRIBE_ = DESCRIBE_;
const ENQUEUE: typeof ENQUEUE_ = ENQUEUE_;
const REMOVE: typeof REMOVE_ = REMOVE_;
const TRY_ACQUIRE: typeof TRY_ACQUIRE_ = TRY_ACQUIRE_;
const WAITS_FOR: typeof WAITS_FOR_ = WAITS_FOR_;

export const enum Phase {
  Open,
  WaitOpen,
  /** Parked: a suspending import's promise is pending. */
  Parked,
  /** The promise settled; the enter back into the runtime waits for the resume. */
  WaitEnter,
  /** JSPI: the guest was resumed (it continues from a microtask), or its export's promise is pending. */
  Continuing,
  Done,
}

/** What woke a fiber parked in a guest (JSPI has two sources). */
export const enum WakeEvent {
  None,
  Import,
  Return,
}

export type Resolvers = { resolve(v: unknown): void; reject(e: unknown): void };

/** What a suspending import's promise wakes when it settles (GuestCall.importSettled). */
export interface ImportWaiter {
  importSettled(seq: number, value: unknown, threw: boolean): void;
}

/**
 * What a suspended f.call keeps (GuestCallState.suspended): made at its first suspension. It is
 * also the fiber's wait while it is parked inside the guest (woken by the call itself when a
 * promise settles): a ParkWait would cost a wait, a spec and two closures per suspending call.
 */
export class Suspended implements Waitable<Task> {
  importName = "";
  /** asyncify: the unwound stack, while parked. */
  stack: Uint8Array | null = null;
  /** The import's answer to give the guest: a value, or an error to throw at its call site. */
  settled: unknown = undefined;
  settledThrew = false;
  /** The scheduler the fiber parks on (set when it first parks). */
  private sched: SchedulerPort | null = null;
  /** The fiber is parked on this wait now (a settling promise wakes it only then). */
  waiting = false;
  event = WakeEvent.None;
  /** A suspending import's promise is what the parked fiber waits for (numbered: a stale one is ignored). */
  importPending = false;
  seq = 0;
  /**
   * A promise this state waited for was given up while still pending (an abort answered the
   * import first): it may still settle, so every later wait gets reactions of its own (numbered,
   * guest-call.ts's expectImport), and the state is not reused by another call.
   */
  gaveUp = false;
  /** The call this state belongs to now (a state is reused by call after call: releaseState). */
  owner: ImportWaiter | null = null;
  /** The reactions to the one outstanding promise of a state that never gave one up: made once, for every wait of every call. */
  onValue: ((v: unknown) => void) | null = null;
  onError: ((e: unknown) => void) | null = null;
  /** JSPI: an abort that arrived while the guest was running on its own (delivered at its next suspension or return). */
  heldAbort: unknown = undefined;
  lent = false;
  resolvers: Resolvers | null = null;

  /** The wait of a fiber parked inside a guest: this object, on `sched`. */
  parkWait(sched: SchedulerPort): this {
    this.sched = sched;
    return this;
  }

  [TRY_ACQUIRE](): number {
    return BLOCK;
  }
  [ENQUEUE](): void {
    this.waiting = true;
    this.sched!.awaiting(+1); // run() does not settle while a guest's promise is pending
  }
  [REMOVE](): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.sched!.awaiting(-1);
  }
  [WAITS_FOR](): null {
    return null;
  }
  [DESCRIBE](): string {
    return "a promise inside a guest (f.call)";
  }
}

/** Suspended states of ended calls, for the next (see GuestCallState.releaseState): fibers parked at once. */
const SPARE: Suspended[] = [];
const MAX_SPARE = 256;

/**
 * The state of one f.call and the suspending import's side of it (SuspendingCall: the import calls
 * suspend, and answer once the guest is resumed); GuestCall (guest-call.ts) adds the phases.
 */
export abstract class GuestCallState<R> extends Op<R> implements SuspendingCall {
  depth = 0;
  protected phase = Phase.Open;
  /** Set by a suspending import: the promise the guest waits for. */
  protected promise: PromiseLike<unknown> | null = null;
  /** The suspending import's LeaveRuntime frame is open (a hooked import). */
  protected leaveOpen = false;
  /** The state of a call that has suspended, made at its first suspension: most calls never do. */
  protected suspended: Suspended | null = null;
  /** A kept stack (per-fiber): the stack pointer where the call entered the guest; its frames lie below. */
  protected spEntry = 0;
  /** A kept stack: where the pointer goes back when the call leaves the guest (a park, a return, a throw). */
  protected spOuter = 0;
  /** A kept stack: the call's frames while it is parked (null: none kept, or the guest moved its stack). */
  protected frames: Uint8Array | null = null;

  constructor(
    t: Task,
    protected readonly env: FiberEnv,
    protected readonly info: ExportInfo,
    protected readonly args: unknown[],
  ) {
    super(t);
  }

  get task(): Task {
    return this.t;
  }

  /** JSPI: the guest runs on this fiber's task from a microtask. */
  get lent(): boolean {
    return this.suspended?.lent === true;
  }
  set lent(v: boolean) {
    this.state().lent = v;
  }
  /** JSPI: settles the promise the suspended guest waits for. */
  get resolvers(): Resolvers | null {
    return this.suspended === null ? null : this.suspended.resolvers;
  }
  set resolvers(v: Resolvers | null) {
    this.state().resolvers = v;
  }
  protected state(): Suspended {
    let s = this.suspended;
    if (s === null) {
      s = this.suspended = SPARE.pop() ?? new Suspended();
      s.owner = this as unknown as ImportWaiter;
    }
    return s;
  }

  /**
   * asyncify: the call ended, its suspended state is kept for another call (every call of a
   * suspension round trip makes one). No promise is outstanding on it then: the last one settled
   * and woke the call, or it was given up (gaveUp: then the state is dropped, not reused). JSPI's is not reused: its
   * guest may still hold the call (lent, its resolvers) after it ends.
   */
  protected releaseState(): void {
    const s = this.suspended;
    if (s === null) return;
    this.suspended = null;
    s.owner = null;
    if (s.gaveUp || SPARE.length >= MAX_SPARE) return; // (a promise given up may still settle into it)
    s.importName = "";
    s.stack = null;
    s.settled = undefined;
    s.settledThrew = false;
    s.waiting = false;
    s.event = WakeEvent.None;
    s.importPending = false;
    s.heldAbort = undefined;
    s.lent = false;
    s.resolvers = null;
    SPARE.push(s);
  }

  /** SuspendingCall: a suspending import answered `promise` (the guest unwinds, or JSPI suspends it). */
  suspend(promise: PromiseLike<unknown>, hooked: boolean, name: string): void {
    this.promise = promise;
    this.leaveOpen = hooked;
    this.state().importName = name;
    this.parkFrames();
  }

  /**
   * A kept stack: the call leaves the guest at a suspension (asyncify unwinds from here without
   * running a function's epilogue; JSPI's engine suspends it here), so the pointer would stay at
   * the park. The frames go with the call; the stack is as the call found it.
   */
  parkFrames(): void {
    const s = this.info.guest.stack;
    if (s === null) return;
    this.frames = s.takeFrames(this.spEntry);
    if (this.frames !== null) s.sp = this.spOuter;
  }

  /** SuspendingCall: the suspending import's answer, when the rewind reaches it (asyncify). */
  answer(): unknown {
    const v = this.suspended!.settled;
    this.suspended!.settled = undefined;
    if (this.suspended!.settledThrew) {
      this.suspended!.settledThrew = false;
      throw v;
    }
    return v;
  }

  /** The settled answer as a JSPI outcome (consumed). */
  protected answerSettled(): { value: unknown; threw: boolean } {
    const out = { value: this.suspended!.settled, threw: this.suspended!.settledThrew };
    this.suspended!.settled = undefined;
    this.suspended!.settledThrew = false;
    return out;
  }

  /**
   * A kept stack: the parked call's frames back at their own addresses, below the call's entry,
   * which must be free (a resume from inside a call into the guest further up would find its
   * frames there), just before the guest goes on (asyncify: its rewind; JSPI: where the engine
   * resumes it, jspi.ts). Null when they are (or there is no kept stack); otherwise the error
   * that abandons the call.
   */
  framesBack(): HResultError | null {
    const s = this.info.guest.stack;
    if (s === null) return null;
    const now = s.sp;
    const frames = this.frames;
    this.frames = null;
    let lost: string;
    if (frames === null)
      lost =
        "the guest's stack pointer was not below the call's entry when it parked (the guest switched stacks itself)";
    else if (now < this.spEntry) {
      s.recycle(frames);
      lost =
        "the guest's stack is in use where the parked call's frames go back (a call into the guest is running further up)";
    } else {
      this.spOuter = now;
      s.putFrames(frames, this.spEntry);
      return null;
    }
    return new HResultError(
      HOST_E_INVALIDOPERATION,
      `f.call(${this.info.name}) in fiber ${this.t.name}: ${lost}; the guest call is abandoned`,
    );
  }

  /**
   * JSPI: an exception left the guest (its epilogues skipped): a kept stack's pointer goes back
   * where the call found it at once (close does it again; other fibers' guests may run first).
   */
  unwound(): void {
    const s = this.info.guest.stack;
    if (s !== null) s.sp = this.spOuter;
  }

  /** A kept stack: the parked call's frames dropped (the call will not run on: abandoned, or unwound by an error). */
  protected dropFrames(): void {
    if (this.frames !== null) this.info.guest.stack?.recycle(this.frames);
    this.frames = null;
  }
}
