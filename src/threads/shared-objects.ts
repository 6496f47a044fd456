// Sync objects any thread of a shared runtime may wait on: their state is in the coordination
// block (coord.ts), their waiters are local. A fiber that must wait queues on its own thread's
// view of the object and sets its thread's bit in the object's waiter mask; whoever sets, releases
// or leaves rings the threads in the mask, and each rechecks its own waiters (a doorbell says
// "look again": the first thread to take the state wins, the others wait on).
//
// Each object is one record of the block (an id), and each thread that uses it has its own
// SharedObject over that record, made by the host of that thread (ThreadHost.openShared).

import type { Task } from "../task/task.js";
import type { Op } from "../operations/operation.js";
import { BLOCK } from "../kernel/waitable.js";
import { E_INVALIDARG, HOST_E_ABANDONED, INFINITE, S_OK } from "../base/hresult.js";
import { isOut, setOut, type Out } from "../base/out.js";
import { checkBody, holding, type ScopedBody } from "../sync/scoped.js";
import {
  ACQUIRE_OR_THROW,
  CALL_NAME,
  CHECK_WAIT,
  SCOPED,
  CLOSED,
  NOTIFY,
  SyncObject,
  USABLE,
  WAIT_OP,
  WAITERS,
  WAKE_ALL,
  type SyncEnv,
} from "../sync/sync-object.js";
import { ENQUEUE, REMOVE, TRY_ACQUIRE, WATCH, type Watcher } from "../kernel/waitable.js";
import { O_CLOSED, O_MAX, O_STATE, O_WAITERS, ObjectKind, type Coord } from "./coord.js";

/** @internal What a shared object needs of its thread's link (thread-link.ts). */
export interface ObjectLink {
  readonly coord: Coord;
  readonly thread: number;
  /** The object has local waiters (on) or no longer (off): the link rechecks it when the doorbell rings. */
  track(o: SharedObject, on: boolean): void;
  /** Rings this thread's own doorbell (a recheck after the current step). */
  ringSelf(): void;
  /** Wakes a waiter of this thread, ahead of its ready fibers (Scheduler.wakeFirst). */
  wakeFirst(t: Task, hr: number): void;
}

/** What a worker is given to open an object made on another thread: plain data, posted as it is. */
export interface SharedObjectHandle {
  readonly kind: "autoEvent" | "manualEvent" | "semaphore" | "crst";
  readonly id: number;
  readonly name: string | null;
}

export const KIND_NAMES: Record<number, SharedObjectHandle["kind"]> = {
  [ObjectKind.AutoEvent]: "autoEvent",
  [ObjectKind.ManualEvent]: "manualEvent",
  [ObjectKind.Semaphore]: "semaphore",
  [ObjectKind.Crst]: "crst",
};

export abstract class SharedObject extends SyncObject {
  /** @internal */ readonly link: ObjectLink;
  /** The object's id in the runtime: the same on every thread. */
  readonly id: number;

  /** @internal made by ThreadHost (createShared…, openShared) */
  constructor(env: SyncEnv, link: ObjectLink, id: number, name: string | null) {
    super(env, name);
    this.link = link;
    this.id = id;
  }

  /** What to post to another worker, whose host opens it with `openShared(handle)`. */
  get handle(): SharedObjectHandle {
    return { kind: this.kind, id: this.id, name: this.name };
  }

  /** @internal */
  protected word(field: number): number {
    return this.link.coord.at(this.id, field);
  }
  /** @internal */
  protected get words(): Int32Array {
    return this.link.coord.words;
  }
  /** @internal Usable (USABLE's checks), with a close made on another thread seen first. */
  protected usable(): number {
    this.isClosed();
    return this[USABLE]();
  }
  /** @internal Closed on any thread? */
  protected isClosed(): boolean {
    if (!this[CLOSED] && Atomics.load(this.words, this.word(O_CLOSED)) !== 0) this[CLOSED] = true;
    return this[CLOSED];
  }

  /** f.waitAny waits that include it on this thread: they are told when the doorbell rings too. */
  #watchers = 0;

