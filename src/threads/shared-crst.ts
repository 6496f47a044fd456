// IHostCrst across threads: its owner is a task (slot index, generation, thread) in the
// coordination block, changed only under the block's lock, so that the wait graph a deadlock check
// follows is one consistent picture across threads. Abandoned when its owner ends owning it (on
// its own thread: the task's held locks; a worker that died: reapThread).

import type { Task } from "../task/task.js";
import type { Op } from "../operations/operation.js";
import { BLOCK } from "../kernel/waitable.js";
import { E_INVALIDARG, HOST_E_ABANDONED, HOST_E_DEADLOCK, HOST_E_NOT_OWNER, INFINITE, S_OK } from "../base/hresult.js";
import { isWaitOption } from "../base/args.js";
import { isOut, setOut, type Out } from "../base/out.js";
import { ACQUIRE_OR_THROW, CALL_NAME, CALLER, CHECK_WAIT, SCOPED, SYNC_ENV, WAIT_OP } from "../sync/sync-object.js";
import { checkBody, holding, type ScopedBody } from "../sync/scoped.js";
import { ENQUEUE, REMOVE, TRY_ACQUIRE, WAITS_FOR } from "../kernel/waitable.js";
import { ABANDON } from "../task/extras.js";
import { EXTRA, EXTRAS } from "../task/state.js";
import { GEN, IDX } from "../core/names.js";
import {
  EDGE_CRST,
  O_ABANDONS,
  O_OWNER_GEN,
  O_OWNER_IDX,
  O_OWNER_THREAD,
  O_RECURSION,
  O_WAITERS,
  ObjectKind,
  type Coord,
  type SlotHandle as TaskHandle,
} from "./coord.js";
import { SharedObject, type ObjectLink } from "./shared-objects.js";
import type { SyncEnv } from "../sync/sync-object.js";

export type { SlotHandle as TaskHandle } from "./coord.js";

/** @internal What a Crst needs of its thread's link beyond an object's: its tasks by handle. */
export interface CrstLink extends ObjectLink {
  /** This thread's live task in slot idx of generation gen, or null. */
  taskAt(idx: number, gen: number): Task | null;
}

interface Waiting {
  /** Its O_ABANDONS when it queued: a change means its owner ended while it waited. */
  abandons: number;
  edge: number;
  deadlocked: boolean;
}

export class SharedCrst extends SharedObject {
  get kind(): "crst" {
    return "crst";
  }
  readonly #waiting = new Map<Task, Waiting>();
  readonly #link: CrstLink;

  /** @internal made by ThreadHost (createShared…, openShared) */
  constructor(env: SyncEnv, link: CrstLink, id: number, name: string | null) {
    super(env, link, id, name);
    this.#link = link;
  }

