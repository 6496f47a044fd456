// A binary min-heap of deadlines for sleeps and timeouts, FIFO among equal deadlines. Cancelling is
// lazy: a task's `timerSeq` names its one live timer, and entries that no longer match are dropped
// when they surface.

export interface Timed {
  timerSeq: number;
}

interface Entry<T> {
  at: number;
  seq: number;
  task: T;
}

export class TimerHeap<T extends Timed> {
  private heap: Entry<T>[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  add(task: T, at: number): void {
    const e = { at, seq: ++this.seq, task };
    task.timerSeq = e.seq;
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, h[p])) break;
      h[i] = h[p];
      i = p;
    }
    h[i] = e;
  }

  cancel(task: T): void {
    task.timerSeq = 0;
  }

  /** The earliest live deadline, or Infinity. */
  next(): number {
    this.dropDead();
    return this.heap.length ? this.heap[0].at : Infinity;
  }

  /** Removes and returns the task of the earliest live timer due at or before `now`. */
  popDue(now: number): T | null {
    this.dropDead();
    const h = this.heap;
    if (!h.length || h[0].at > now) return null;
    const e = this.pop();
    e.task.timerSeq = 0;
    return e.task;
  }

  private dropDead(): void {
    const h = this.heap;
    while (h.length && h[0].task.timerSeq !== h[0].seq) this.pop();
  }

  private pop(): Entry<T> {
    const h = this.heap;
    const top = h[0];
    const last = h.pop()!;
    if (h.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && before(h[r], h[l]) ? r : l;
        if (!before(h[c], last)) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
