// The ready queues: growable rings of slot indices, cheaper than a linked list on the switch path
// (one store to push, one load to shift). Small integers in an Int32Array, not the tasks: a task
// stored into the ring's (old) array while the task is young (just spawned) took the write
// barrier's slow path at every switch (~9% of one); an index needs no barrier, and no clearing
// when it is shifted. The driver maps an index back to its task (Dispatcher's table by slot), and
// takes a task out of the ring before its slot can be reused (Dispatcher.unqueue). Taking one out
// of the middle (its priority changed while it waited, it ended while queued) is a linear scan:
// rare, and it keeps the common path free of bookkeeping.

export class ReadyRing {
  private items = new Int32Array(16);
  private head = 0;
  private tail = 0;
  private mask = 15;

  get size(): number {
    return this.tail - this.head;
  }

  push(idx: number): void {
    if (this.tail - this.head > this.mask) this.grow();
    this.items[this.tail++ & this.mask] = idx;
  }

  /** The index at the front, taken; −1 when the ring is empty. */
  shift(): number {
    if (this.head === this.tail) return -1;
    return this.items[this.head++ & this.mask];
  }

  /** Takes `idx` out, keeping the others' order: true when it was there. */
  remove(idx: number): boolean {
    for (let k = this.head; k < this.tail; k++) {
      if (this.items[k & this.mask] !== idx) continue;
      for (let m = k; m > this.head; m--) this.items[m & this.mask] = this.items[(m - 1) & this.mask];
      this.head++;
      return true;
    }
    return false;
  }

  private grow(): void {
    const n = this.items.length;
    const items = new Int32Array(n * 2);
    for (let k = 0; k < n; k++) items[k] = this.items[(this.head + k) & this.mask];
    this.items = items;
    this.tail -= this.head;
    this.head = 0;
    this.mask = n * 2 - 1;
  }
}