  /** The owner's handle, or null: read under the lock. */
  #ownerHandle(): TaskHandle | null {
    return this.link.coord.crstOwner(this.id);
  }

  /** @internal */
  [TRY_ACQUIRE](t: Task): number {
    if (this.isClosed()) return HOST_E_ABANDONED;
    const coord = this.link.coord;
    coord.lock();
    let took = false;
    try {
      const w = coord.words;
      const owner = w[coord.at(this.id, O_OWNER_IDX)]!;
      if (owner === 0) {
        w[coord.at(this.id, O_OWNER_IDX)] = t[IDX] + 1;
        w[coord.at(this.id, O_OWNER_GEN)] = t[GEN];
        w[coord.at(this.id, O_OWNER_THREAD)] = this.link.thread;
        w[coord.at(this.id, O_RECURSION)] = 1;
        took = true;
      } else if (this.#owns(t)) {
        w[coord.at(this.id, O_RECURSION)]++;
        return S_OK;
      } else if (!this.#waiting.has(t) && this.#cycle(t)) {
        return HOST_E_DEADLOCK;
      } else {
        return BLOCK;
      }
    } finally {
      coord.unlock();
    }
    if (took) {
      // Counted in the task's LocksHeld, and abandoned if the task ends owning it.
      const hr = this[SYNC_ENV].door.locksHeldAdd(t, 1);
      if (hr !== S_OK) {
        this.#clearOwner(false);
        return hr;
      }
      (t[EXTRAS]().held ??= new Set()).add(this);
    }
    return S_OK;
  }

  /** Under the lock: does `t` own it? */
  #owns(t: Task): boolean {
    const c = this.link.coord;
    return (
      c.words[c.at(this.id, O_OWNER_IDX)] === t[IDX] + 1 &&
      c.words[c.at(this.id, O_OWNER_GEN)] === t[GEN] &&
      c.words[c.at(this.id, O_OWNER_THREAD)] === this.link.thread
    );
  }

  /** Under the lock: would `t` waiting for this Crst's owner close a cycle of waits across threads? */
  #cycle(t: Task): boolean {
    const coord = this.link.coord;
    return coord.closesCycle({ idx: t[IDX], gen: t[GEN] }, this.#ownerHandle());
  }

  /** @internal */
  override [ENQUEUE](t: Task): void {
    const coord = this.link.coord;
    coord.lock();
    let deadlocked = false;
    let edge: number;
    try {
      edge = coord.addEdge(t[IDX], t[GEN], EDGE_CRST, this.id, 0);
      // Two threads that checked at once may both have missed the cycle they close together.
      deadlocked = this.#cycle(t);
    } finally {
      coord.unlock();
    }
    const abandons = Atomics.load(coord.words, coord.at(this.id, O_ABANDONS));
    this.#waiting.set(t, { abandons, edge, deadlocked });
    super[ENQUEUE](t);
    if (deadlocked) this.link.ringSelf();
  }

  /** @internal */
  override [REMOVE](t: Task): void {
    this.woken(t);
    super[REMOVE](t);
  }

  /** @internal */
  protected override woken(t: Task): void {
    const w = this.#waiting.get(t);
    if (w === undefined) return;
    this.#waiting.delete(t);
    this.link.coord.lock();
    this.link.coord.removeEdge(w.edge);
    this.link.coord.unlock();
  }

  /** @internal Free (or closed, or abandoned since): a waiter may go. */
  protected override mayGo(): boolean {
    return this.isClosed() || Atomics.load(this.link.coord.words, this.link.coord.at(this.id, O_OWNER_IDX)) === 0;
  }

  /** @internal */
  protected override retry(t: Task): number {
    const w = this.#waiting.get(t);
    if (w?.deadlocked) return HOST_E_DEADLOCK;
    if (w !== undefined && Atomics.load(this.link.coord.words, this.link.coord.at(this.id, O_ABANDONS)) !== w.abandons)
      return HOST_E_ABANDONED;
    return this[TRY_ACQUIRE](t);
  }

  /** @internal For this thread's deadlock check: the owner when it is a task of this thread. */
  [WAITS_FOR](): Task | null {
    const h = this.owner;
    return h !== null && h.thread === this.link.thread ? this.#link.taskAt(h.idx, h.gen) : null;
  }

  /** Who owns it now, on whatever thread (null: nobody). */
  get owner(): TaskHandle | null {
    this.link.coord.lock();
    try {
      return this.#ownerHandle();
    } finally {
      this.link.coord.unlock();
    }
  }

  /** IHostCrst::Enter(option): waits without a time limit; HOST_E_DEADLOCK when it closes a cycle. */
  enter(option = 0): Op<number> {
    return this[WAIT_OP](INFINITE, option);
  }

  /** As Crst's: enters, runs `body`, leaves (also when it throws or the fiber is aborted); answers the body's value. */
  lock<R>(body: ScopedBody<R>, option = 0): Op<R> {
    checkBody(body, this[CALL_NAME]("lock(body)"));
    this[CHECK_WAIT]("lock(body, option)", INFINITE, option);
    return this[SCOPED]("lock(body)", this.#locked(body, option));
  }
  *#locked<R>(body: ScopedBody<R>, option: number): Generator<unknown, R, unknown> {
    yield* this[ACQUIRE_OR_THROW]("lock(body)", INFINITE, option);
    return yield* holding(body, this[CALL_NAME]("lock(body)"), () => (this.isClosed() ? S_OK : this.leave()));
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
    if (got !== S_OK) return got;
    return setOut(out, true);
  }

  /** IHostCrst::Leave: HOST_E_NOT_OWNER unless the caller owns it. */
  leave(): number {
    const off = this[SYNC_ENV].door.peekAvailable();
    if (off !== S_OK) return off;
    const caller = this[CALLER]();
    if (caller === null) return E_INVALIDARG;
    const coord = this.link.coord;
    coord.lock();
    try {
      if (!this.#owns(caller)) return HOST_E_NOT_OWNER;
      if (coord.words[coord.at(this.id, O_RECURSION)]! > 1) {
        coord.words[coord.at(this.id, O_RECURSION)]--;
        return S_OK;
      }
    } finally {
      coord.unlock();
    }
    this[SYNC_ENV].door.locksHeldAdd(caller, -1);
    caller[EXTRA]?.held?.delete(this);
    this.#clearOwner(false);
    return S_OK;
  }

  /** @internal Its owner (a task of this thread) ended owning it: waiters everywhere get HOST_E_ABANDONED. */
  [ABANDON](): void {
    this.#clearOwner(true);
  }

  #clearOwner(abandoned: boolean): void {
    const coord = this.link.coord;
    coord.lock();
    coord.words[coord.at(this.id, O_OWNER_IDX)] = 0;
    coord.words[coord.at(this.id, O_RECURSION)] = 0;
    if (abandoned) Atomics.add(coord.words, coord.at(this.id, O_ABANDONS), 1);
    coord.unlock();
    this.wakeThreads();
  }

  override close(): number {
    const h = this.owner;
    if (h !== null && h.thread === this.link.thread) {
      const t = this.#link.taskAt(h.idx, h.gen);
      if (t !== null) {
        this[SYNC_ENV].door.locksHeldAdd(t, -1);
        t[EXTRA]?.held?.delete(this);
      }
    }
    return super.close();
  }
}

/**
 * Thread `t` died: every shared Crst its tasks own is abandoned (its waiters everywhere get
 * HOST_E_ABANDONED). Answers the threads to ring.
 */
export function abandonOwnedBy(coord: Coord, t: number): number {
  let ring = 0;
  coord.lock();
  try {
    for (let id = 0; id < coord.objectCount(); id++) {
      if (coord.kindOf(id) !== ObjectKind.Crst) continue;
      const w = coord.words;
      if (w[coord.at(id, O_OWNER_IDX)] === 0 || w[coord.at(id, O_OWNER_THREAD)] !== t) continue;
      w[coord.at(id, O_OWNER_IDX)] = 0;
      w[coord.at(id, O_RECURSION)] = 0;
      Atomics.add(w, coord.at(id, O_ABANDONS), 1);
      ring |= Atomics.load(w, coord.at(id, O_WAITERS));
    }
  } finally {
    coord.unlock();
  }
  return ring;
}
