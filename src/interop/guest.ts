// One instantiated guest's state, shared by its hooked exports and imports and the f.call
// operations that drive it: which suspension it uses, how deep its export calls nest, and which
// f.call (if any) may suspend it now.

import type { CoreDoor } from "../core/door.js";
import { MUST_WAIT_FOR_RESUME } from "../core/door.js";
import { HOST_E_TIMEOUT, HResultError } from "../base/hresult.js";
import type { CallGate } from "./call-gate.js";
import type { ShadowStack } from "./shadow-stack.js";

/** A user's import or a guest's export, as the engine calls it. */
// biome-ignore lint/suspicious/noExplicitAny: a user's import or a guest's export: any signature, called with what the engine passes
export type AnyFn = (...args: any[]) => any;

export type SuspensionMode = "asyncify" | "jspi" | "external" | "none";

/** What a suspending import tells the f.call that drives the guest. */
export interface SuspendingCall {
  /** The guest's export-call depth at which this driver's call runs. */
  readonly depth: number;
  /** A suspending import answered `promise`; `hooked`: its LeaveRuntime frame stays open meanwhile. */
  suspend(promise: PromiseLike<unknown>, hooked: boolean, name: string): void;
  /** The suspending import's answer once the guest is resumed (a value, or thrown). */
  answer(): unknown;
}

/** A hooked export: what f.call needs to drive it. Kept on the hooked function under EXPORT. */
export interface ExportInfo {
  readonly guest: GuestState;
  /** The guest's own export (no hooks). */
  readonly raw: (...args: unknown[]) => unknown;
  readonly name: string;
}

/** What the crossings and f.call use of asyncify.ts (an interface: the modules below it need not import it). */
export interface AsyncifyUnwinder {
  /** Set between startRewind and the suspending import's stopRewind. */
  readonly rewinding: boolean;
  startUnwind(): void;
  stopUnwind(): Uint8Array;
  startRewind(stack: Uint8Array): void;
  stopRewind(): void;
  reset(): void;
}

/** What f.call uses of jspi.ts. */
export interface JspiCaller {
  call(op: SuspendingCall, info: ExportInfo, args: unknown[]): Promise<unknown>;
  /** The export returned within the call itself (it never suspended): true once, then takeReturned(). */
  finishedAtOnce(op: SuspendingCall): boolean;
  takeReturned(): unknown;
  resume(op: SuspendingCall, answer: { value: unknown; threw: boolean }): void;
  returned(op: SuspendingCall): void;
  abandon(op: SuspendingCall, err: Error): void;
}

export const EXPORT: unique symbol = Symbol("fiberhost.guestExport");

export class GuestState {
  /** Hooked export calls in progress (f.call's included): a suspension must come from depth call.depth. */
  depth = 0;
  /** The f.call whose guest call runs now and may suspend, or null. */
  call: SuspendingCall | null = null;
  asyncify: AsyncifyUnwinder | null = null;
  jspi: JspiCaller | null = null;
  /**
   * Frames an exception could not close where it passed them: the JS stack was exhausted (a
   * RangeError from runaway export → import → export recursion) and the cleanup call itself
   * overflowed. They are the task's top frames, closed by the next catch up the stack (closeOwed).
   */
  owed = 0;
  /**
   * Frames of the root task that an exception could not close because the runtime is suspended
   * (an import suspended it: synchronous code cannot wait for the resume); shared by the host's
   * guests, closed when the runtime resumes (Interop.runtimeResumed).
   */
  rootOwed: { frames: number } = { frames: 0 };
  /**
   * Set while an asynchronous instantiation may run the guest's start function (a module the
   * engine will not instantiate synchronously): the first hooked import it calls opens the
   * start's ReverseEnterRuntime, which the instantiation closes when it settles.
   */
  starting: { opened: boolean } | null = null;
  /** @internal The guest's linear-memory stack, kept per parked fiber (shadow-stack.ts), or null. */
  stack: ShadowStack | null = null;
  /** @internal One parked call at a time (a stack fiberhost cannot keep per fiber), or null. */
  gate: CallGate | null = null;

  /** @internal */
  constructor(
    /** @internal */
    readonly door: CoreDoor,
    readonly mode: SuspensionMode,
  ) {}

  /** May a suspending import called now suspend the guest? (Otherwise it answers an HResultError.) */
  callNow(): SuspendingCall | null {
    const d = this.call;
    return d !== null && d.depth === this.depth ? d : null;
  }
}

/** An enter into managed code in synchronous code cannot wait: a suspended runtime times it out. */
export function noWait(hr: number): number {
  return hr === MUST_WAIT_FOR_RESUME ? HOST_E_TIMEOUT : hr;
}

/**
 * A promise, or anything Promise.resolve would adopt. Never throws: an object whose `then` cannot
 * be read (a throwing getter, a revoked Proxy) counts as a thenable, as Promise.resolve treats it:
 * adopting it answers a rejection with what the read threw, so the answer takes the promise path,
 * whose every step keeps the frames balanced.
 */
export function isThenable(v: unknown): v is PromiseLike<unknown> {
  if (typeof v !== "object" || v === null) return false;
  try {
    return typeof (v as PromiseLike<unknown>).then === "function";
  } catch {
    return true;
  }
}

/** A promise the guest cannot wait for: its rejection must not be reported as unhandled. */
export function dropPromise(p: PromiseLike<unknown>): void {
  Promise.resolve(p).then(undefined, () => {});
}

export function crossingError(hr: number, what: string, cause?: unknown): HResultError {
  const err = new HResultError(hr, what);
  if (cause !== undefined) (err as { cause?: unknown }).cause = cause;
  return err;
}

/** Calls without spreading for the common arities (a spread call allocates and is slower): f.call's call of the export, a suspending import's of the import. */
export function callRaw(fn: (...args: unknown[]) => unknown, a: unknown[]): unknown {
  switch (a.length) {
    case 0:
      return fn();
    case 1:
      return fn(a[0]);
    case 2:
      return fn(a[0], a[1]);
    case 3:
      return fn(a[0], a[1], a[2]);
    default:
      return fn(...a);
  }
}
