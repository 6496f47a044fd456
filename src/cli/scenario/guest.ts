// The guest the demo's request handlers call: the one place the demo meets guest code.
//
// In fiberhost's interop model a guest module is managed code and the JS host is unmanaged code:
// a call into a guest export runs between ReverseEnterRuntime and ReverseLeaveRuntime, and a
// guest's call out to an import between LeaveRuntime(target) and EnterRuntime. A request goes
// export `handle` → import `lookup` → export `hash` (a callback into the guest), so one request
// makes the frames R, L, R and every crossing goes through the hooks.
//
// This guest is emulated with the fiber operations (f.managed / f.unmanaged), which make exactly
// those transitions; it is the adapter to replace with a real module loaded by host.instantiate.

import type { FiberContext, Host } from "../../index.js";

/** The LeaveRuntime target of the guest's import `lookup` (its "address" for this host). */
export const LOOKUP_TARGET = 0x2000;

export interface Guest {
  /** What runs the guest's code: "emulated" (fiber operations) or "wasm" (host.instantiate). */
  readonly kind: "emulated" | "wasm";
  /**
   * Handles request `n` in the guest; `onImport` runs inside the import, in unmanaged code (the
   * caller learns when its entry into the guest was let through).
   */
  request(f: FiberContext, n: number, onImport: () => void): Generator<unknown, number, unknown>;
}

function hash(n: number): number {
  let h = Math.imul(n ^ 0x5bd1e995, 0x1b873593);
  h ^= h >>> 13;
  return Math.imul(h, 0xcc9e2d51) >>> 0;
}

export async function createGuest(_host: Host): Promise<Guest> {
  return {
    kind: "emulated",
    *request(f, n, onImport) {
      // JS calls the guest's export `handle`.
      return yield* f.managed(function* () {
        // `handle` calls its import `lookup`.
        const looked = yield* f.unmanaged(LOOKUP_TARGET, function* () {
          onImport();
          // `lookup` calls back into the guest's export `hash`.
          return yield* f.managed(() => hash(n));
        });
        return (looked ^ n) >>> 0;
      });
    },
  };
}
