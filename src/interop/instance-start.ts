// A guest's instantiation, its start function included: the start is guest code that the host
// calls, so its crossings are hooked and balanced like any call's, and a module that the engine
// may refuse to instantiate synchronously (Chromium, over 8 MB on the main thread) is
// instantiated asynchronously.

import type { CoreDoor } from "../core/door.js";
import { HResultError, S_OK } from "../base/hresult.js";
import { noWait, type GuestState } from "./guest.js";
import type { Signatures } from "./binary.js";
import { bad } from "./user-input.js";

/**
 * Chromium refuses `new WebAssembly.Instance` on the main thread for a module over 8 MB
 * ("WebAssembly.Instance is disallowed on the main thread, if the buffer size is larger than
 * 8MB"): such a guest is instantiated asynchronously.
 */
export const SYNC_INSTANCE_LIMIT = 8 * 1024 * 1024;

/**
 * Instantiates the module. A start function is guest code that the host calls: it runs between
 * ReverseEnterRuntime and ReverseLeaveRuntime on the current task, so its imports cross as any
 * call's. A module known to have none is instantiated asynchronously; one with a start function,
 * synchronously (the pair around it alone), unless the engine may refuse that (a compiled
 * Module, whose size and start we cannot see, or bytes over SYNC_INSTANCE_LIMIT): then
 * asynchronously, the pair opened by the start's first hooked import and closed when the
 * instantiation settles.
 */
export async function instantiateModule(
  door: CoreDoor,
  g: GuestState,
  module: WebAssembly.Module,
  imports: WebAssembly.Imports,
  bytes: Uint8Array | null,
  sigs: Signatures | null,
): Promise<WebAssembly.Instance> {
  try {
    if (sigs !== null && !sigs.hasStart) return await WebAssembly.instantiate(module, imports);
    if (bytes !== null && bytes.length <= SYNC_INSTANCE_LIMIT) return startGuest(door, module, imports);
    const starting = { opened: false };
    g.starting = starting;
    let instance: WebAssembly.Instance;
    try {
      instance = await WebAssembly.instantiate(module, imports);
    } finally {
      g.starting = null;
      if (starting.opened) {
        const hr = door.reverseLeave();
        if (hr !== S_OK)
          // biome-ignore lint/correctness/noUnsafeFinally: a failed close is the answer
          throw new HResultError(hr, "instantiate: ReverseLeaveRuntime failed after the guest's start function");
      }
    }
    return instance;
  } catch (err) {
    // What the start function threw (or a trap in it) reaches the caller as it is.
    if (!(err instanceof WebAssembly.LinkError)) throw err;
    throw bad(`the guest could not be instantiated (${(err as Error).message})`, err);
  }
}

function startGuest(door: CoreDoor, module: WebAssembly.Module, imports: WebAssembly.Imports): WebAssembly.Instance {
  const hr = door.reverseEnter();
  if (hr !== S_OK)
    throw new HResultError(noWait(hr), "instantiate: ReverseEnterRuntime failed before the guest's start function");
  let instance: WebAssembly.Instance;
  try {
    instance = new WebAssembly.Instance(module, imports);
  } catch (err) {
    door.reverseLeave();
    throw err;
  }
  const hr2 = door.reverseLeave();
  if (hr2 !== S_OK)
    throw new HResultError(hr2, "instantiate: ReverseLeaveRuntime failed after the guest's start function");
  return instance;
}
