// The host's synchronisation objects, modelled on IHostSyncManager: IHostCrst (a recursive
// critical section), IHostAutoEvent, IHostManualEvent and IHostSemaphore. Waits are operations
// (use them with `yield*` in a fiber); set, reset, release, leave and tryEnter are synchronous.
// Beside the contract's waits, which answer an HRESULT, the scoped forms (crst.lock, sem.acquire,
// ev.waitOrThrow: src/sync/scoped.ts) throw HResultError when the wait fails and always release.

import type { Task } from "../task/task.js";
import type { Op } from "../operations/operation.js";
import { BLOCK } from "../kernel/waitable.js";
import { E_INVALIDARG, HOST_E_ABANDONED, HOST_E_NOT_OWNER, INFINITE, S_OK } from "../base/hresult.js";
import { isWaitOption } from "../base/args.js";
import { setOut, isOut, type Out } from "../base/out.js";
import { SyncObject, type SyncEnv } from "./sync-object.js";
import { checkBody, holding, type ScopedBody } from "./scoped.js";

import { EXTRA as EXTRA_, EXTRAS as EXTRAS_ } from "../task/state.js";
import { DESCRIBE as DESCRIBE_, TRY_ACQUIRE as TRY_ACQUIRE_, WAITS_FOR as WAITS_FOR_ } from "../kernel/waitable.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const EXTRA: typeof EXTRA_ = EXTRA_;
const EXTRAS: typeof EXTRAS_ = EXTRAS_;
const DESCRIBE: typeof DESCRIBE_ = DESCRIBE_;
const TRY_ACQUIRE: typeof TRY_ACQUIRE_ = TRY_ACQUIRE_;
const WAITS_FOR: typeof WAITS_FOR_ = WAITS_FOR_;
export type { ScopedBody } from "./scoped.js";

export { SyncObject, type SyncEnv } from "./sync-object.js";

/** IHostCrst: recursive (leave it as often as it was entered); abandoned when its owner ends. */
export class Crst extends SyncObject {
  readonly kind = "crst";
  private owner: Task | null = null;
  private recursion = 0;

  /** @internal */
  [TRY_ACQUIRE](t: Task): number {
    if (this.closed) return HOST_E_ABANDONED;
    if (this.owner === null) return this.take(t);
    if (this.owner === t) {
      this.recursion++;
      return S_OK;
    }
    return BLOCK;
  }

  /** @internal */
  [WAITS_FOR](): Task | null {
    return this.owner;
  }

  /** @internal */
  [DESCRIBE](): string {
    return this.owner ? `${this.label()} owned by task ${this.owner.id} (${this.owner.name})` : this.label();
  }

  /** IHostCrst::Enter(option): waits without a time limit; HOST_E_DEADLOCK when it closes a cycle. */
  enter(option = 0): Op<number> {
    return this.waitOp(INFINITE, option);
  }

  /**
   * Enters, runs `body`, and leaves: also when the body throws or the fiber is aborted inside it
   * (C#'s `lock`). Answers the body's value. When Enter does not answer S_OK (HOST_E_DEADLOCK,
   * HOST_E_ABANDONED, HOST_E_INTERRUPTED with WAIT_ALERTABLE) it throws HResultError: the body does
   * not run and nothing is held. A body that is not a function, or an unknown option bit, throws
   * HResultError(E_INVALIDARG) here. The body receives nothing: it uses the fiber's `f` it closes over.
   */
  lock<R>(body: ScopedBody<R>, option = 0): Op<R> {
    checkBody(body, this.callName("lock(body)"));
    this.checkWait("lock(body, option)", INFINITE, option);
    return this.scoped("lock(body)", this.locked(body, option));
  }

  /** @internal lock's steps */
  private *locked<R>(body: ScopedBody<R>, option: number): Generator<unknown, R, unknown> {
    yield* this.acquireOrThrow("lock(body)", INFINITE, option);
    // Closed while the body ran: close() released it, and nothing is left to leave.
    return yield* holding(body, this.callName("lock(body)"), () => (this.closed ? S_OK : this.leave()));
  }

