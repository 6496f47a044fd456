// A host function that an external guest's glue waits for (em.suspending): its answer reaches the
// guest only while the runtime is not suspended, and an abort of the waiting fiber rejects it.

import { E_INVALIDARG, HResultError } from "../base/hresult.js";
import { isThenable } from "./guest.js";
import type { ExternalLink } from "./external-link.js";

/**
 * A host function the guest's glue may wait for: `work` runs at once, inside the import; when it
 * answers a promise, the guest gets `finish(value)` (or the rejection) only while the runtime is
 * not suspended, and an abort of the waiting fiber rejects it at once with the abort.
 */
export function suspendingHostFunction<A extends unknown[], V, R = V>(
  link: ExternalLink,
  work: (this: unknown, ...args: A) => PromiseLike<V> | V,
  finish?: (value: V) => R,
): (this: unknown, ...args: A) => R | V | Promise<R | V> {
  if (typeof work !== "function")
    throw new HResultError(E_INVALIDARG, "suspending(work, finish?): work must be a function");
  if (finish !== undefined && typeof finish !== "function")
    throw new HResultError(E_INVALIDARG, "suspending(work, finish?): finish must be a function");
  return function (this: unknown, ...args: A) {
    const v = work.apply(this, args);
    if (!isThenable(v)) return finish !== undefined ? finish(v as V) : (v as V);
    const owner = link.owner;
    return new Promise<R | V>((resolve, reject) => {
      let done = false;
      const answer = (x: unknown, threw: boolean): void => {
        if (done) return;
        done = true;
        owner?.signal.removeEventListener("abort", onAbort);
        link.whenRunning(owner, () => {
          if (threw) reject(x);
          else if (finish === undefined) resolve(x as V);
          else {
            try {
              resolve(finish(x as V));
            } catch (e) {
              reject(e);
            }
          }
        });
      };
      const onAbort = (): void => answer(owner!.signal.reason, true);
      if (owner !== null) {
        if (owner.signal.aborted) onAbort();
        else owner.signal.addEventListener("abort", onAbort);
      }
      Promise.resolve(v).then(
        (x) => answer(x, false),
        (e) => answer(e, true),
      );
    });
  };
}
