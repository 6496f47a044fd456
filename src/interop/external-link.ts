// Guests whose own glue suspends them (suspension "external"): Emscripten's -sASYNCIFY runtime
// (Module.Asyncify) unwinds the guest inside a suspending import, hands its caller a promise, and
// later rewinds it by calling the bottom export again from a promise job, outside any fiber.
// fiberhost does not drive that asyncify; it follows it, through Emscripten's Asyncify.state, so
// that the call keeps belonging to the fiber that started it:
// - while the guest is unwound, the call's frames stay open on that fiber's task, [..., R, L(target)]
//   (the export's ReverseEnter and the suspending import's Leave are closed by the rewind, not
//   by the unwind);
// - a crossing of the guest made from a promise job (no fiber running) while a fiber's call is in
//   flight is that call's continuation: the fiber's task is made current around it (lent), so it
//   is counted on the fiber's task, never on the root task;
// - a suspending host function wrapped by `suspending()` answers the guest only while the runtime
//   is not suspended: its answer is held, the fiber waiting for the resume, and given in a
//   microtask after it (no fiber runs between that microtask and the guest's next suspension or
//   return, so no suspension can begin in between);
// - the fiber waits in an ExternalCall: for its turn (one suspended call per instance: Emscripten
//   keeps one rewind buffer), then for the promise its start function gave; run() does not settle
//   while a call is in flight; an abort is given to the pending host function (its signal aborts,
//   its answer rejects with the abort, which the guest's glue throws into the guest) and thrown
//   into the fiber once the guest has unwound.
// Emscripten's asyncify exports are its runtime's machinery: they are called unhooked (known by
// name when their names are kept, by their code when minified, otherwise recognised by the
// runtime's state when they are called).

import type { Task } from "../task/task.js";
import { HOST_E_INVALIDOPERATION, S_OK } from "../base/hresult.js";
import type { CoreDoor } from "../core/door.js";
import { crossingError, isThenable, noWait, type GuestState, type AnyFn } from "./guest.js";
import { hex } from "./crossing-frames.js";
import { TurnWait } from "./external-turn.js";
import type { AsyncifyControl } from "./asyncify-controls.js";

/** Emscripten's Asyncify.State. */
const NORMAL = 0;
const UNWINDING = 1;
const REWINDING = 2;

/** What fiberhost reads of an Emscripten runtime: Module.Asyncify (its `state` keeps its name in minified builds). */
export interface AsyncifyRuntime {
  readonly state: number;
}

const links = new WeakMap<object, ExternalLink>();

/** The link of an external guest, by its `guest.exports` (null: not an external guest of fiberhost's). */
export function externalLinkOf(exports: unknown): ExternalLink | null {
  return typeof exports === "object" && exports !== null ? (links.get(exports) ?? null) : null;
}

/** @internal */
export function registerLink(exports: object, link: ExternalLink): void {
  links.set(exports, link);
}

/** What the link needs of the call in flight (external-call.ts's ExternalCall). */
export interface LinkedCall {
  readonly task: Task;
  readonly signal: AbortSignal;
  /** @internal */
  readonly env: { readonly sched: { wake(t: Task, v: unknown): void } };
  failed(err: Error): void;
  holdForResume(go: () => void): boolean;
}

/** One external guest's link: which fiber's call is in flight, and where its runtime's asyncify is. */
export class ExternalLink {
  /** The guest's runtime (Module.Asyncify), set by the adapter once Emscripten calls instantiateWasm. */
  runtime: AsyncifyRuntime | null = null;
  /** The call in flight (from its start to its promise's settling), or null. */
  owner: LinkedCall | null = null;
  /** The call that holds the instance's turn (FIFO) and the ones waiting for it. */
  holder: LinkedCall | null = null;
  readonly turn: TurnWait<LinkedCall>;
  /** The guest is unwound: its bottom export's R (and the import's L) are open on `parkedTask`. */
  private parked = false;
  private parkedTask: Task | null = null;
  /** The runtime has called asyncify_start_rewind: the next rewinding export call is the bottom export. */
  private rewindArmed = false;
  /** Emscripten calls asyncify_stop_unwind right after the outermost export returns unwound. */
  private stopUnwindDue = false;
  /** Inside the rewound import while the glue stops the rewind (its calls are machinery). */
  private machinery = 0;
  /** The task lent to the crossing in progress (switched out again when it returns). */
  private lent: Task | null = null;

  constructor(
    private readonly g: GuestState,
    /** @internal */
    readonly door: CoreDoor,
  ) {
    this.turn = new TurnWait(this);
  }

  private state(): number {
    const r = this.runtime;
    if (r === null) return NORMAL;
    const s = r.state;
    return typeof s === "number" ? s : NORMAL;
  }

  // --- the hooked crossings ------------------------------------------------------------------

  /** The hooked form of an export of an external guest. */
  hookExport(raw: AnyFn, name: string, control: AsyncifyControl | undefined): AnyFn {
    // The runtime's own exports known at once: by their names (a debug build), or by their code
    // (asyncify-controls.ts: a release build's minified ones; its two stops look the same, and
    // either may clear stopUnwindDue: the rewind's stop comes long after the unwind's).
    if (control !== undefined || name.startsWith("asyncify_")) {
      const stop = control === "stop_unwind" || control === "stop";
      const rewind = control === "start_rewind";
      return (...args: unknown[]) => {
        if (stop) this.stopUnwindDue = false;
        if (rewind) this.rewindArmed = true;
        return raw(...args);
      };
    }
    return (...args: unknown[]) => {
      if (this.machinery > 0) return raw(...args);
      const s = this.state();
      // Unwinding: the glue allocates its buffer and starts the unwind (malloc, asyncify_start_unwind).
      if (s === UNWINDING) return raw(...args);
      if (this.stopUnwindDue) {
        this.stopUnwindDue = false; // asyncify_stop_unwind, renamed
        return raw(...args);
      }
      if (s === REWINDING && this.parked) {
        if (!this.rewindArmed) {
          this.rewindArmed = true; // asyncify_start_rewind, renamed
          return raw(...args);
        }
        return this.rewind(raw, args, name);
      }
      return this.call(raw, args, name);
    };
  }

