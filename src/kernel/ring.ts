// The ready queues: growable rings of slot indices, cheaper than a linked list on the switch path
// (one store to push, one load to shift). Small integers in an Int32Array, not the tasks: a task
// stored into the ring's (old) array while the task is young (just spawned) took the write
// barrier's slow path at every switch (~9% of one); an index needs no barrier, and no clearing
// when it is shifted. The driver maps an index back to its task (Dispatcher's table by slot), and
// takes a task out of the ring before its slot can be reused (Dispatcher.unqueue). Taking one out
// of the middle (its priority changed while it waited, it ended while queued) is a linear scan:
// rare, and it keeps the common path free of bookkeeping.

/**
 * The positions run modulo 2^30 (the ring never holds more than 2^30 indices, and every capacity
 * divides it): a position that only grew would leave the small-integer range after 2^31 switches,
 * a minute of steady switching, and every switch after that would do double arithmetic.
 */
const WRAP = 0x3fffffff;

export class ReadyRing {
  private items = new Int32Array(16);
  private head: number;
  private tail: number;
  private mask = 15;

  /** `start`: where the positions begin (0; the tests start them just below the wrap). */
  constructor(start = 0) {
    this.head = this.tail = start & WRAP;
  }

  get size(): number {
    return (this.tail - this.head) & WRAP;
  }

  push(idx: number): void {
    if (((this.tail - this.head) & WRAP) > this.mask) this.grow();
    this.items[this.tail & this.mask] = idx;
    this.tail = (this.tail + 1) & WRAP;
  }

  /** Puts `idx` at the front: it is shifted next (a fiber woken from another thread: Waits.wake). */
  unshift(idx: number): void {
    if (((this.tail - this.head) & WRAP) > this.mask) this.grow();
    this.head = (this.head - 1) & WRAP;
    this.items[this.head & this.mask] = idx;
  }

  /** The index at the front, taken; −1 when the ring is empty. */
  shift(): number {
    const head = this.head;
    if (head === this.tail) return -1;
    this.head = (head + 1) & WRAP;
    return this.items[head & this.mask];
  }

  /** Takes `idx` out, keeping the others' order: true when it was there. */
  remove(idx: number): boolean {
    const n = this.size;
    for (let k = 0; k < n; k++) {
      if (this.items[(this.head + k) & this.mask] !== idx) continue;
      for (let m = k; m > 0; m--) this.items[(this.head + m) & this.mask] = this.items[(this.head + m - 1) & this.mask];
      this.head = (this.head + 1) & WRAP;
      return true;
    }
    return false;
  }

  private grow(): void {
    const n = this.items.length;
    const items = new Int32Array(n * 2);
    for (let k = 0; k < n; k++) items[k] = this.items[(this.head + k) & this.mask];
    this.items = items;
    this.head = 0;
    this.tail = n;
    this.mask = n * 2 - 1;
  }
}
