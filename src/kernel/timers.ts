// A binary min-heap of deadlines for sleeps and timeouts, FIFO among equal deadlines. Each task
// knows where its one timer sits (`timerPos`), so a wait that ends early takes its entry out at
// once: the heap holds live timed waits only, never a finished wait's task (and what its
// generator captured) until the time it would have fired.

/** @internal The key of a task's timer position (a symbol, as the task's state: src/task/state.ts). */
export const TIMER_POS: unique symbol = Symbol("fiberhost timer position");

export interface Timed {
  /** @internal 1 + the index of the task's entry in the heap; 0: no timer. */
  [TIMER_POS]: number;
}

interface Entry<T> {
  at: number;
  seq: number;
  task: T;
}

export class TimerHeap<T extends Timed> {
  private readonly heap: Entry<T>[] = [];
  private seq = 0;

  /** Live timers. */
  get size(): number {
    return this.heap.length;
  }

  add(task: T, at: number): void {
    if (task[TIMER_POS] !== 0) this.cancel(task);
    const h = this.heap;
    h.push({ at, seq: ++this.seq, task });
    this.up(h.length - 1);
  }

  /** Takes the task's timer out of the heap (nothing when it has none). */
  cancel(task: T): void {
    const i = task[TIMER_POS] - 1;
    if (i < 0) return;
    task[TIMER_POS] = 0;
    const h = this.heap;
    const last = h.pop()!;
    if (i === h.length) return;
    h[i] = last;
    last.task[TIMER_POS] = i + 1;
    if (i > 0 && before(last, h[(i - 1) >> 1])) this.up(i);
    else this.down(i);
  }

  /** The earliest deadline, or Infinity. */
  next(): number {
    return this.heap.length ? this.heap[0].at : Infinity;
  }

  /** Removes and returns the task of the earliest timer due at or before `now`. */
  popDue(now: number): T | null {
    const h = this.heap;
    if (!h.length || h[0].at > now) return null;
    const task = h[0].task;
    this.cancel(task);
    return task;
  }

  private up(i: number): void {
    const h = this.heap;
    const e = h[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, h[p])) break;
      h[i] = h[p];
      h[i].task[TIMER_POS] = i + 1;
      i = p;
    }
    h[i] = e;
    e.task[TIMER_POS] = i + 1;
  }

  private down(i: number): void {
    const h = this.heap;
    const e = h[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const r = l + 1;
      const c = r < h.length && before(h[r], h[l]) ? r : l;
      if (!before(h[c], e)) break;
      h[i] = h[c];
      h[i].task[TIMER_POS] = i + 1;
      i = c;
    }
    h[i] = e;
    e.task[TIMER_POS] = i + 1;
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
