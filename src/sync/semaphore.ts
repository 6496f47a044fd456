// IHostSemaphore (beside the other sync objects of src/sync/objects.ts, which re-exports it): a
// count of units, taken by waits and given back by ReleaseSemaphore, never above its maximum.

import type { Op } from "../operations/operation.js";
import { BLOCK } from "../kernel/waitable.js";
import { E_INVALIDARG, HOST_E_ABANDONED, INFINITE, S_OK } from "../base/hresult.js";
import { setOut, isOut, type Out } from "../base/out.js";
import {
  ACQUIRE_OR_THROW as ACQUIRE_OR_THROW_,
  CALL_NAME as CALL_NAME_,
  CHECK_WAIT as CHECK_WAIT_,
  CLOSED as CLOSED_,
  NOTIFY as NOTIFY_,
  SCOPED as SCOPED_,
  SYNC_ENV as SYNC_ENV_,
  USABLE as USABLE_,
  WAIT_OP as WAIT_OP_,
  WAITERS as WAITERS_,
  SyncObject,
  type SyncEnv,
} from "./sync-object.js";
import { checkBody, holding, type ScopedBody } from "./scoped.js";
import { TRY_ACQUIRE as TRY_ACQUIRE_ } from "../kernel/waitable.js";

// The keys of the scheduler's and the sync objects' state, as module-local consts: an imported
// binding is read through its module's cell (with a check that it is initialised) at every use,
// where a local const is folded into the optimised code (with imported keys, the switch ran 15% slower).
const TRY_ACQUIRE: typeof TRY_ACQUIRE_ = TRY_ACQUIRE_;
const ACQUIRE_OR_THROW: typeof ACQUIRE_OR_THROW_ = ACQUIRE_OR_THROW_;
const CALL_NAME: typeof CALL_NAME_ = CALL_NAME_;
const CHECK_WAIT: typeof CHECK_WAIT_ = CHECK_WAIT_;
const CLOSED: typeof CLOSED_ = CLOSED_;
const NOTIFY: typeof NOTIFY_ = NOTIFY_;
const SCOPED: typeof SCOPED_ = SCOPED_;
const SYNC_ENV: typeof SYNC_ENV_ = SYNC_ENV_;
const USABLE: typeof USABLE_ = USABLE_;
const WAIT_OP: typeof WAIT_OP_ = WAIT_OP_;
const WAITERS: typeof WAITERS_ = WAITERS_;

/** IHostSemaphore: Wait takes one unit, ReleaseSemaphore(n) gives n back (never above the maximum). */
export class Semaphore extends SyncObject {
  get kind(): "semaphore" {
    return "semaphore";
  }

  #count: number;
  #maximum: number;

  constructor(env: SyncEnv, count: number, maximum: number, name: string | null = null) {
    super(env, name);
    this.#count = count;
    this.#maximum = maximum;
  }

  /** The most units it holds (ReleaseSemaphore answers E_INVALIDARG past it). */
  get maximum(): number {
    return this.#maximum;
  }

  /** @internal */
  [TRY_ACQUIRE](): number {
    if (this[CLOSED]) return HOST_E_ABANDONED;
    if (this.#count === 0) return BLOCK;
    this.#count--;
    return S_OK;
  }

  wait(ms: number = INFINITE, option = 0): Op<number> {
    return this[WAIT_OP](ms, option);
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
    checkBody(body, this[CALL_NAME]("acquire(body)"));
    this[CHECK_WAIT]("acquire(body, ms, option)", ms, option);
    return this[SCOPED]("acquire(body)", this.#acquired(body, ms, option));
  }

  /** @internal acquire's steps */
  *#acquired<R>(body: ScopedBody<R>, ms: number, option: number): Generator<unknown, R, unknown> {
    yield* this[ACQUIRE_OR_THROW]("acquire(body)", ms, option);
    // Closed while the body ran: its waiters were woken already, and a unit has nowhere to go.
    return yield* holding(body, this[CALL_NAME]("acquire(body)"), () => (this[CLOSED] ? S_OK : this.#release(1)));
  }

  /** ReleaseSemaphore(n, out): out.value is the count before. E_INVALIDARG past the maximum; nothing changes. */
  release(n = 1, out?: Out<number>): number {
    return this.#release(n, out);
  }

  // acquire()'s release calls this, not `release` by name (which a user may have overwritten).
  #release(n: number, out?: Out<number>): number {
    const hr = this[USABLE]();
    if (hr !== S_OK) return hr;
    if (!Number.isInteger(n) || n < 1 || this.#count + n > this.#maximum) return E_INVALIDARG;
    if (out !== undefined && !isOut(out)) return setOut(out, 0);
    const before = this.#count;
    this.#count += n;
    for (
      let t = this.#count > 0 ? this[WAITERS].shift() : null;
      t;
      t = this.#count > 0 ? this[WAITERS].shift() : null
    ) {
      this.#count--;
      this[SYNC_ENV].sched.wake(t, S_OK);
    }
    if (this.#count > 0) this[NOTIFY]();
    if (out) out.value = before;
    return S_OK;
  }

  get currentCount(): number {
    return this.#count;
  }
}
