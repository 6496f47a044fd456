// What a fiber can wait on: a sync object, a task (join), a timer, a promise, the runtime's resume.
// Generic over the task type: the scheduler primitives sit below the task (src/task/task.ts).

// The protocol's methods are keyed by symbols that only this module exports (src/index.ts does
// not): a sync object's tryAcquire, enqueue, … cannot be called by name from outside, where a
// call would take the object for a task without a wait or drop a waiter from its queue.
/** @internal */ export const TRY_ACQUIRE: unique symbol = Symbol("fiberhost tryAcquire");
/** @internal */ export const ENQUEUE: unique symbol = Symbol("fiberhost enqueue");
/** @internal */ export const REMOVE: unique symbol = Symbol("fiberhost remove");
/** @internal */ export const WAITS_FOR: unique symbol = Symbol("fiberhost waitsFor");
/** @internal */ export const WAITS_FOR_MANY: unique symbol = Symbol("fiberhost waitsForMany");
/** @internal */ export const DESCRIBE: unique symbol = Symbol("fiberhost describe");
/** @internal */ export const WATCH: unique symbol = Symbol("fiberhost watch");

export interface Waitable<T = unknown> {
  /**
   * @internal Tries to satisfy the wait at once: an HRESULT (S_OK, HOST_E_ABANDONED, …), or BLOCK when the
   * task must wait. Called by the scheduler after the common checks (abort, alert, arguments).
   */
  [TRY_ACQUIRE](t: T): number;
  /** @internal Queues a task that must wait (the scheduler sets its timer and state). */
  [ENQUEUE](t: T): void;
  /** @internal Takes a waiting task out (timeout, alert, abort); does nothing when it is not queued. */
  [REMOVE](t: T): void;
  /** @internal The task this wait waits for, for deadlock detection (a Crst's owner, a joined task). */
  [WAITS_FOR](): T | null;
  /**
   * @internal For deadlock detection, a wait on several tasks (when waitsFor answers null): `any`, it ends
   * when one of them can go (f.waitAny; a null entry is an object no task holds up, an event);
   * otherwise it waits for every one of them (a parent's children).
   */
  [WAITS_FOR_MANY]?(): { any: boolean; tasks: (T | null)[] } | null;
  /** @internal For dumps: what the task waits on. */
  [DESCRIBE](): string;
  /**
   * A wait only the runtime could end (a sync object, a join, f.waitAny): when the runtime is
   * disabled it answers HOST_E_ABANDONED (nothing can signal it any more). A sleep, a promise and a
   * parent's wait for its children end as they would.
   */
  readonly abandonedOnDisable?: boolean;
  /** What the wait answers when its time runs out (default HOST_E_TIMEOUT; a sleep: S_OK). */
  readonly timeoutResult?: number;
  /** @internal f.waitAny: tells `w` (on) or stops telling it (off) when the object may have become acquirable. */
  [WATCH]?(w: Watcher, on: boolean): void;
}

/** An f.waitAny's registration on one of its objects. */
export interface Watcher {
  fire(): void;
}

/** Not an HRESULT: tryAcquire's "the task must wait". */
export const BLOCK = -1;

/** What f.waitAny answers: the HRESULT, and the index of the object acquired (−1: none). */
export interface WaitAnyResult {
  hr: number;
  index: number;
}

/** The most objects one f.waitAny takes (MAXIMUM_WAIT_OBJECTS). */
export const MAXIMUM_WAIT_OBJECTS = 64;
