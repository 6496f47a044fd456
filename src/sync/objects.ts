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
import {
  ACQUIRE_OR_THROW as ACQUIRE_OR_THROW_,
  CALL_NAME as CALL_NAME_,
  CALLER as CALLER_,
  CHECK_WAIT as CHECK_WAIT_,
  CLOSED as CLOSED_,
  LABEL as LABEL_,
  NOTIFY as NOTIFY_,
  SCOPED as SCOPED_,
  SYNC_ENV as SYNC_ENV_,
  USABLE as USABLE_,
  WAIT_OP as WAIT_OP_,
  WAITERS as WAITERS_,
  WAKE_ALL as WAKE_ALL_,
  SyncObject,
  type SyncEnv,
} from "./sync-object.js";
import { checkBody, holding, type ScopedBody } from "./scoped.js";
import type { Semaphore } from "./semaphore.js";

import { EXTRA as EXTRA_, EXTRAS as EXTRAS_ } from "../task/state.js";
import { ABANDON as ABANDON_ } from "../task/extras.js";
import { DESCRIBE as DESCRIBE_, TRY_ACQUIRE as TRY_ACQUIRE_, WAITS_FOR as WAITS_FOR_ } from "../kernel/waitable.js";

// The keys of the scheduler's and the sync objects' state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const EXTRA: typeof EXTRA_ = EXTRA_;
const EXTRAS: typeof EXTRAS_ = EXTRAS_;
const DESCRIBE: typeof DESCRIBE_ = DESCRIBE_;
const TRY_ACQUIRE: typeof TRY_ACQUIRE_ = TRY_ACQUIRE_;
const WAITS_FOR: typeof WAITS_FOR_ = WAITS_FOR_;
const ABANDON: typeof ABANDON_ = ABANDON_;
const ACQUIRE_OR_THROW: typeof ACQUIRE_OR_THROW_ = ACQUIRE_OR_THROW_;
const CALL_NAME: typeof CALL_NAME_ = CALL_NAME_;
const CALLER: typeof CALLER_ = CALLER_;
const CHECK_WAIT: typeof CHECK_WAIT_ = CHECK_WAIT_;
const CLOSED: typeof CLOSED_ = CLOSED_;
const LABEL: typeof LABEL_ = LABEL_;
const NOTIFY: typeof NOTIFY_ = NOTIFY_;
const SCOPED: typeof SCOPED_ = SCOPED_;
const SYNC_ENV: typeof SYNC_ENV_ = SYNC_ENV_;
const USABLE: typeof USABLE_ = USABLE_;
const WAIT_OP: typeof WAIT_OP_ = WAIT_OP_;
const WAITERS: typeof WAITERS_ = WAITERS_;
const WAKE_ALL: typeof WAKE_ALL_ = WAKE_ALL_;
export type { ScopedBody } from "./scoped.js";

export { SyncObject, type SyncEnv } from "./sync-object.js";
export { Semaphore } from "./semaphore.js";

/** IHostCrst: recursive (leave it as often as it was entered); abandoned when its owner ends. */
export class Crst extends SyncObject {
  get kind(): "crst" {
    return "crst";
  }
  #owner: Task | null = null;
  #recursion = 0;

