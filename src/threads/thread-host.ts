// A host of one thread of a shared runtime (made by create.ts's createSharedCore and joinHost).
// Fibers stay on the thread that spawned them (a generator cannot move);
// the task table, the counters, the runtime's state and the shared sync objects are the same for
// every thread.

import type { CoreDoor, Counters, Frame } from "../core/door.js";
import type { Task } from "../task/task.js";
import { BASE, GEN, IDX } from "../core/names.js";
import type { FiberDump } from "../host/inspect.js";
import { E_INVALIDARG, E_OUTOFMEMORY, HResultError, S_FALSE, S_OK } from "../base/hresult.js";
import { describeValue } from "../base/describe.js";
import type { HostSettings } from "../host/options.js";
import { Host } from "../host/host.js";
import { readManualEventOptions, readNameOption, readSemaphoreArgs } from "../host/options.js";
import { Coord, ObjectKind, waitAsync, type SlotHandle } from "./coord.js";
import { ThreadLink } from "./thread-link.js";
import {
  KIND_NAMES,
  SharedAutoEvent,
  SharedManualEvent,
  SharedSemaphore,
  type SharedObject,
  type SharedObjectHandle,
} from "./shared-objects.js";
import { SharedCrst, abandonOwnedBy } from "./shared-crst.js";
import { RemoteTask } from "./remote-task.js";
import { keepAlive } from "./keep-alive.js";

/** A task of any thread of a shared runtime, as ThreadHost.dumpRuntime() reads it from the core. */
export interface RuntimeTaskDump {
  thread: number;
  idx: number;
  gen: number;
  mode: "managed" | "unmanaged";
  depth: number;
  frames: Frame[];
  counters: Counters;
  /** This thread's own fiber's dump() entry; null for another thread's task. */
  fiber: FiberDump | null;
}

/** What a worker needs to join a runtime: post it as it is (a shared memory, a SharedArrayBuffer, numbers). */
export interface SharedCoreHandle {
  readonly kind: "fiberhost shared core";
  readonly memory: WebAssembly.Memory;
  readonly coord: SharedArrayBuffer;
  readonly pages: number;
  readonly maxStackSize: number;
}

/** A host attached to a shared runtime: one thread's fibers; the runtime's everything else. */
export class ThreadHost extends Host {
  /** Post it to a worker: joinHost(handle) attaches that worker to this runtime. */
  readonly handle: SharedCoreHandle;
  /** This thread's index in the runtime (0: the thread that made it). */
  readonly thread: number;
  /** @internal */ readonly link: ThreadLink;
  /** @internal */ readonly coord: Coord;
  readonly #opened = new Map<number, SharedObject>();

  /** @internal use createSharedCore() or joinHost() */
  constructor(door: CoreDoor, settings: HostSettings, handle: SharedCoreHandle) {
    super(door, settings);
    this.handle = handle;
    this.thread = door.threadIndex();
    this.coord = new Coord(handle.coord);
    this.link = new ThreadLink(this.coord, this.thread, {
      door,
      sched: this.sched,
      taskAt: (idx, gen) => this.taskAt(idx, gen),
      abortTask: (t, rude) => void (rude ? t.rudeAbort() : t.abort()),
      resumed: () => this.sched.resumedElsewhere(),
      disabledElsewhere: () => this.sched.runtimeDisabled(this.liveTasks()),
    });
    this.coord.setAlive(this.thread, true);
    this.link.start();
    this.sched.safePoint = () => this.link.poll();
    // Its first safe point: a runtime suspended before this thread joined is acknowledged there.
    this.link.ringSelf();
  }

  /** @internal This thread's live task in slot idx of generation gen, or null. */
  taskAt(idx: number, gen: number): Task | null {
    const t = this.tasks[idx];
    return t !== undefined && t[GEN] === gen && !t.done ? t : null;
  }

  /** A task's handle, to post to another thread (its remoteTask(handle) joins or aborts it). */
  handleOf(t: Task): SlotHandle {
    // (Guarded: what a user passes may be anything, a revoked Proxy included.)
    let ok = false;
    try {
      ok = typeof t === "object" && t !== null && this.taskAt(t[IDX], t[GEN]) === t;
    } catch {}
    if (!ok)
      throw new HResultError(E_INVALIDARG, `handleOf: ${describeValue(t)} is not a live task of this thread's host`);
    return { thread: this.thread, idx: t[IDX], gen: t[GEN] };
  }

