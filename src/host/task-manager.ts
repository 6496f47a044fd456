// IHostTaskManager, in camelCase. Every method answers an HRESULT; out values land in the trailing
// out object's `value`. The four transitions are the hot path: they neither throw nor allocate.

import type { Task, TaskScheduling } from "../task/task.js";
import type { CoreDoor } from "../core/door.js";
import { MUST_WAIT_FOR_RESUME } from "../core/door.js";
import type { FiberStart } from "../fiber/context.js";
import { E_INVALIDARG, E_NOTIMPL, E_POINTER, HOST_E_INVALIDOPERATION, HOST_E_TIMEOUT, S_OK } from "../base/hresult.js";
import { isDword, isTimeout, isWaitOption } from "../base/args.js";
import { isOut, setOut, type Out } from "../base/out.js";

/** What the task manager needs from its host. */
export interface TaskManagerEnv {
  /** @internal */
  door: CoreDoor;
  /** @internal */
  sched: TaskScheduling;
  currentTask(): Task;
  newTask(stackSize: number, start: FiberStart, param: unknown): Task | number;
  needsHostHook(target: number): boolean;
  /** S_OK, or HOST_E_CLRNOTAVAILABLE when the runtime is not started or disabled. */
  available(): number;
}

/** An enter into managed code cannot wait in synchronous code: a suspended runtime times it out at once. */
function noWait(hr: number): number {
  return hr === MUST_WAIT_FOR_RESUME ? HOST_E_TIMEOUT : hr;
}

export class TaskManager {
  private uiLocale = 0;
  private locale = 0;
  /** The door itself, not env.door: the four transitions are one property load shorter. */
  private readonly door: CoreDoor;

  /** @internal */
  constructor(private readonly env: TaskManagerEnv) {
    this.door = env.door;
  }

  getCurrentTask(out: Out<Task>): number {
    const hr = this.env.available();
    return hr !== S_OK ? hr : setOut(out, this.env.currentTask());
  }

  /** CreateTask(stackSize in bytes, start, param, out): a suspended task; `task.start()` makes it runnable. */
  createTask(stackSize: number, start: FiberStart, param: unknown, out: Out<Task>): number {
    if (!isOut(out)) return this.env.door.orUnavailable(E_POINTER);
    if (typeof start !== "function") return this.env.door.orUnavailable(E_INVALIDARG);
    const t = this.env.newTask(stackSize, start, param);
    return typeof t === "number" ? t : setOut(out, t);
  }

  /** The JS thread cannot block: fibers sleep with `yield* f.sleep(ms)`. */
  sleep(ms: number, option = 0): number {
    if (!isTimeout(ms) || !isWaitOption(option)) return this.env.door.orUnavailable(E_INVALIDARG);
    const hr = this.env.available();
    return hr !== S_OK ? hr : HOST_E_INVALIDOPERATION;
  }

  /** The JS thread cannot switch away: fibers yield with `yield* f.yield()`. */
  switchToTask(option = 0): number {
    if (!isWaitOption(option)) return this.env.door.orUnavailable(E_INVALIDARG);
    const hr = this.env.available();
    return hr !== S_OK ? hr : HOST_E_INVALIDOPERATION;
  }

  setUILocale(lcid: number): number {
    return this.setLocaleField(lcid, true);
  }

  setLocale(lcid: number): number {
    return this.setLocaleField(lcid, false);
  }

  /** The locales last set (LCIDs). */
  getLocales(): { locale: number; uiLocale: number } {
    return { locale: this.locale, uiLocale: this.uiLocale };
  }

  private setLocaleField(lcid: number, ui: boolean): number {
    if (!isDword(lcid)) return this.env.door.orUnavailable(E_INVALIDARG);
    const hr = this.env.available();
    if (hr !== S_OK) return hr;
    if (ui) this.uiLocale = lcid;
    else this.locale = lcid;
    return S_OK;
  }

  /** FALSE means calls to `target` get no LeaveRuntime / EnterRuntime (f.unmanaged skips them). */
  callNeedsHostHook(target: number, out: Out<boolean>): number {
    if (!isDword(target)) return this.env.door.orUnavailable(E_INVALIDARG);
    const hr = this.env.available();
    return hr !== S_OK ? hr : setOut(out, this.env.needsHostHook(target));
  }

  leaveRuntime(target: number): number {
    if (!isDword(target)) return this.env.door.orUnavailable(E_INVALIDARG);
    return this.door.leave(target);
  }

  // S_OK is answered before noWait is looked at: its module bindings (checked for their temporal
  // dead zone on every read) cost the pair a fifth of its instructions.
  enterRuntime(): number {
    const hr = this.door.enter();
    return hr === 0 ? 0 : noWait(hr);
  }

  reverseEnterRuntime(): number {
    const hr = this.door.reverseEnter();
    return hr === 0 ? 0 : noWait(hr);
  }

  reverseLeaveRuntime(): number {
    return this.door.reverseLeave();
  }

  beginDelayAbort(): number {
    return this.env.door.delayAbort(true);
  }

  /** Closing the region lets a held-back abort through at the fiber's next safe point (not here). */
  endDelayAbort(): number {
    return this.env.sched.endAbortRegion(this.env.currentTask(), () => this.env.door.delayAbort(false));
  }

  beginThreadAffinity(): number {
    return this.env.door.threadAffinity(true);
  }

  endThreadAffinity(): number {
    return this.env.door.threadAffinity(false);
  }

  /** Reserved for the runtime's internal use in the contract. */
  setStackGuarantee(_bytes: number): number {
    const hr = this.env.available();
    return hr !== S_OK ? hr : E_NOTIMPL;
  }

  /** Bytes guaranteed for unwinding: 0, since closing a frame needs no space (frames are popped). */
  getStackGuarantee(out: Out<number>): number {
    const hr = this.env.available();
    return hr !== S_OK ? hr : setOut(out, 0);
  }
}