  /** @internal */
  [TRY_ACQUIRE](t: Task): number {
    if (this[CLOSED]) return HOST_E_ABANDONED;
    if (this.#owner === null) return this.#take(t);
    if (this.#owner === t) {
      this.#recursion++;
      return S_OK;
    }
    return BLOCK;
  }

  /** @internal */
  [WAITS_FOR](): Task | null {
    return this.#owner;
  }

  /** @internal */
  [DESCRIBE](): string {
    return this.#owner ? `${this[LABEL]()} owned by task ${this.#owner.id} (${this.#owner.name})` : this[LABEL]();
  }

  /** IHostCrst::Enter(option): waits without a time limit; HOST_E_DEADLOCK when it closes a cycle. */
  enter(option = 0): Op<number> {
    return this[WAIT_OP](INFINITE, option);
  }

  /**
   * Enters, runs `body`, and leaves: also when the body throws or the fiber is aborted inside it
   * (C#'s `lock`). Answers the body's value. When Enter does not answer S_OK (HOST_E_DEADLOCK,
   * HOST_E_ABANDONED, HOST_E_INTERRUPTED with WAIT_ALERTABLE) it throws HResultError: the body does
   * not run and nothing is held. A body that is not a function, or an unknown option bit, throws
   * HResultError(E_INVALIDARG) here. The body receives nothing: it uses the fiber's `f` it closes over.
   */
  lock<R>(body: ScopedBody<R>, option = 0): Op<R> {
    checkBody(body, this[CALL_NAME]("lock(body)"));
    this[CHECK_WAIT]("lock(body, option)", INFINITE, option);
    return this[SCOPED]("lock(body)", this.#locked(body, option));
  }

  /** @internal lock's steps */
  *#locked<R>(body: ScopedBody<R>, option: number): Generator<unknown, R, unknown> {
    yield* this[ACQUIRE_OR_THROW]("lock(body)", INFINITE, option);
    // Closed while the body ran: close() released it, and nothing is left to leave.
    return yield* holding(body, this[CALL_NAME]("lock(body)"), () => (this[CLOSED] ? S_OK : this.#leave()));
  }

  /** IHostCrst::TryEnter(option, out): out.value tells whether the caller now owns it. */
  tryEnter(option: number, out: Out<boolean>): number {
    const off = this[SYNC_ENV].door.peekAvailable();
    if (off !== S_OK) return off;
    const caller = this[CALLER]();
    if (caller === null || !isWaitOption(option)) return E_INVALIDARG;
    if (!isOut(out)) return setOut(out, false);
    const got = this[TRY_ACQUIRE](caller);
    if (got === BLOCK) return setOut(out, false);
    if (got !== S_OK) return got; // abandoned (closed), or the core failed to count the lock
    return setOut(out, true);
  }

  /** IHostCrst::Leave: HOST_E_NOT_OWNER unless the caller owns it. */
  leave(): number {
    return this.#leave();
  }

  // lock()'s release calls this, not `leave` by name (which a user may have overwritten).
  #leave(): number {
    const off = this[SYNC_ENV].door.peekAvailable();
    if (off !== S_OK) return off;
    const caller = this[CALLER]();
    if (caller === null) return E_INVALIDARG;
    if (this.#owner !== caller) return HOST_E_NOT_OWNER;
    if (this.#recursion > 1) {
      this.#recursion--;
      return S_OK;
    }
    const hr = this.#release();
    if (hr !== S_OK) return hr;
    const next = this[WAITERS].shift();
    if (next) {
      this.#take(next);
      this[SYNC_ENV].sched.wake(next, S_OK);
    }
    return S_OK;
  }

  /** Who owns it now (null: nobody). */
  getOwner(): Task | null {
    return this.#owner;
  }

  /** @internal its owner ended while owning it (HeldLock) */
  [ABANDON](): void {
    this.#owner = null;
    this.#recursion = 0;
    this[WAKE_ALL](HOST_E_ABANDONED);
  }

  close(): number {
    if (this.#owner) this.#release();
    return super.close();
  }

  /** The task owns it now: counted in its LocksHeld by the core (nothing changes if that fails). */
  #take(t: Task): number {
    const hr = this[SYNC_ENV].door.locksHeldAdd(t, 1);
    if (hr !== S_OK) return hr;
    this.#owner = t;
    this.#recursion = 1;
    (t[EXTRAS]().held ??= new Set()).add(this);
    return S_OK;
  }

  #release(): number {
    const t = this.#owner!;
    const hr = this[SYNC_ENV].door.locksHeldAdd(t, -1);
    // (An owner that ended was handled by abandon(); a live one the core refuses keeps the Crst.)
    if (hr !== S_OK && this[SYNC_ENV].door.isLive(t)) return hr;
    t[EXTRA]?.held?.delete(this);
    this.#owner = null;
    this.#recursion = 0;
    return S_OK;
  }
}

/** What both events share: their waits (an event is acquired by a wait, released by nothing). */
abstract class EventObject extends SyncObject {
  wait(ms: number = INFINITE, option = 0): Op<number> {
    return this[WAIT_OP](ms, option);
  }

  /**
   * Waits as wait(ms, option) does, and throws HResultError unless the wait answers S_OK
   * (HOST_E_TIMEOUT, HOST_E_INTERRUPTED, HOST_E_ABANDONED once closed, HOST_E_DEADLOCK). A timeout
   * that is not a whole number of ms in 0 … 2^32−1, or an unknown option bit, throws
   * HResultError(E_INVALIDARG) here.
   */
  waitOrThrow(ms: number = INFINITE, option = 0): Op<void> {
    this[CHECK_WAIT]("waitOrThrow(ms, option)", ms, option);
    return this[SCOPED]("waitOrThrow()", this[ACQUIRE_OR_THROW]("waitOrThrow()", ms, option));
  }
}

/** IHostAutoEvent: Set wakes one waiter, or stays signalled until one wait consumes it. */
export class AutoEvent extends EventObject {
  get kind(): "autoEvent" {
    return "autoEvent";
  }
  #signalled = false;

  /** @internal */
  [TRY_ACQUIRE](): number {
    if (this[CLOSED]) return HOST_E_ABANDONED;
    if (!this.#signalled) return BLOCK;
    this.#signalled = false;
    return S_OK;
  }

  set(): number {
    const hr = this[USABLE]();
    if (hr !== S_OK) return hr;
    const t = this[WAITERS].shift();
    if (t) this[SYNC_ENV].sched.wake(t, S_OK);
    else {
      this.#signalled = true;
      this[NOTIFY]();
    }
    return S_OK;
  }
}

/** IHostManualEvent: Set wakes every waiter and stays signalled until Reset. */
export class ManualEvent extends EventObject {
  get kind(): "manualEvent" {
    return "manualEvent";
  }

  #signalled: boolean;

  constructor(env: SyncEnv, signalled: boolean, name: string | null = null) {
    super(env, name);
    this.#signalled = signalled;
  }

  /** @internal */
  [TRY_ACQUIRE](): number {
    if (this[CLOSED]) return HOST_E_ABANDONED;
    return this.#signalled ? S_OK : BLOCK;
  }

  set(): number {
    const hr = this[USABLE]();
    if (hr !== S_OK) return hr;
    this.#signalled = true;
    this[WAKE_ALL](S_OK);
    this[NOTIFY]();
    return S_OK;
  }

  reset(): number {
    const hr = this[USABLE]();
    if (hr !== S_OK) return hr;
    this.#signalled = false;
    return S_OK;
  }
}

export type SyncObjectType = Crst | AutoEvent | ManualEvent | Semaphore;

/**
 * What f.wait and f.waitAny wait on (a Crst is entered with crst.enter): a host's events and
 * semaphores, and a shared runtime's (src/threads/), which are sync objects of the same kinds.
 */
export type WaitObject =
  | AutoEvent
  | ManualEvent
  | Semaphore
  | (SyncObject & { readonly kind: "autoEvent" | "manualEvent" | "semaphore" });
