// JSPI (WebAssembly.Suspending / WebAssembly.promising), for guests that cannot be rebuilt with
// asyncify. Three things make it fit a fiber scheduler:
// - A resumed guest continues from a microtask, with the root task current. The fiber is lent
//   to it: made current when the guest resumes and switched out again at its next suspension or
//   return. That must happen in wasm, right where the guest resumes (JS after an `await` in a
//   Suspending function runs before the wasm does), so each suspending import is reached through
//   a small trampoline module that calls it and then calls back `resumed`; each export called by
//   f.call is likewise wrapped in a trampoline that calls `returned` before it returns.
// - A Suspending import reached without a promising frame, or across a JS frame, throws
//   SuspendError even for a plain answer: the trampoline reads a permit flag (a wasm global) and
//   takes a plain path when the call is not an f.call's own; a promise there is an HResultError.
// - Resumptions run in the order their promises were resolved (one microtask queue), so the
//   fibers to lend wait in a FIFO. The trampoline modules are built in jspi-trampolines.ts.
// - A guest's linear-memory stack kept per fiber (stack-finder.ts): a call's frames go out at
//   each suspension (GuestCallState.parkFrames) and back in `resumed`, before the guest runs; an
//   exception leaving the guest reaches the export trampoline's catch (`threw`), which puts the
//   pointer back at once, before the next guest resumes.

import { E_NOTIMPL, HResultError, S_OK } from "../base/hresult.js";
import { MUST_WAIT_FOR_RESUME } from "../core/door.js";
import type { Signature, Signatures } from "./binary.js";
import { cannotSuspend, crossSuspending, crossed, suspendingImport } from "./suspending-import.js";
import { crossingError, dropPromise, noWait, type ExportInfo, type GuestState, type AnyFn } from "./guest.js";
import type { GuestCall } from "./guest-call.js";
import { exportTrampoline, importTrampoline } from "./jspi-trampolines.js";

interface JspiApi {
  Suspending: new (fn: AnyFn) => unknown;
  promising: (fn: AnyFn) => (...args: unknown[]) => Promise<unknown>;
}
const W = WebAssembly as unknown as Partial<JspiApi>;

export function jspiAvailable(): boolean {
  return typeof W.Suspending === "function" && typeof W.promising === "function";
}

// --- the guest's JSPI state ------------------------------------------------------------------------

export class Jspi {
  /** 1 while the running guest code is an f.call's own promising call (suspending is allowed). */
  readonly permit = new WebAssembly.Global({ value: "i32", mutable: true }, 0);
  /** Plain export calls fence the permit off for their duration (hookExport). */
  readonly fence = {
    save: (): number => {
      const v = this.permit.value as number;
      this.permit.value = 0;
      return v;
    },
    restore: (v: number): void => {
      this.permit.value = v;
    },
  };
  /** Fibers whose guests were resumed and are due to run (FIFO: the microtask order). */
  private readonly due: GuestCall<unknown>[] = [];
  /** The fiber lent to the running guest, if any. */
  private lentTo: GuestCall<unknown> | null = null;
  private readonly promisingOf = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  private raw: WebAssembly.Exports | null = null;
  private sigs: Signatures | null = null;
  private readonly resumed = (): void => this.onResumed();
  /** The f.call whose promising call runs now (synchronously), and what its export returned then. */
  private calling: GuestCall<unknown> | null = null;
  private returnedAtOnce: GuestCall<unknown> | null = null;
  private returnedValue: unknown = undefined;
  private readonly returnedNow = (value?: unknown): void => {
    const op = this.lentTo;
    if (op !== null) this.unlend(op);
    else if (this.calling !== null) {
      this.returnedAtOnce = this.calling;
      this.returnedValue = value;
    }
  };

  /**
   * An exception leaves the guest of the running f.call (its epilogues skipped): its kept stack's
   * pointer goes back and its fiber is switched out now, not when the export's promise rejects a
   * microtask later: other fibers' guests may resume before that (each with its frames to put back).
   */
  private readonly threwNow = (): void => {
    const op = this.calling ?? this.lentTo;
    if (op === null) return;
    op.unwound();
    if (op === this.lentTo) this.unlend(op);
  };

  constructor(private readonly g: GuestState) {}

  /** After instantiation: the raw exports, and the signatures for the export trampolines. */
  attach(raw: WebAssembly.Exports, sigs: Signatures): void {
    this.raw = raw;
    this.sigs = sigs;
  }