  /** A task of any thread of this runtime, by its handle: join it, abort it. */
  remoteTask(h: SlotHandle): RemoteTask {
    let copy: SlotHandle | null = null;
    try {
      // Read once (a getter answers once), then checked.
      const { thread, idx, gen } = h;
      if (Number.isInteger(thread) && Number.isInteger(idx) && Number.isInteger(gen) && idx >= 0)
        copy = this.door.ownerOf(idx) === thread ? { thread, idx, gen } : null;
    } catch {}
    if (copy === null)
      throw new HResultError(E_INVALIDARG, `remoteTask: ${describeValue(h)} is not a task handle of this runtime`);
    return new RemoteTask(this.link, copy);
  }

  /**
   * Every live task of every thread, read from the shared core: its thread, slot, mode, depth,
   * frames and counters, and for this thread's own fibers their dump() entry (`fiber`). Read while
   * the other threads run (a consistent picture: during suspendRuntimeAsync()).
   */
  dumpRuntime(): RuntimeTaskDump[] {
    const door = this.door;
    const own = [...this.liveTasks()];
    const dumps = this.dump(); // (in liveTasks() order)
    const byIdx = new Map(own.map((t, i) => [t[IDX], dumps[i] ?? null]));
    const out: RuntimeTaskDump[] = [];
    for (let idx = 0, bound = door.slotBound(); idx < bound; idx++) {
      const base = door.baseOf(idx);
      const ref = { [IDX]: idx, [GEN]: door.generationAt(base), [BASE]: base };
      if (!door.isLive(ref)) continue;
      out.push({
        thread: door.ownerOf(idx),
        idx,
        gen: ref[GEN],
        mode: door.isManaged(ref) ? "managed" : "unmanaged",
        depth: door.depth(ref),
        frames: door.frames(ref),
        counters: door.counters(ref),
        fiber: byIdx.get(idx) ?? null,
      });
    }
    return out;
  }

  /** The runtime's stop-the-world, for every thread: S_OK, or S_FALSE when it already is suspended. */
  override suspendRuntime(): number {
    const hr = super.suspendRuntime();
    if (hr === S_OK) {
      this.coord.nextEpoch();
      this.coord.ringAll(this.coord.alive);
    }
    return hr;
  }

  /**
   * Suspends the runtime and settles once every thread has reached a safe point (or is idle):
   * from then on no fiber runs managed code on any thread until resumeRuntime(). Settles with
   * suspendRuntime's answer (S_OK, S_FALSE, HOST_E_CLRNOTAVAILABLE); S_FALSE too when the runtime
   * was resumed before every thread stopped.
   */
  suspendRuntimeAsync(): Promise<number> {
    const hr = this.suspendRuntime();
    if (hr !== S_OK && hr !== S_FALSE) return Promise.resolve(hr);
    const epoch = this.coord.epoch;
    const words = this.coord.words;
    const bell = this.coord.ackBellAt;
    const hold = keepAlive;
    hold.hold();
    return new Promise<number>((resolve) => {
      const check = (): void => {
        const seen = Atomics.load(words, bell);
        const suspended = this.door.suspensionRequested();
        if (!suspended || this.coord.unacknowledged(epoch) === 0) {
          hold.release();
          resolve(suspended ? hr : S_FALSE);
          return;
        }
        const w = waitAsync(words, bell, seen, 1000);
        if (w.async) void w.value.then(check);
        else setTimeout(check, 0);
      };
      check();
    });
  }

  override resumeRuntime(): number {
    const hr = super.resumeRuntime();
    if (hr === S_OK) this.coord.ringAll(this.coord.alive & ~(1 << this.thread));
    return hr;
  }

  override disable(reason?: unknown): void {
    super.disable(reason);
    this.coord.ringAll(this.coord.alive & ~(1 << this.thread));
  }

