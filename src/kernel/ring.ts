// The ready queues: growable ring buffers, cheaper than a linked list on the switch path (one
// store to push, one load to shift). Taking a task out of the middle (its priority changed while
// it waited) is a linear scan: rare, and it keeps the common path free of bookkeeping.

export class ReadyRing<T> {
  private items: (T | undefined)[] = new Array(16);
  private head = 0;
  private tail = 0;
  private mask = 15;

  get size(): number {
    return this.tail - this.head;
  }

  push(item: T): void {
    if (this.tail - this.head > this.mask) this.grow();
    this.items[this.tail++ & this.mask] = item;
  }

  shift(): T | undefined {
    if (this.head === this.tail) return undefined;
    const i = this.head++ & this.mask;
    const item = this.items[i];
    this.items[i] = undefined;
    return item;
  }

  /** Takes `item` out, keeping the others' order: true when it was there. */
  remove(item: T): boolean {
    for (let k = this.head; k < this.tail; k++) {
      if (this.items[k & this.mask] !== item) continue;
      for (let m = k; m > this.head; m--) this.items[m & this.mask] = this.items[(m - 1) & this.mask];
      this.items[this.head++ & this.mask] = undefined;
      return true;
    }
    return false;
  }

  private grow(): void {
    const n = this.items.length;
    const items: (T | undefined)[] = new Array(n * 2);
    for (let k = 0; k < n; k++) items[k] = this.items[(this.head + k) & this.mask];
    this.items = items;
    this.tail -= this.head;
    this.head = 0;
    this.mask = n * 2 - 1;
  }
}