  /** The import the guest gets for a suspending import: its trampoline's function. */
  wrapImport(fn: AnyFn, target: number, hooked: boolean, key: string, sig: Signature): AnyFn {
    if (sig.results.length > 1)
      throw new HResultError(E_NOTIMPL, `instantiate: JSPI trampolines take at most one result (import ${key})`);
    const g = this.g;
    const door = g.door;
    const plain = suspendingImport(g, fn, target, hooked, key);
    const back = (): void => {
      if (!hooked) return;
      const hr = door.enter();
      if (hr !== 0) throw crossingError(noWait(hr), `EnterRuntime failed returning from import ${key}`);
    };
    const suspending = (...args: unknown[]): unknown => {
      let r = crossSuspending(g, fn, args, target, hooked, key);
      const op = this.lentTo ?? (g.callNow() as GuestCall<unknown> | null);
      if (!crossed.thenable) {
        const hr = crossed.hr;
        // An import that suspended the runtime: in an f.call, the guest waits for the resume as
        // for a settled promise (the f.call's EnterRuntime waits); elsewhere it is refused.
        if (hr === MUST_WAIT_FOR_RESUME && op !== null) r = Promise.resolve(r);
        else {
          if (hr !== 0) throw crossingError(noWait(hr), `EnterRuntime failed returning from import ${key}`);
          // The engine suspends even for a plain answer (the guest resumes from a microtask), so
          // the fiber is lent to it then, like after a promise.
          if (op !== null) {
            op.parkFrames(); // a kept stack: back in onResumed, as after a promise
            this.due.push(op);
            if (op.lent) this.unlend(op);
          }
          return r;
        }
      }
      if (op === null) {
        dropPromise(r as PromiseLike<unknown>);
        back();
        throw cannotSuspend(g, key);
      }
      op.suspend(r as PromiseLike<unknown>, hooked, key);
      // Kept on the operation: a fiber ended while its guest waits (a rude abort) takes the
      // suspended guest with it to the collector.
      const q = new Promise((resolve, reject) => (op.resolvers = { resolve, reject }));
      if (op.lent) {
        this.unlend(op);
        op.suspendedAgain();
      } else this.permit.value = 0;
      return q;
    };
    const inst = new WebAssembly.Instance(importTrampoline(sig), {
      t: { s: new W.Suspending!(suspending) as AnyFn, p: plain, r: this.resumed, permit: this.permit },
    });
    return inst.exports.f as AnyFn;
  }

  /** f.call's guest call: through the export's promising trampoline; answers its promise. */
  call(op: GuestCall<unknown>, info: ExportInfo, args: unknown[]): Promise<unknown> {
    let pf = this.promisingOf.get(info.name);
    if (pf === undefined) {
      const sig = this.sigs!.exports.get(info.name);
      if (sig === undefined || sig.results.length > 1)
        throw new HResultError(
          E_NOTIMPL,
          `f.call: JSPI cannot wrap export ${info.name} (more than one result, or an unknown signature)`,
        );
      const inst = new WebAssembly.Instance(exportTrampoline(sig), {
        t: { f: this.raw![info.name] as AnyFn, r: this.returnedNow, x: this.threwNow },
      });
      pf = W.promising!(inst.exports.f as AnyFn);
      this.promisingOf.set(info.name, pf);
    }
    const saved = this.permit.value as number;
    this.permit.value = 1;
    this.calling = op;
    this.returnedAtOnce = null;
    try {
      return pf(...args);
    } finally {
      this.calling = null;
      this.permit.value = saved;
    }
  }

  /** Did the export return within the call itself (it never suspended)? Its value is then in `returned`. */
  finishedAtOnce(op: GuestCall<unknown>): boolean {
    if (this.returnedAtOnce !== op) return false;
    this.returnedAtOnce = null;
    return true;
  }

  /** The value an export returned at once (see finishedAtOnce); read once. */
  takeReturned(): unknown {
    const v = this.returnedValue;
    this.returnedValue = undefined;
    return v;
  }

  /** The fiber is back in managed code: the guest may go on (from a microtask) with the answer. */
  resume(op: GuestCall<unknown>, answer: { value: unknown; threw: boolean }): void {
    const r = op.resolvers!;
    op.resolvers = null;
    if (answer.threw) {
      // A rejection is thrown at the call site inside the Suspending import: the trampoline's
      // `resumed` is not reached; the error unwinds the guest (which catches nothing) at once.
      r.reject(answer.value);
    } else {
      this.due.push(op);
      r.resolve(answer.value);
    }
  }

  /** The trampoline's callback after a suspending import returned. */
  private onResumed(): void {
    const op = this.due.shift();
    if (op === undefined) return;
    // A kept stack (stack 'per-fiber'): the frames the call took out when it suspended go back
    // here, in wasm where it resumes, not when its fiber resumed it: other fibers' guests may
    // have run between (each from its own microtask), each with its own frames out again by now.
    // A stack found in use abandons the call: the error unwinds the guest, its f.call throws it.
    const lost = op.framesBack();
    if (lost !== null) throw lost;
    this.lend(op);
  }

  private savedDepth = 0;

  private lend(op: GuestCall<unknown>): void {
    const g = this.g;
    // A microtask runs with the root task current (no slice is under way), so the fiber can be
    // switched in. If it cannot (it ended meanwhile: a rude abort), the guest runs on as the root
    // task's, whose crossings then fail and unwind it.
    if (this.g.door.switchIn(op.task) !== S_OK) return;
    this.lentTo = op;
    op.lent = true;
    this.savedDepth = g.depth;
    g.depth = op.depth;
    g.call = op;
    this.permit.value = 1;
  }

  private unlend(op: GuestCall<unknown>): void {
    const g = this.g;
    this.permit.value = 0;
    g.call = null;
    g.depth = this.savedDepth;
    op.lent = false;
    this.lentTo = null;
    this.g.door.switchOut(op.task);
  }

  /** The guest's export settled: a guest that threw while lent is switched out here. */
  returned(op: GuestCall<unknown>): void {
    if (op.lent) this.unlend(op);
  }

  /** The f.call gave up on its guest call: the guest is resumed with an error that unwinds it. */
  abandon(op: GuestCall<unknown>, err: HResultError): void {
    const r = op.resolvers;
    if (r === null) return;
    op.resolvers = null;
    r.reject(err);
  }
}
