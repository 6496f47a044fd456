// Keeps a Node process (or worker thread) alive while something waits with Atomics.waitAsync: a
// pending waitAsync holds no handle on Node's event loop (nodejs/node#61941), so a thread whose only
// work is a parked fiber would exit under it. While held, one long interval stays ref'd; released,
// it is unref'd (made once, then only ref'd and unref'd: a hold and a release cost no allocation). A
// browser keeps a page or a worker running anyway: there it does nothing.

import { HOST_E_INVALIDOPERATION, HResultError } from "../base/hresult.js";

export interface KeepAlive {
  /** One more reason to stay alive: the first one refs the handle. */
  hold(): void;
  /** One reason fewer: the last one unrefs the handle. More releases than holds is an error. */
  release(): void;
  /** The holds not released yet. */
  readonly holds: number;
}

/** Node's Timeout: a handle that can stop keeping the event loop alive. */
interface RefHandle {
  ref(): void;
  unref(): void;
}

// Longest a timer may be (2^31 - 1 ms): it fires about every 25 days, and does nothing.
const FOREVER = 0x7fffffff;

/** A counter of its own (the runtime's parked waiters share `keepAlive`, below). */
export function createKeepAlive(): KeepAlive {
  let holds = 0;
  // undefined: not made yet; null: this is not Node (a timer there is a number, with no unref).
  let handle: RefHandle | null | undefined;
  const made = (): RefHandle | null => {
    if (handle !== undefined) return handle;
    const timer = setInterval(() => {}, FOREVER) as unknown;
    if (typeof (timer as RefHandle | undefined)?.unref === "function") return (handle = timer as RefHandle);
    clearInterval(timer as number);
    return (handle = null);
  };
  return {
    hold() {
      if (holds++ === 0) made()?.ref();
    },
    release() {
      if (holds === 0) throw new HResultError(HOST_E_INVALIDOPERATION, "keepAlive.release() without a hold()");
      if (--holds === 0) made()?.unref();
    },
    get holds() {
      return holds;
    },
  };
}

/** The thread's keep-alive: what parks on another thread holds it until it is woken. */
export const keepAlive: KeepAlive = createKeepAlive();
