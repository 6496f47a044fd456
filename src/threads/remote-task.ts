// A task of a shared runtime named by its handle (thread, slot index, generation), from any thread:
// joined by a wait that ends when the task's slot changes generation (its exit), aborted through
// its own thread's mailbox (a task's state is written by its own thread alone).

import type { Task } from "../task/task.js";
import type { Op } from "../operations/operation.js";
import { DoneOp, WaitOp } from "../operations/basic.js";
import { TaskQueue } from "../kernel/queue.js";
import { BLOCK, DESCRIBE, ENQUEUE, REMOVE, TRY_ACQUIRE, WAITS_FOR } from "../kernel/waitable.js";
import { currentFiber } from "../scheduler/driving.js";
import { E_INVALIDARG, HOST_E_DEADLOCK, HOST_E_INVALIDOPERATION, INFINITE, S_OK } from "../base/hresult.js";
import { ENV } from "../task/state.js";
import { GEN, IDX } from "../core/names.js";
import { EDGE_JOIN, type Coord } from "./coord.js";
import type { SlotHandle as TaskHandle } from "./coord.js";
import type { CoreDoor } from "../core/door.js";
import type { Scheduler } from "../scheduler/scheduler.js";

/** @internal What a remote task needs of its thread's link (thread-link.ts). */
export interface JoinLink {
  readonly coord: Coord;
  readonly thread: number;
  readonly door: CoreDoor;
  readonly sched: Scheduler;
  /** This thread's live task in slot idx of generation gen, or null. */
  taskAt(idx: number, gen: number): Task | null;
  /** A join is pending on this thread (on) or no longer (off): the link rechecks it when the doorbell rings. */
  trackJoin(j: RemoteTask, on: boolean): void;
  ringSelf(): void;
  /** Asks the task's own thread to abort it: an HRESULT. */
  abort(h: TaskHandle, rude: boolean): number;
}

// A Waitable by its members, with no `implements` clause: those members are internal, absent from
// the published types (stripInternal), where the clause would then be false.
export class RemoteTask {
  readonly #waiters = new TaskQueue<Task>();
  readonly #edges = new Map<Task, number>();
  /** @internal its waiters get HOST_E_ABANDONED when the runtime is disabled */
  readonly abandonedOnDisable = true;

  /** @internal use ThreadHost.remoteTask(handle) */
  constructor(
    private readonly link: JoinLink,
    readonly handle: TaskHandle,
  ) {}

  /** True until the task ends (on whatever thread it runs). */
  get alive(): boolean {
    return this.link.door.isLiveHandle(this.handle.idx, this.handle.gen);
  }

  /**
   * Waits until the task ends: S_OK, HOST_E_TIMEOUT, HOST_E_DEADLOCK when the wait closes a cycle
   * of waits across threads (Crsts and joins); in a fiber of this thread's host.
   */
  join(ms: number = INFINITE): Op<number> {
    const t = currentFiber();
    const root = this.link.taskAt(0, 0);
    if (t === null || t.done) return new DoneOp(root ?? (t as Task), HOST_E_INVALIDOPERATION);
    if (t[ENV].sched !== this.link.sched) return new DoneOp(t, this.link.door.orUnavailable(E_INVALIDARG));
    return new WaitOp(t, this.link.sched, this, ms, 0);
  }

  /** ICLRTask::Abort of a task on any thread: S_OK once asked (its own thread delivers it at its next safe point). */
  abort(): number {
    return this.link.abort(this.handle, false);
  }
  rudeAbort(): number {
    return this.link.abort(this.handle, true);
  }

  /** @internal */
  [TRY_ACQUIRE](t: Task): number {
    if (!this.alive) return S_OK;
    const coord = this.link.coord;
    coord.lock();
    try {
      return coord.closesCycle({ idx: t[IDX], gen: t[GEN] }, this.handle) ? HOST_E_DEADLOCK : BLOCK;
    } finally {
      coord.unlock();
    }
  }

  /** @internal */
  [ENQUEUE](t: Task): void {
    const coord = this.link.coord;
    coord.lock();
    this.#edges.set(t, coord.addEdge(t[IDX], t[GEN], EDGE_JOIN, this.handle.idx, this.handle.gen));
    coord.unlock();
    this.#waiters.push(t);
    if (this.#waiters.size === 1) {
      this.link.trackJoin(this, true);
      this.link.ringSelf(); // it may have ended between the try and the watch
    }
  }

  /** @internal */
  [REMOVE](t: Task): void {
    this.#dropEdge(t);
    this.#waiters.remove(t);
    if (this.#waiters.size === 0) this.link.trackJoin(this, false);
  }

  #dropEdge(t: Task): void {
    const e = this.#edges.get(t);
    if (e === undefined) return;
    this.#edges.delete(t);
    this.link.coord.lock();
    this.link.coord.removeEdge(e);
    this.link.coord.unlock();
  }

  /** @internal The doorbell rang: when the task has ended, its joiners here go. */
  recheck(): void {
    if (this.alive) return;
    const going: Task[] = [];
    for (let t = this.#waiters.shift(); t; t = this.#waiters.shift()) {
      this.#dropEdge(t);
      going.push(t);
    }
    // They run first, oldest first (each goes in at the front: the youngest first).
    for (let i = going.length - 1; i >= 0; i--) this.link.sched.wakeFirst(going[i]!, S_OK);
    this.link.trackJoin(this, false);
  }

  /** @internal */
  [WAITS_FOR](): Task | null {
    return this.handle.thread === this.link.thread ? this.link.taskAt(this.handle.idx, this.handle.gen) : null;
  }

  /** @internal */
  [DESCRIBE](): string {
    return `task ${this.handle.idx} of thread ${this.handle.thread}`;
  }

  toString(): string {
    return `RemoteTask(thread ${this.handle.thread}, slot ${this.handle.idx}, ${this.alive ? "running" : "ended"})`;
  }
}
