// The guest the demo's request handlers call: the example guest module (examples/guest/guest.ts),
// loaded by host.instantiate, so every crossing goes through the hooks. In fiberhost's interop
// model a guest is managed code and the JS host unmanaged code: a call into a guest export runs
// between ReverseEnterRuntime and ReverseLeaveRuntime, a guest's call out to an import between
// LeaveRuntime(target) and EnterRuntime.
//
// A request makes two calls, each a fiber operation (f.call) so that it waits for a suspended
// runtime instead of failing:
//   nested(2)  export → import host_callback → export nested(1) → import → export nested(0):
//              the frames R, L, R, L, R, every one through the hooks;
//   compute(x) three calls of the suspending import host_fetch; one request in four answers a
//              promise, and the fiber blocks inside the guest (asyncify) while the others run.

import type { FiberContext } from "../fiber/context.js";
import type { Host } from "../host/host.js";
import type { Out } from "../base/out.js";
import type { Task } from "../task/task.js";
import { guestBytes, SUSPENDING } from "./generated/guest-wasm.js";

export interface DemoGuest {
  /** How the guest suspends a fiber ("asyncify" with the example guest). */
  readonly suspension: string;
  /** Calls the guest's imports made (each one a hooked LeaveRuntime … EnterRuntime). */
  readonly importCalls: number;
  /** Times a fiber blocked inside the guest (its host_fetch answered a promise). */
  readonly blocks: number;
  /** Fibers blocked inside the guest now (a wait of their own, not a suspension holding them). */
  readonly blocked: ReadonlySet<Task>;
  /**
   * Handles request `n` in the guest; `onImport` runs inside the request's first import call, in
   * unmanaged code (the caller learns when its entry into the guest was let through).
   */
  request(f: FiberContext, n: number, onImport: () => void): Generator<unknown, number, unknown>;
}

export interface GuestOptions {
  /** How long a host_fetch that blocks takes, in ms (default 0: a promise that is already resolved). */
  fetchDelayMs?: (x: number) => number;
}

interface GuestExports {
  nested(n: number): number;
  compute(x: number): number;
}

const NESTING = 2;

export async function createGuest(host: Host, options: GuestOptions = {}): Promise<DemoGuest> {
  const delay = options.fetchDelayMs ?? (() => 0);
  const firstImport = new Map<Task, () => void>();
  const out: Out<Task> = {};
  let importCalls = 0;
  let blocks = 0;
  const blocked = new Set<Task>();
  const entered = (): void => {
    importCalls++;
    host.taskManager.getCurrentTask(out);
    const note = out.value && firstImport.get(out.value);
    if (note) {
      firstImport.delete(out.value!);
      note();
    }
  };
  let exports!: GuestExports;
  const imports = {
    env: {
      host_callback: (n: number) => {
        entered();
        return exports.nested(n - 1); // back into the guest: a reverse enter from unmanaged code
      },
      host_fetch: (x: number) => {
        entered();
        if ((x & 3) !== 0) return x * 2;
        const ms = delay(x);
        const task = out.value!;
        blocks++;
        blocked.add(task);
        return new Promise((resolve) => {
          const answer = (): void => {
            blocked.delete(task);
            resolve(x * 2);
          };
          if (ms > 0) setTimeout(answer, ms);
          else answer();
        });
      },
      host_add: (a: number, b: number) => a + b,
      host_fail: (code: number) => {
        throw new Error(`host_fail(${code})`);
      },
      host_note: () => {},
    },
  };
  const guest = await host.instantiate<GuestExports>(guestBytes("asyncify"), imports, { suspending: SUSPENDING });
  exports = guest.exports;
  return {
    suspension: guest.suspension,
    get importCalls() {
      return importCalls;
    },
    get blocks() {
      return blocks;
    },
    blocked,
    *request(f, n, onImport) {
      firstImport.set(f.task, onImport);
      try {
        const a = yield* f.call(exports.nested, NESTING);
        const b = yield* f.call(exports.compute, n & 0xfff);
        return (a + b) >>> 0;
      } finally {
        firstImport.delete(f.task);
      }
    },
  };
}