  /** @internal */
  override [ENQUEUE](t: Task): void {
    super[ENQUEUE](t);
    if (this[WAITERS].size === 1) this.#listen();
  }

  /** @internal */
  override [REMOVE](t: Task): void {
    super[REMOVE](t);
    if (this[WAITERS].size === 0) this.#unlisten();
  }

  /** @internal */
  override [WATCH](w: Watcher, on: boolean): void {
    super[WATCH](w, on);
    this.#watchers += on ? 1 : -1;
    if (on && this.#watchers === 1) this.#listen();
    else if (!on && this.#watchers === 0) this.#unlisten();
  }

  /** This thread has a waiter or a watcher: its bit in the object's mask, and the link rechecks it. */
  #listen(): void {
    const bit = 1 << this.link.thread;
    const before = Atomics.or(this.words, this.word(O_WAITERS), bit);
    this.link.track(this, true);
    // The state may have changed between the failed try and the bit: a setter that read the mask
    // before the bit rang nobody here. Either it did (and this look sees its state) or it sees the
    // bit (and rings): so look again, once this step is over, only when the state says it may go.
    if ((before & bit) === 0 && this.mayGo()) this.link.ringSelf();
  }

  /** Neither a waiter nor a watcher is left on this thread. */
  #unlisten(): void {
    if (this[WAITERS].size > 0 || this.#watchers > 0) return;
    Atomics.and(this.words, this.word(O_WAITERS), ~(1 << this.link.thread));
    this.link.track(this, false);
  }

  /** @internal The doorbell rang: local waiters that can go now are woken, oldest first. */
  recheck(): void {
    const waiters = this[WAITERS];
    if (this.isClosed()) this[WAKE_ALL](HOST_E_ABANDONED);
    const going: [Task, number][] = [];
    for (let t = waiters.peek(); t !== null; t = waiters.peek()) {
      const hr = this.retry(t);
      if (hr === BLOCK) break;
      waiters.shift();
      this.woken(t);
      going.push([t, hr]);
    }
    // They run first, oldest first (each goes in at the front: the youngest first).
    for (let i = going.length - 1; i >= 0; i--) this.link.wakeFirst(going[i]![0], going[i]![1]);
    // f.waitAny waits here try again, after the object's own waiters (as a local object tells them).
    this[NOTIFY]();
    this.#unlisten();
  }

  /** @internal Could a wait go now (a look, taking nothing)? Closed counts: its waiters go too. */
  protected mayGo(): boolean {
    return this.isClosed() || Atomics.load(this.words, this.word(O_STATE)) > 0;
  }

  /** @internal A waiter's second try (a Crst also answers an abandonment or a deadlock here). */
  protected retry(t: Task): number {
    return this[TRY_ACQUIRE](t);
  }
  /** @internal A waiter leaves the queue woken (a Crst drops its wait-graph edge). */
  protected woken(_t: Task): void {}

  /** @internal The state changed so that waiters may go: every thread with one looks again (this one now). */
  protected wakeThreads(): void {
    const mask = Atomics.load(this.words, this.word(O_WAITERS)) & ~(1 << this.link.thread);
    if (this[WAITERS].size > 0 || this.#watchers > 0) this.recheck();
    this.link.coord.ringAll(mask);
  }

  /** Closes the object on every thread: waiters everywhere get HOST_E_ABANDONED, and so do later waits. */
  override close(): number {
    if (Atomics.compareExchange(this.words, this.word(O_CLOSED), 0, 1) !== 0) {
      this[CLOSED] = true;
      return super.close();
    }
    const hr = super.close();
    this.link.coord.ringAll(Atomics.load(this.words, this.word(O_WAITERS)));
    return hr;
  }
}

/** What both shared events share: their waits. */
abstract class SharedEvent extends SharedObject {
  wait(ms: number = INFINITE, option = 0): Op<number> {
    return this[WAIT_OP](ms, option);
  }
  /** Signals it: an auto event lets one waiter go (on whatever thread), a manual one every waiter until reset(). */
  set(): number {
    const hr = this.usable();
    if (hr !== S_OK) return hr;
    Atomics.store(this.words, this.word(O_STATE), 1);
    this.wakeThreads();
    return S_OK;
  }
  /** As AutoEvent's and ManualEvent's: the wait, throwing HResultError unless it answers S_OK. */
  waitOrThrow(ms: number = INFINITE, option = 0): Op<void> {
    this[CHECK_WAIT]("waitOrThrow(ms, option)", ms, option);
    return this[SCOPED]("waitOrThrow()", this[ACQUIRE_OR_THROW]("waitOrThrow()", ms, option));
  }
}

/** IHostAutoEvent across threads: Set lets one waiter (on any thread) go, or stays signalled until one wait takes it. */
export class SharedAutoEvent extends SharedEvent {
  get kind(): "autoEvent" {
    return "autoEvent";
  }
  /** @internal */
  [TRY_ACQUIRE](): number {
    if (this.isClosed()) return HOST_E_ABANDONED;
    return Atomics.compareExchange(this.words, this.word(O_STATE), 1, 0) === 1 ? S_OK : BLOCK;
  }
}

/** IHostManualEvent across threads: Set lets every waiter on every thread go, until Reset. */
export class SharedManualEvent extends SharedEvent {
  get kind(): "manualEvent" {
    return "manualEvent";
  }
  /** @internal */
  [TRY_ACQUIRE](): number {
    if (this.isClosed()) return HOST_E_ABANDONED;
    return Atomics.load(this.words, this.word(O_STATE)) !== 0 ? S_OK : BLOCK;
  }
  reset(): number {
    const hr = this.usable();
    if (hr !== S_OK) return hr;
    Atomics.store(this.words, this.word(O_STATE), 0);
    return S_OK;
  }
}

/** IHostSemaphore across threads: its count is one word every thread takes from and gives to. */
export class SharedSemaphore extends SharedObject {
  get kind(): "semaphore" {
    return "semaphore";
  }
  /** @internal */
  [TRY_ACQUIRE](): number {
    if (this.isClosed()) return HOST_E_ABANDONED;
    const at = this.word(O_STATE);
    for (let n = Atomics.load(this.words, at); n > 0; n = Atomics.load(this.words, at)) {
      if (Atomics.compareExchange(this.words, at, n, n - 1) === n) return S_OK;
    }
    return BLOCK;
  }
  wait(ms: number = INFINITE, option = 0): Op<number> {
    return this[WAIT_OP](ms, option);
  }
  /** As Semaphore's: takes a unit, runs `body`, gives it back (also when it throws or the fiber is aborted). */
  acquire<R>(body: ScopedBody<R>, ms: number = INFINITE, option = 0): Op<R> {
    checkBody(body, this[CALL_NAME]("acquire(body)"));
    this[CHECK_WAIT]("acquire(body, ms, option)", ms, option);
    return this[SCOPED]("acquire(body)", this.#acquired(body, ms, option));
  }
  *#acquired<R>(body: ScopedBody<R>, ms: number, option: number): Generator<unknown, R, unknown> {
    yield* this[ACQUIRE_OR_THROW]("acquire(body)", ms, option);
    return yield* holding(body, this[CALL_NAME]("acquire(body)"), () => (this.isClosed() ? S_OK : this.release(1)));
  }
  /** ReleaseSemaphore(n, out): out.value is the count before. E_INVALIDARG past the maximum; nothing changes. */
  release(n = 1, out?: Out<number>): number {
    const hr = this.usable();
    if (hr !== S_OK) return hr;
    if (out !== undefined && !isOut(out)) return setOut(out, 0);
    if (!Number.isInteger(n) || n < 1) return E_INVALIDARG;
    const at = this.word(O_STATE);
    const max = Atomics.load(this.words, this.word(O_MAX));
    let before: number;
    for (;;) {
      before = Atomics.load(this.words, at);
      if (before + n > max) return E_INVALIDARG;
      if (Atomics.compareExchange(this.words, at, before, before + n) === before) break;
    }
    this.wakeThreads();
    if (out) out.value = before;
    return S_OK;
  }
  get currentCount(): number {
    return Atomics.load(this.words, this.word(O_STATE));
  }
  get maximumCount(): number {
    return Atomics.load(this.words, this.word(O_MAX));
  }
}