  /** An ordinary export call: R … RL on the current task, or lent to the call in flight. */
  private call(raw: AnyFn, args: unknown[], name: string): unknown {
    const g = this.g;
    const door = this.door;
    const outer = g.depth === 0;
    const lent = outer ? this.lend(this.owner?.task ?? null) : false;
    const hr = door.reverseEnter();
    if (hr !== S_OK) {
      if (lent) this.unlend();
      throw crossingError(noWait(hr), `ReverseEnterRuntime failed calling export ${name}`);
    }
    g.depth++;
    let r: unknown;
    try {
      r = raw(...args);
    } catch (e) {
      g.depth--;
      door.reverseLeave();
      if (lent) this.unlend();
      throw e;
    }
    g.depth--;
    if (outer && this.state() === UNWINDING) {
      // The runtime unwound the guest from a suspending import: the call goes on when the runtime
      // rewinds it; its frames stay open meanwhile.
      this.park();
      if (lent) this.unlend();
      return r;
    }
    const hr2 = door.reverseLeave();
    if (lent) this.unlend();
    if (hr2 !== S_OK) throw crossingError(hr2, `ReverseLeaveRuntime failed returning from export ${name}`);
    return r;
  }

  private park(): void {
    this.parked = true;
    this.rewindArmed = false;
    this.stopUnwindDue = true;
    this.parkedTask = this.lent ?? this.owner?.task ?? null;
  }

  /** The runtime re-calls the bottom export to rewind it: the parked call goes on, on its own task. */
  private rewind(raw: AnyFn, args: unknown[], name: string): unknown {
    const g = this.g;
    this.parked = false;
    this.rewindArmed = false;
    const lent = this.lend(this.parkedTask);
    this.parkedTask = null;
    g.depth++;
    let r: unknown;
    try {
      r = raw(...args);
    } catch (e) {
      g.depth--;
      this.door.reverseLeave();
      if (lent) this.unlend();
      throw e;
    }
    g.depth--;
    if (this.state() === UNWINDING) {
      this.park(); // suspended again, from another suspending import
      if (lent) this.unlend();
      return r;
    }
    const hr = this.door.reverseLeave();
    if (lent) this.unlend();
    if (hr !== S_OK) this.owner?.failed(crossingError(hr, `ReverseLeaveRuntime failed returning from export ${name}`));
    return r;
  }

  /** The hooked form of an import of an external guest. */
  hookImport(fn: AnyFn, target: number, key: string): AnyFn {
    const door = this.door;
    return (...args: unknown[]) => {
      if (this.state() === REWINDING) {
        // The rewind reaches the import that suspended: its glue stops the rewind and answers; the
        // Leave frame opened before the unwind closes now, on the lent task.
        this.machinery++;
        let r: unknown;
        try {
          r = fn(...args);
        } finally {
          this.machinery--;
        }
        const hr = door.enter();
        if (hr !== S_OK)
          this.owner?.failed(crossingError(noWait(hr), `EnterRuntime failed returning from import ${key}`));
        return r;
      }
      const hr = door.leave(target);
      if (hr !== S_OK) throw crossingError(hr, `LeaveRuntime(${hex(target)}) failed calling import ${key}`);
      let r: unknown;
      try {
        r = fn(...args);
      } catch (e) {
        door.enter();
        throw e;
      }
      if (this.state() === UNWINDING) return r; // suspended: the Leave stays open until the rewind
      const hr2 = door.enter();
      if (hr2 !== S_OK) throw crossingError(noWait(hr2), `EnterRuntime failed returning from import ${key}`);
      if (isThenable(r))
        throw crossingError(
          HOST_E_INVALIDOPERATION,
          `import ${key} answered a promise to an external guest: its runtime suspends through its own glue (Asyncify.handleAsync)`,
        );
      return r;
    };
  }

  /** Makes `t` current for a crossing made outside any fiber (no-op when a fiber runs: it is its own). */
  private lend(t: Task | null): boolean {
    if (t === null || this.lent !== null) return false;
    if (this.door.switchIn(t) !== S_OK) return false;
    this.lent = t;
    return true;
  }

  private unlend(): void {
    const t = this.lent!;
    this.lent = null;
    this.door.switchOut(t);
  }

  // --- the turn and the resume ----------------------------------------------------------------

  /** Runs `go` now, or (the runtime suspended) once the owner has waited for the resume. */
  whenRunning(owner: LinkedCall | null, go: () => void): void {
    if (!this.door.isSuspended() || owner === null || !owner.holdForResume(go)) go();
  }

  // --- the turn --------------------------------------------------------------------------------

  /** The call has ended: the next waiting call gets the instance. */
  release(op: LinkedCall): void {
    if (this.owner === op) this.owner = null;
    if (this.holder !== op) return;
    this.holder = null;
    const next = this.turn.next();
    if (next !== null) {
      this.holder = next.op;
      next.op.env.sched.wake(next.task, S_OK);
    }
  }
}
