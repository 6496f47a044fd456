// What an f.call keeps once its guest has suspended, and the wait its fiber parks on: the shared
// state of the call's phases (call-core.ts runs them; call-jspi.ts and call-op.ts add the JSPI and
// asyncify steps).

import { BLOCK, type Waitable } from "../scheduler/waitable.js";
import type { SchedulerPort as Scheduler } from "../scheduler/port.js";

export const enum Phase {
  Open,
  WaitOpen,
  /** Parked: a suspending import's promise is pending. */
  Parked,
  /** The promise settled; the enter back into the runtime waits for the resume. */
  WaitEnter,
  /** JSPI: the guest was resumed (it continues from a microtask), or its export's promise is pending. */
  Continuing,
  Done,
}

/** What woke a fiber parked in a guest (JSPI has two sources). */
export const enum Event {
  None,
  Import,
  Return,
}

/** The wait of a fiber parked inside a guest: woken by the operation itself when a promise settles. */
export class GuestWait implements Waitable {
  waiting = false;
  constructor(private readonly sched: Scheduler) {}
  tryAcquire(): number {
    return BLOCK;
  }
  enqueue(): void {
    this.waiting = true;
    this.sched.awaiting(+1); // run() does not settle while a guest's promise is pending
  }
  remove(): void {
    if (!this.waiting) return;
    this.waiting = false;
    this.sched.awaiting(-1);
  }
  waitsFor(): null {
    return null;
  }
  describe(): string {
    return "a promise inside a guest (f.call)";
  }
}

export type Resolvers = { resolve(v: unknown): void; reject(e: unknown): void };
/** What a suspended f.call keeps (see GuestCall.x). */
export class Suspended {
  importName = "";
  /** asyncify: the unwound stack, while parked. */
  stack: Uint8Array | null = null;
  /** The import's answer to give the guest: a value, or an error to throw at its call site. */
  settled: unknown = undefined;
  settledThrew = false;
  wait: GuestWait | null = null;
  event = Event.None;
  /** A suspending import's promise is what the parked fiber waits for (numbered: a stale one is ignored). */
  importPending = false;
  seq = 0;
  /** JSPI: an abort that arrived while the guest was running on its own (delivered at its next suspension or return). */
  heldAbort: unknown = undefined;
  lent = false;
  resolvers: Resolvers | null = null;
}