  /** @internal A task of this thread ended: joiners on other threads look again. */
  protected override taskEnded(): void {
    this.coord.taskEnded();
  }

  /** @internal The core failed on this thread (E_FAIL): the runtime is disabled for every thread. */
  protected override faulted(): void {
    this.coord.ringAll(this.coord.alive & ~(1 << this.thread));
  }

  /**
   * A worker of this runtime died (an uncaught error, terminate()) or left: its tasks end, the
   * shared Crsts they owned are abandoned, their joiners on every thread are answered; the rest of
   * the runtime goes on. Answers how many tasks ended, or an HRESULT (E_INVALIDARG: not a thread
   * of this runtime, or this one).
   */
  reapThread(thread: number): number {
    if (!Number.isInteger(thread) || thread === this.thread || thread < 0 || thread >= 32) return E_INVALIDARG;
    const ended = this.door.reapThread(thread);
    if (ended < 0) return ended >>> 0;
    this.coord.setAlive(thread, false);
    const ring = abandonOwnedBy(this.coord, thread);
    this.coord.ringAll(this.coord.alive | ring);
    return ended;
  }

  // --- shared sync objects ---------------------------------------------------------------------

  createSharedAutoEvent(options?: { name?: string }): SharedAutoEvent {
    return this.#make(ObjectKind.AutoEvent, 0, 0, readNameOption(options, "createSharedAutoEvent")) as SharedAutoEvent;
  }
  createSharedManualEvent(
    initialState: boolean | { initialState?: boolean; name?: string } = false,
  ): SharedManualEvent {
    const { state, name } = readManualEventOptions(initialState);
    return this.#make(ObjectKind.ManualEvent, state ? 1 : 0, 0, name) as SharedManualEvent;
  }
  createSharedSemaphore(initial: number, maximum: number, options?: { name?: string }): SharedSemaphore {
    readSemaphoreArgs(initial, maximum);
    return this.#make(
      ObjectKind.Semaphore,
      initial,
      maximum,
      readNameOption(options, "createSharedSemaphore"),
    ) as SharedSemaphore;
  }
  createSharedCrst(options?: { name?: string }): SharedCrst {
    return this.#make(ObjectKind.Crst, 0, 0, readNameOption(options, "createSharedCrst")) as SharedCrst;
  }

  #make(kind: ObjectKind, state: number, max: number, name: string | null): SharedObject {
    const id = this.coord.newObject(kind, state, max);
    if (id < 0) throw new HResultError(E_OUTOFMEMORY, "the runtime holds 4096 shared objects already");
    return this.#open(id, kind, name);
  }

  /** This thread's view of a shared object made on any thread of the runtime (its `handle`, posted here). */
  openShared(handle: SharedObjectHandle): SharedObject {
    let id: unknown;
    let kind = 0;
    try {
      id = typeof handle === "object" && handle !== null ? handle.id : undefined;
      kind = typeof id === "number" && KIND_NAMES[this.coord.kindOf(id)] === handle.kind ? this.coord.kindOf(id) : 0;
    } catch {}
    if (kind === 0)
      throw new HResultError(
        E_INVALIDARG,
        `openShared: ${describeValue(handle)} is not a shared object of this runtime`,
      );
    const name = (handle as { name?: unknown }).name;
    return this.#open(id as number, kind, typeof name === "string" ? name : null);
  }

  #open(id: number, kind: ObjectKind, name: string | null): SharedObject {
    let o = this.#opened.get(id);
    if (o === undefined) {
      const env = this.syncEnv;
      o =
        kind === ObjectKind.AutoEvent
          ? new SharedAutoEvent(env, this.link, id, name)
          : kind === ObjectKind.ManualEvent
            ? new SharedManualEvent(env, this.link, id, name)
            : kind === ObjectKind.Semaphore
              ? new SharedSemaphore(env, this.link, id, name)
              : new SharedCrst(env, this.link, id, name);
      this.#opened.set(id, o);
    }
    return o;
  }

  /** One line: `ThreadHost 1 of 3: 4 live tasks, runtime started`. */
  override toString(): string {
    return `Thread${super.toString()} (thread ${this.thread} of a shared runtime)`;
  }
}
