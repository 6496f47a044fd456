// An intrusive FIFO of tasks: the links live on the task, so queueing allocates nothing and a
// task leaves any queue in O(1) (a timed-out or aborted waiter leaves the middle of a queue).
// A task is in at most one of these queues at a time (the queue of what it waits on, or the
// fibers held for the collector), and is taken out only by that queue: so the task needs no field
// naming its queue (a million parked fibers would pay for it), only its two links.

/**
 * @internal A queued task's links, keyed by symbols no module a user can import exports (as the
 * task's own state, src/task/state.ts): no write by name reaches them.
 */
export const Q_NEXT: unique symbol = Symbol("fiberhost queue next");
/** @internal See Q_NEXT. */
export const Q_PREV: unique symbol = Symbol("fiberhost queue prev");

export interface Queued {
  /** @internal */ [Q_NEXT]: Queued | null;
  /** @internal */ [Q_PREV]: Queued | null;
}

export class TaskQueue<T extends Queued> {
  private head: T | null = null;
  private tail: T | null = null;
  size = 0;

  push(t: T): void {
    t[Q_NEXT] = null;
    t[Q_PREV] = this.tail;
    if (this.tail) this.tail[Q_NEXT] = t;
    else this.head = t;
    this.tail = t;
    this.size++;
  }

  shift(): T | null {
    const t = this.head;
    if (t) this.remove(t);
    return t;
  }

  /** The oldest queued task, left in the queue (null: none). */
  peek(): T | null {
    return this.head;
  }

  /**
   * Takes `t` out of this queue; does nothing when it is in no queue. (Asked only of the queue it
   * is in, if any: a task in another queue would look queued here.)
   */
  remove(t: T): void {
    if (t[Q_PREV] === null && this.head !== t) return;
    const prev = t[Q_PREV] as T | null;
    const next = t[Q_NEXT] as T | null;
    if (prev) prev[Q_NEXT] = next;
    else this.head = next;
    if (next) next[Q_PREV] = prev;
    else this.tail = prev;
    t[Q_NEXT] = t[Q_PREV] = null;
    this.size--;
  }

  /** The queued tasks, oldest first (for dumps and deadlock reports; not on a hot path). */
  toArray(): T[] {
    const out: T[] = [];
    for (let t = this.head; t; t = t[Q_NEXT] as T | null) out.push(t);
    return out;
  }
}
