// The ready queues: growable ring buffers, cheaper than a linked list on the switch path. Each
// entry carries the sequence number its task had when queued; an entry whose task has been queued
// again since (its priority changed while it waited) is stale and skipped.

export interface Sequenced {
  readySeq: number;
}

export class ReadyRing<T extends Sequenced> {
  private items: (T | undefined)[] = new Array(16);
  private seqs: number[] = new Array(16).fill(0);
  private head = 0;
  private tail = 0;
  private mask = 15;

  get size(): number {
    return this.tail - this.head;
  }

  push(item: T): void {
    if (this.tail - this.head > this.mask) this.grow();
    const i = this.tail++ & this.mask;
    this.items[i] = item;
    this.seqs[i] = item.readySeq;
  }

  /** The oldest live entry, or undefined when only stale ones (or none) are left. */
  shift(): T | undefined {
    while (this.head !== this.tail) {
      const i = this.head++ & this.mask;
      const item = this.items[i]!;
      this.items[i] = undefined;
      if (item.readySeq === this.seqs[i]) return item;
    }
    return undefined;
  }

  private grow(): void {
    const n = this.items.length;
    const items: (T | undefined)[] = new Array(n * 2);
    const seqs: number[] = new Array(n * 2).fill(0);
    for (let k = 0; k < n; k++) {
      const i = (this.head + k) & this.mask;
      items[k] = this.items[i];
      seqs[k] = this.seqs[i];
    }
    this.items = items;
    this.seqs = seqs;
    this.tail -= this.head;
    this.head = 0;
    this.mask = n * 2 - 1;
  }
}