  /** IHostCrst::TryEnter(option, out): out.value tells whether the caller now owns it. */
  tryEnter(option: number, out: Out<boolean>): number {
    const off = this.env.door.peekAvailable();
    if (off !== S_OK) return off;
    const caller = this.caller();
    if (caller === null || !isWaitOption(option)) return E_INVALIDARG;
    if (!isOut(out)) return setOut(out, false);
    const got = this[TRY_ACQUIRE](caller);
    if (got === BLOCK) return setOut(out, false);
    if (got !== S_OK) return got; // abandoned (closed), or the core failed to count the lock
    return setOut(out, true);
  }

  /** IHostCrst::Leave: HOST_E_NOT_OWNER unless the caller owns it. */
  leave(): number {
    const off = this.env.door.peekAvailable();
    if (off !== S_OK) return off;
    const caller = this.caller();
    if (caller === null) return E_INVALIDARG;
    if (this.owner !== caller) return HOST_E_NOT_OWNER;
    if (this.recursion > 1) {
      this.recursion--;
      return S_OK;
    }
    const hr = this.release();
    if (hr !== S_OK) return hr;
    const next = this.waiters.shift();
    if (next) {
      this.take(next);
      this.env.sched.wake(next, S_OK);
    }
    return S_OK;
  }

  /** Who owns it now (null: nobody). */
  getOwner(): Task | null {
    return this.owner;
  }

  /** @internal its owner ended while owning it */
  abandon(): void {
    this.owner = null;
    this.recursion = 0;
    this.wakeAll(HOST_E_ABANDONED);
  }

  close(): number {
    if (this.owner) this.release();
    return super.close();
  }

  /** The task owns it now: counted in its LocksHeld by the core (nothing changes if that fails). */
  private take(t: Task): number {
    const hr = this.env.door.locksHeldAdd(t, 1);
    if (hr !== S_OK) return hr;
    this.owner = t;
    this.recursion = 1;
    (t[EXTRAS]().held ??= new Set()).add(this);
    return S_OK;
  }

  private release(): number {
    const t = this.owner!;
    const hr = this.env.door.locksHeldAdd(t, -1);
    // (An owner that ended was handled by abandon(); a live one the core refuses keeps the Crst.)
    if (hr !== S_OK && this.env.door.isLive(t)) return hr;
    t[EXTRA]?.held?.delete(this);
    this.owner = null;
    this.recursion = 0;
    return S_OK;
  }
}

/** IHostAutoEvent: Set wakes one waiter, or stays signalled until one wait consumes it. */
export class AutoEvent extends SyncObject {
  readonly kind = "autoEvent";
  private signalled = false;

  /** @internal */
  [TRY_ACQUIRE](): number {
    if (this.closed) return HOST_E_ABANDONED;
    if (!this.signalled) return BLOCK;
    this.signalled = false;
    return S_OK;
  }

  wait(ms: number = INFINITE, option = 0): Op<number> {
    return this.waitOp(ms, option);
  }

  /**
   * Waits as wait(ms, option) does, and throws HResultError unless the wait answers S_OK
   * (HOST_E_TIMEOUT, HOST_E_INTERRUPTED, HOST_E_ABANDONED once closed, HOST_E_DEADLOCK). A timeout
   * that is not a whole number of ms in 0 … 2^32−1, or an unknown option bit, throws
   * HResultError(E_INVALIDARG) here.
   */
  waitOrThrow(ms: number = INFINITE, option = 0): Op<void> {
    this.checkWait("waitOrThrow(ms, option)", ms, option);
    return this.scoped("waitOrThrow()", this.acquireOrThrow("waitOrThrow()", ms, option));
  }

  set(): number {
    const hr = this.usable();
    if (hr !== S_OK) return hr;
    const t = this.waiters.shift();
    if (t) this.env.sched.wake(t, S_OK);
    else {
      this.signalled = true;
      this.notify();
    }
    return S_OK;
  }
}

/** IHostManualEvent: Set wakes every waiter and stays signalled until Reset. */
export class ManualEvent extends SyncObject {
  readonly kind = "manualEvent";

  constructor(
    env: SyncEnv,
    private signalled: boolean,
    name: string | null = null,
  ) {
    super(env, name);
  }

  /** @internal */
  [TRY_ACQUIRE](): number {
    if (this.closed) return HOST_E_ABANDONED;
    return this.signalled ? S_OK : BLOCK;
  }

