// The scheduler's clock and dispatch, both injectable. Every wait and timeout reads the host's
// clock; a virtual clock only moves when the scheduler jumps it to the next timer.

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** True for a clock the scheduler advances itself (no real waiting). */
  readonly virtual: boolean;
}

export class RealClock implements Clock {
  readonly virtual = false;
  now(): number {
    return performance.now();
  }
}

export class VirtualClock implements Clock {
  readonly virtual = true;
  private t = 0;
  now(): number {
    return this.t;
  }
  advanceTo(t: number): void {
    if (t > this.t) this.t = t;
  }
}

/** Runs `fn` in a later macrotask, so a page stays responsive between scheduler slices. */
export type Dispatch = (fn: () => void) => void;

export function defaultDispatch(): Dispatch {
  const g = globalThis as { setImmediate?: (fn: () => void) => void };
  if (typeof g.setImmediate === "function") return (fn) => g.setImmediate!(fn);
  if (typeof MessageChannel === "function") {
    // A MessageChannel message is a macrotask without setTimeout's 4 ms clamp.
    const channel = new MessageChannel();
    const pending: (() => void)[] = [];
    channel.port1.onmessage = () => pending.shift()!();
    return (fn) => {
      pending.push(fn);
      channel.port2.postMessage(0);
    };
  }
  return (fn) => setTimeout(fn, 0);
}
