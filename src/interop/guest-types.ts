// The public shape of host.instantiate: its options, the guest it answers, and what it needs
// from its host. Apart from instantiate.ts, so that the published types reach nothing of its work.

import type { CoreDoor } from "../core/door.js";
import type { SuspensionMode } from "./guest.js";
import type { GuestStackKind, StackOption } from "./stack-types.js";

/** Default import targets are numbered from here (their "addresses"), one per distinct function. */
export const FIRST_IMPORT_TARGET = 0x80000000;

export interface InstantiateOptions {
  /** Imports that may answer a promise, as "module.name" (async functions are suspending anyway). */
  suspending?: string[];
  /**
   * How a suspending import suspends the guest: "auto" (default), "asyncify", "jspi", "external"
   * (its own runtime suspends it: Emscripten's Asyncify; see fiberhost/emscripten) or "none".
   */
  suspension?: "auto" | SuspensionMode;
  /** The guest's asyncify data region (default: its exports asyncify_data_address() and asyncify_data_size()). */
  asyncifyData?: { address: number; size: number };
  /** Names an import's LeaveRuntime target (a DWORD); undefined: the default numbering. */
  // biome-ignore lint/suspicious/noExplicitAny: an import of any signature
  target?: (module: string, name: string, fn: (...args: any[]) => any) => number | undefined;
  /**
   * The guest's linear-memory stack (see README, "Guests with a stack in linear memory"): "auto"
   * (default: an exported `__stack_pointer`, an imported one, or Emscripten's stack exports),
   * "none", "serial", or where its pointer is.
   */
  stack?: StackOption;
}

// biome-ignore lint/suspicious/noExplicitAny: a guest's exports are untyped unless the caller names them
export interface Guest<E = Record<string, any>> {
  module: WebAssembly.Module;
  /** The underlying instance (its exports are not hooked). */
  instance: WebAssembly.Instance;
  /**
   * The hooked exports: what users call (functions hooked, memories and globals as they are). A
   * frozen null-prototype record, like instance.exports: an export named "__proto__" is a key.
   */
  exports: E;
  /** The suspension in use. */
  suspension: SuspensionMode;
  /**
   * How the guest's linear-memory stack is kept while calls are parked in it: "per-fiber" (each
   * parked call's frames its own), "serial" (one parked call at a time: other fibers' f.calls
   * wait, FIFO), or "none" (no stack found, or no call can park).
   */
  stack: GuestStackKind;
  /** Each function import ("module.name") → its LeaveRuntime target (see functionImports where joined names collide). */
  targets: Record<string, number>;
  /** Each function import ("module.name") → whether it is hooked (the policy's answer). */
  hooked: Record<string, boolean>;
  /** Each function import, in the module's order: its (module, name) pair, target, and whether it is hooked and suspending. */
  functionImports: FunctionImportInfo[];
}

export interface FunctionImportInfo {
  readonly module: string;
  readonly name: string;
  readonly target: number;
  readonly hooked: boolean;
  readonly suspending: boolean;
}

/** What instantiate needs from its host. */
export interface InteropEnv {
  /** @internal */
  door: CoreDoor;
  needsHostHook(target: number): boolean;
}