  wait(ms: number = INFINITE, option = 0): Op<number> {
    return this.waitOp(ms, option);
  }

  /**
   * Waits as wait(ms, option) does, and throws HResultError unless the wait answers S_OK
   * (HOST_E_TIMEOUT, HOST_E_INTERRUPTED, HOST_E_ABANDONED once closed, HOST_E_DEADLOCK). A timeout
   * that is not a whole number of ms in 0 … 2^32−1, or an unknown option bit, throws
   * HResultError(E_INVALIDARG) here.
   */
  waitOrThrow(ms: number = INFINITE, option = 0): Op<void> {
    this.checkWait("waitOrThrow(ms, option)", ms, option);
    return this.scoped("waitOrThrow()", this.acquireOrThrow("waitOrThrow()", ms, option));
  }

  set(): number {
    const hr = this.usable();
    if (hr !== S_OK) return hr;
    this.signalled = true;
    this.wakeAll(S_OK);
    this.notify();
    return S_OK;
  }

  reset(): number {
    const hr = this.usable();
    if (hr !== S_OK) return hr;
    this.signalled = false;
    return S_OK;
  }
}

/** IHostSemaphore: Wait takes one unit, ReleaseSemaphore(n) gives n back (never above the maximum). */
export class Semaphore extends SyncObject {
  readonly kind = "semaphore";

  constructor(
    env: SyncEnv,
    private count: number,
    readonly maximum: number,
    name: string | null = null,
  ) {
    super(env, name);
  }

  /** @internal */
  [TRY_ACQUIRE](): number {
    if (this.closed) return HOST_E_ABANDONED;
    if (this.count === 0) return BLOCK;
    this.count--;
    return S_OK;
  }

  wait(ms: number = INFINITE, option = 0): Op<number> {
    return this.waitOp(ms, option);
  }

  /**
   * Takes one unit (as wait(ms, option)), runs `body`, and gives the unit back: also when the body
   * throws or the fiber is aborted inside it. Answers the body's value. When the wait does not
   * answer S_OK (HOST_E_TIMEOUT, HOST_E_INTERRUPTED, HOST_E_ABANDONED once closed) it throws
   * HResultError: the body does not run and no unit is held. A body that is not a function, a
   * timeout that is not a whole number of ms in 0 … 2^32−1, or an unknown option bit, throws
   * HResultError(E_INVALIDARG) here. The body receives nothing: it uses the fiber's `f` it closes over.
   */
  acquire<R>(body: ScopedBody<R>, ms: number = INFINITE, option = 0): Op<R> {
    checkBody(body, this.callName("acquire(body)"));
    this.checkWait("acquire(body, ms, option)", ms, option);
    return this.scoped("acquire(body)", this.acquired(body, ms, option));
  }

  /** @internal acquire's steps */
  private *acquired<R>(body: ScopedBody<R>, ms: number, option: number): Generator<unknown, R, unknown> {
    yield* this.acquireOrThrow("acquire(body)", ms, option);
    // Closed while the body ran: its waiters were woken already, and a unit has nowhere to go.
    return yield* holding(body, this.callName("acquire(body)"), () => (this.closed ? S_OK : this.release(1)));
  }

  /** ReleaseSemaphore(n, out): out.value is the count before. E_INVALIDARG past the maximum; nothing changes. */
  release(n = 1, out?: Out<number>): number {
    const hr = this.usable();
    if (hr !== S_OK) return hr;
    if (!Number.isInteger(n) || n < 1 || this.count + n > this.maximum) return E_INVALIDARG;
    if (out !== undefined && !isOut(out)) return setOut(out, 0);
    const before = this.count;
    this.count += n;
    for (let t = this.count > 0 ? this.waiters.shift() : null; t; t = this.count > 0 ? this.waiters.shift() : null) {
      this.count--;
      this.env.sched.wake(t, S_OK);
    }
    if (this.count > 0) this.notify();
    if (out) out.value = before;
    return S_OK;
  }

  get currentCount(): number {
    return this.count;
  }
}

export type SyncObjectType = Crst | AutoEvent | ManualEvent | Semaphore;

/** What f.wait and f.waitAny wait on (a Crst is entered with crst.enter). */
export type WaitObject = AutoEvent | ManualEvent | Semaphore;
