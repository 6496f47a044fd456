// An intrusive FIFO of tasks: the links live on the task, so queueing allocates nothing and a
// task leaves any queue in O(1) (a timed-out or aborted waiter leaves the middle of a queue).
// A task is in at most one queue at a time: a ready queue or one wait queue.

export interface Queued {
  qNext: Queued | null;
  qPrev: Queued | null;
  queue: TaskQueue<any> | null;
}

export class TaskQueue<T extends Queued> {
  private head: T | null = null;
  private tail: T | null = null;
  size = 0;

  push(t: T): void {
    t.queue = this;
    t.qNext = null;
    t.qPrev = this.tail;
    if (this.tail) this.tail.qNext = t;
    else this.head = t;
    this.tail = t;
    this.size++;
  }

  shift(): T | null {
    const t = this.head;
    if (t) this.remove(t);
    return t;
  }

  /** Takes `t` out of this queue; does nothing when it is not in it. */
  remove(t: T): void {
    if (t.queue !== this) return;
    const prev = t.qPrev as T | null;
    const next = t.qNext as T | null;
    if (prev) prev.qNext = next;
    else this.head = next;
    if (next) next.qPrev = prev;
    else this.tail = prev;
    t.qNext = t.qPrev = null;
    t.queue = null;
    this.size--;
  }

  /** The queued tasks, oldest first (for dumps and deadlock reports; not on a hot path). */
  toArray(): T[] {
    const out: T[] = [];
    for (let t = this.head; t; t = t.qNext as T | null) out.push(t);
    return out;
  }
}
