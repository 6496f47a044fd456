// A thread's link to the others of its shared runtime: it listens on the thread's doorbell
// (Atomics.waitAsync, between the scheduler's pumps: a ring is handled at a safe point, where no
// fiber of this thread runs) and, at each ring, looks again at everything the thread waits on:
// its mailbox (aborts asked by other threads), the runtime's suspension (acknowledged here; held
// fibers released once resumed), a runtime another thread disabled, its waiters on shared objects
// and its joins of other threads' tasks.

import type { Task } from "../task/task.js";
import type { CoreDoor } from "../core/door.js";
import type { Scheduler } from "../scheduler/scheduler.js";
import { E_INVALIDARG, E_OUTOFMEMORY, HOST_E_CLRNOTAVAILABLE, S_OK } from "../base/hresult.js";
import { Request, waitAsync, type Coord, type SlotHandle } from "./coord.js";
import type { SharedObject } from "./shared-objects.js";
import type { RemoteTask } from "./remote-task.js";
import { keepAlive, type KeepAlive } from "./keep-alive.js";
import { defaultDispatch } from "../kernel/clock.js";

/** What the link asks of its thread's host (thread-host.ts). */
export interface LinkHost {
  readonly door: CoreDoor;
  readonly sched: Scheduler;
  taskAt(idx: number, gen: number): Task | null;
  /** Aborts a task of this thread (a request from another thread). */
  abortTask(t: Task, rude: boolean): void;
  /** The runtime was suspended and is no longer: held fibers go. */
  resumed(): void;
  /** Another thread disabled the runtime: this thread's waiters are abandoned. */
  disabledElsewhere(): void;
}

export class ThreadLink {
  private readonly objects = new Set<SharedObject>();
  private readonly joins = new Set<RemoteTask>();
  private readonly alive: KeepAlive = keepAlive;
  /** A macrotask without setTimeout's clamp (setImmediate; a MessageChannel in a browser). */
  private readonly soon = defaultDispatch();
  private holding = false;
  private ackedEpoch = 0;
  private sawDisabled = false;
  private listening = false;
  /** The doorbell's value when this thread last looked at everything (onBell). */
  private handled = -1;
  private closed = false;

  constructor(
    readonly coord: Coord,
    readonly thread: number,
    private readonly host: LinkHost,
  ) {}

  get door(): CoreDoor {
    return this.host.door;
  }
  get sched(): Scheduler {
    return this.host.sched;
  }
  taskAt(idx: number, gen: number): Task | null {
    return this.host.taskAt(idx, gen);
  }

  /** Starts listening on the doorbell. */
  start(): void {
    this.listen();
  }

  /** Stops listening (the thread left the runtime): a pending wait ends unanswered. */
  close(): void {
    this.closed = true;
    this.objects.clear();
    this.joins.clear();
    this.keep();
  }

  private listen(): void {
    if (this.closed || this.listening) return;
    const words = this.coord.words;
    const at = this.coord.bellAt(this.thread);
    // Waits for a change from the value the last look saw, not from the word as it is now: a ring
    // that came while that look ran (after it read the word) is then answered at once, not lost.
    this.listening = true;
    const w = waitAsync(words, at, this.handled);
    const next = (): void => {
      this.listening = false;
      if (this.closed) return;
      try {
        this.poll();
        // In the doorbell's own task: what it woke runs now, not a macrotask later.
        this.host.sched.pumpNow();
      } finally {
        // Whatever a recheck threw (it is the fiber's or the scheduler's to report), the thread
        // keeps listening: a link that stopped would leave its fibers parked and its
        // acknowledgements unsent for good.
        this.listen();
      }
    };
    if (w.async) void w.value.then(next);
    else this.soon(next); // it rang since the last look: in a task of its own, at once (no timer clamp)
  }

  /**
   * Looks at everything when the doorbell rang since the last look: at each ring (waitAsync) and
   * before each of the scheduler's slices, so that a busy thread answers within a slice.
   */
  poll(): void {
    const bell = Atomics.load(this.coord.words, this.coord.bellAt(this.thread));
    if (bell === this.handled) return;
    this.handled = bell;
    this.onBell();
  }

  ringSelf(): void {
    this.coord.ring(this.thread);
  }

  wakeFirst(t: Task, hr: number): void {
    this.host.sched.wakeFirst(t, hr);
  }

  track(o: SharedObject, on: boolean): void {
    if (on) this.objects.add(o);
    else this.objects.delete(o);
    this.keep();
  }

  trackJoin(j: RemoteTask, on: boolean): void {
    if (on) this.joins.add(j);
    else this.joins.delete(j);
    this.coord.watchExits(this.thread, this.joins.size > 0);
    this.keep();
  }

  /**
   * Waiters on shared objects and joins of other threads' tasks keep a Node process alive (a
   * pending waitAsync does not). Fibers held by a suspension do not: the thread that resumes the
   * runtime is alive, and rings this one.
   */
  private keep(): void {
    const want = !this.closed && (this.objects.size > 0 || this.joins.size > 0);
    if (want === this.holding) return;
    this.holding = want;
    if (want) this.alive.hold();
    else this.alive.release();
  }

  /** A task of another thread (or of this one) is to be aborted. */
  abort(h: SlotHandle, rude: boolean): number {
    const off = this.door.available();
    if (off !== S_OK) return off;
    if (!this.door.isLiveHandle(h.idx, h.gen)) return E_INVALIDARG;
    if (h.thread === this.thread) {
      const t = this.taskAt(h.idx, h.gen);
      if (t === null) return E_INVALIDARG;
      this.host.abortTask(t, rude);
      return S_OK;
    }
    return this.coord.post(h.thread, rude ? Request.RudeAbort : Request.Abort, h.idx, h.gen) ? S_OK : E_OUTOFMEMORY;
  }

  /** The doorbell rang: look again at everything. */
  onBell(): void {
    this.coord.drain(this.thread, (request, idx, gen) => {
      const t = this.taskAt(idx, gen);
      if (t !== null) this.host.abortTask(t, request === Request.RudeAbort);
    });
    const door = this.door;
    if (!this.sawDisabled && door.available() === HOST_E_CLRNOTAVAILABLE && door.runtimeState() === 2) {
      this.sawDisabled = true;
      this.host.disabledElsewhere();
    }
    // This thread is at a safe point (no fiber of its own runs): it takes the runtime's
    // suspension as it stands now, and acknowledges it.
    const requested = door.suspensionRequested();
    if (requested !== door.isSuspended()) {
      door.syncSuspension();
      if (!requested) this.host.resumed();
    }
    if (requested && door.isSuspended()) {
      const epoch = this.coord.epoch;
      if (epoch !== this.ackedEpoch) {
        this.ackedEpoch = epoch;
        this.coord.acknowledge(this.thread, epoch);
      }
    }
    for (const o of [...this.objects]) o.recheck();
    for (const j of [...this.joins]) j.recheck();
    this.keep();
  }
}
