// An executable reference model of the raw contract as the root task sees it: tasks created by
// hand (CreateTask, Start, SwitchIn/SwitchOut, ExitTask, Reset, ...), their transition stacks,
// counters and flags, the runtime's state, and the HRESULT every raw call answers.
//
// It is written to be read, not to be fast: arrays, plain objects, one method per call, each
// following the README's rules table and docs/contract.md §3–§4 line by line. Where neither says which
// check comes first, the order is written down next to the method.
//
// General rules, applied by every method:
//   1. The runtime disabled (host.disable(), or after an E_FAIL) answers HOST_E_CLRNOTAVAILABLE,
//      for good, to every call, before anything else ("any call | runtime disabled", README).
//   2. A call that reaches the core while a fault is injected answers E_FAIL and disables the
//      runtime; nothing else changes. Every hosting call reaches the core (those that need
//      nothing else from it ask it whether the runtime is available). The host's own argument
//      checks (types, ranges, out objects) come first (so a bad LeaveRuntime target answers
//      E_INVALIDARG and leaves the fault armed); every other rule is decided after the fault.
//      CreateTask's stack size is checked by the core, after the fault.
//   3. A failing call changes nothing.

import {
  COR_E_STACKOVERFLOW,
  DEFAULT_STACK_BYTES,
  E_FAIL,
  E_INVALIDARG,
  E_NOTIMPL,
  E_UNEXPECTED,
  FRAME_BYTES,
  HOST_E_CLRNOTAVAILABLE,
  HOST_E_INVALIDOPERATION,
  HOST_E_NOT_OWNER,
  HOST_E_TIMEOUT,
  PRIORITIES,
  S_FALSE,
  S_OK,
  isDword,
} from "./hresults.js";

export type FrameKind = "leave" | "reverseEnter";
export interface MFrame {
  kind: FrameKind;
  target: number;
}

export const COUNTERS = [
  "leaveRuntime",
  "enterRuntime",
  "reverseEnterRuntime",
  "reverseLeaveRuntime",
  "unmatchedReverseEnter",
  "switchIn",
  "switchOut",
] as const;
export type MCounters = Record<(typeof COUNTERS)[number], number>;

export function zeroCounters(): MCounters {
  return {
    leaveRuntime: 0,
    enterRuntime: 0,
    reverseEnterRuntime: 0,
    reverseLeaveRuntime: 0,
    unmatchedReverseEnter: 0,
    switchIn: 0,
    switchOut: 0,
  };
}

/** What the host says of a task: getState(). */
export type HostState = "created" | "ready" | "running" | "waiting" | "done";

export interface MTask {
  /** Position in the model's task list (0: the root task). */
  readonly n: number;
  readonly root: boolean;
  /** The task's reservation, in frames. */
  readonly reserve: number;
  frames: MFrame[];
  counters: MCounters;
  /** The core's part of the task ended (ExitTask, or its fiber ended): its handle is stale. */
  ended: boolean;
  /** Start() succeeded: the scheduler drives it. */
  started: boolean;
  hostState: HostState;
  outcome: "pending" | "returned" | "aborted";
  delayAbort: boolean;
  affinity: number;
  preventAbort: number;
  yieldRequested: boolean;
  abortRequested: boolean;
  rudeAbort: boolean;
  /** The abort was asked for while the task was the current one: regions do not hold it back. */
  selfAbort: boolean;
  alerted: boolean;
  priority: number;
  locks: number;
  /** When it last joined the ready queue: FIFO within a priority. */
  readySeq: number;
}

export interface MCrst {
  owner: MTask | null;
  recursion: number;
}

/** The answer of a call with an out parameter. */
export interface WithOut<T> {
  hr: number;
  value?: T;
}

export interface ContractModelOptions {
  /** createHost({ maxStackSize }) in bytes (default 1 MiB). */
  maxStackSize: number;
  crsts: number;
}

const OPS = ["leave", "enter", "reverseEnter", "reverseLeave"] as const;
export type TransitionOp = (typeof OPS)[number];
const OP_COUNTER: Record<TransitionOp, keyof MCounters> = {
  leave: "leaveRuntime",
  enter: "enterRuntime",
  reverseEnter: "reverseEnterRuntime",
  reverseLeave: "reverseLeaveRuntime",
};

/** Thrown by the model's core() when the call answers at once (a guard or the injected fault). */
class Answer {
  constructor(readonly hr: number) {}
}

export class ContractModel {
  readonly tasks: MTask[] = [];
  readonly crsts: MCrst[] = [];
  current: MTask;
  disabled = false;
  suspended = false;
  faultArmed = false;
  /** Fibers held back in managed mode while the runtime is suspended, in the order they were. */
  held: MTask[] = [];
  private readySeq = 0;
  readonly maxStackSize: number;
  readonly defaultReserve: number;

  constructor(opts: ContractModelOptions) {
    this.maxStackSize = opts.maxStackSize;
    // CreateTask(0) reserves 16 KiB, or the maximum when that is smaller.
    this.defaultReserve = Math.floor(Math.min(DEFAULT_STACK_BYTES, opts.maxStackSize) / FRAME_BYTES);
    const root = this.newTask(this.defaultReserve, true);
    root.started = true;
    root.hostState = "running";
    this.current = root;
    for (let i = 0; i < opts.crsts; i++) this.crsts.push({ owner: null, recursion: 0 });
  }

  private newTask(reserve: number, root = false): MTask {
    const t: MTask = {
      n: this.tasks.length,
      root,
      reserve,
      frames: [],
      counters: zeroCounters(),
      ended: false,
      started: false,
      hostState: "created",
      outcome: "pending",
      delayAbort: false,
      affinity: 0,
      preventAbort: 0,
      yieldRequested: false,
      abortRequested: false,
      rudeAbort: false,
      selfAbort: false,
      alerted: false,
      priority: 0,
      locks: 0,
      readySeq: 0,
    };
    this.tasks.push(t);
    return t;
  }

  // --- what can be observed ------------------------------------------------------------------------

  mode(t: MTask): "managed" | "unmanaged" {
    const top = t.frames[t.frames.length - 1];
    return top !== undefined && top.kind === "reverseEnter" ? "managed" : "unmanaged";
  }

  /** The totals: every task's counters, ended tasks included. */
  totals(): MCounters {
    const sum = zeroCounters();
    for (const t of this.tasks) for (const c of COUNTERS) sum[c] += t.counters[c];
    return sum;
  }

  /** Tasks that are not done: counted by the host, so a fiber that ends on a disabled runtime is out. */
  liveTasks(): number {
    return this.tasks.filter((t) => !t.ended && t.hostState !== "done").length;
  }

  countManaged(): number {
    return this.tasks.filter((t) => !t.ended && this.mode(t) === "managed").length;
  }

  runtimeState(): "started" | "disabled" {
    return this.disabled ? "disabled" : "started";
  }

  // --- the general rules -----------------------------------------------------------------------------

  /** Rule 1 then rule 2, then `body` (which may throw an Answer); rule 3 is each body's care. */
  private call(hostChecks: () => void, body: () => number): number {
    try {
      if (this.disabled) return HOST_E_CLRNOTAVAILABLE;
      hostChecks();
      if (this.faultArmed) {
        this.fault();
        return E_FAIL;
      }
      return body();
    } catch (e) {
      if (e instanceof Answer) return e.hr;
      throw e;
    }
  }

  /** A call that needs nothing from the core but its availability. */
  private hostOnly(body: () => number): number {
    return this.call(() => {}, body);
  }

  private fault(): void {
    this.faultArmed = false;
    this.disableRuntime();
  }

  private disableRuntime(): void {
    this.disabled = true;
    this.suspended = false;
    this.releaseHeld();
  }

  /** The handle must name a task that has not ended. */
  private live(t: MTask): void {
    if (t.ended) throw new Answer(E_INVALIDARG);
  }

  /** The task has ended, whichever way: its frames go (open reverse enters counted), its locks are abandoned. */
  private end(t: MTask, outcome: "returned" | "aborted"): void {
    if (!this.disabled) {
      for (const f of t.frames) if (f.kind === "reverseEnter") t.counters.unmatchedReverseEnter++;
      t.frames = [];
      t.ended = true;
      if (this.current === t) this.current = this.tasks[0];
    }
    for (const c of this.crsts) {
      if (c.owner === t) {
        c.owner = null;
        c.recursion = 0;
      }
    }
    t.hostState = "done";
    t.outcome = outcome;
  }

  // --- IHostTaskManager -----------------------------------------------------------------------------

  getCurrentTask(): WithOut<MTask> {
    const hr = this.hostOnly(() => S_OK);
    return hr === S_OK ? { hr, value: this.current } : { hr };
  }

  /** CreateTask(stackSize): the core checks the size (after the fault); 0 means the default. */
  createTask(stackSize: number): WithOut<MTask> {
    let made: MTask | undefined;
    const hr = this.call(
      () => {},
      () => {
        if (!(stackSize >= 0) || !Number.isInteger(stackSize) || stackSize > this.maxStackSize) return E_INVALIDARG;
        made = this.newTask(stackSize === 0 ? this.defaultReserve : Math.floor(stackSize / FRAME_BYTES));
        return S_OK;
      },
    );
    return made ? { hr, value: made } : { hr };
  }

  /** Sleep and SwitchToTask cannot block the JS thread: HOST_E_INVALIDOPERATION (README, Limits). */
  sleep(): number {
    return this.hostOnly(() => HOST_E_INVALIDOPERATION);
  }
  switchToTask(): number {
    return this.hostOnly(() => HOST_E_INVALIDOPERATION);
  }
  setLocale(): number {
    return this.hostOnly(() => S_OK);
  }
  callNeedsHostHook(): WithOut<boolean> {
    const hr = this.hostOnly(() => S_OK);
    return hr === S_OK ? { hr, value: true } : { hr };
  }
  getStackGuarantee(): WithOut<number> {
    const hr = this.hostOnly(() => S_OK);
    return hr === S_OK ? { hr, value: 0 } : { hr };
  }
  setStackGuarantee(): number {
    return this.hostOnly(() => E_NOTIMPL);
  }

  /**
   * The four transitions on the current task (README rules table, docs/contract.md §3). Order: the
   * target (host), then the rule on the top frame, then the suspension (entering managed code
   * cannot wait in synchronous code: HOST_E_TIMEOUT at once), then the reservation.
   */
  transition(op: TransitionOp, target = 0): number {
    return this.call(
      () => {
        if (op === "leave" && !isDword(target)) throw new Answer(E_INVALIDARG);
      },
      () => {
        const t = this.current;
        const top = t.frames.length === 0 ? "none" : t.frames[t.frames.length - 1].kind;
        const valid =
          op === "leave"
            ? top === "reverseEnter"
            : op === "enter"
              ? top === "leave"
              : op === "reverseLeave"
                ? top === "reverseEnter"
                : true;
        if (!valid) return HOST_E_INVALIDOPERATION;
        if (this.suspended && (op === "enter" || op === "reverseEnter")) return HOST_E_TIMEOUT;
        if (op === "leave" || op === "reverseEnter") {
          if (t.frames.length >= t.reserve) return COR_E_STACKOVERFLOW;
          t.frames.push({ kind: op === "leave" ? "leave" : "reverseEnter", target: op === "leave" ? target : 0 });
        } else {
          t.frames.pop();
        }
        t.counters[OP_COUNTER[op]]++;
        t.yieldRequested = false; // a transition is where a yield request is honoured (docs/contract.md §4)
        return S_OK;
      },
    );
  }

  /** BeginDelayAbort / EndDelayAbort do not nest: E_UNEXPECTED for a second Begin or an End without one. */
  delayAbort(begin: boolean): number {
    return this.call(
      () => {},
      () => {
        const t = this.current;
        if (t.delayAbort === begin) return E_UNEXPECTED;
        t.delayAbort = begin;
        return S_OK;
      },
    );
  }

  /** BeginThreadAffinity nests: a count that may not go below 0. */
  threadAffinity(begin: boolean): number {
    return this.call(
      () => {},
      () => {
        const t = this.current;
        if (!begin && t.affinity === 0) return E_UNEXPECTED;
        t.affinity += begin ? 1 : -1;
        return S_OK;
      },
    );
  }

  // --- IHostTask / ICLRTask / ICLRTask2 ----------------------------------------------------------

  start(t: MTask): number {
    return this.call(
      () => {},
      () => {
        this.live(t);
        if (t.started) return HOST_E_INVALIDOPERATION;
        t.started = true;
        this.enqueue(t);
        return S_OK;
      },
    );
  }

  /**
   * SwitchIn by hand: for tasks the scheduler does not drive (a started task, the root task:
   * HOST_E_INVALIDOPERATION from the host); then the core: one task at a time.
   */
  /** SwitchIn by hand: of a created task only (the scheduler switches started tasks in). */
  switchIn(t: MTask): number {
    return this.call(
      () => {},
      () => {
        this.live(t);
        if (t.started) return HOST_E_INVALIDOPERATION;
        if (this.current !== this.tasks[0] || t.root) return HOST_E_INVALIDOPERATION;
        this.current = t;
        t.counters.switchIn++;
        return S_OK;
      },
    );
  }

  /**
   * SwitchOut by hand. A task switched in by hand may always be switched out again, even when it
   * was started meanwhile: otherwise the JS thread could never get the root task back.
   */
  switchOut(t: MTask): number {
    return this.call(
      () => {},
      () => {
        this.live(t);
        if (this.current !== t || t.root) return HOST_E_INVALIDOPERATION;
        this.current = this.tasks[0];
        t.counters.switchOut++;
        return S_OK;
      },
    );
  }

  /** ExitTask on the current task only: it has ended (open reverse enters are counted, not an error). */
  exitTask(t: MTask): number {
    return this.call(
      () => {},
      () => {
        this.live(t);
        if (t.root || this.current !== t) return HOST_E_INVALIDOPERATION;
        this.end(t, "returned");
        return S_OK;
      },
    );
  }

  /**
   * Reset(full) of a created, not started task: back to its first state. Frames cleared as at
   * ExitTask; regions, requests (yield, abort, alert) cleared; with `full`, the priority too.
   */
  reset(t: MTask, full: boolean): number {
    return this.call(
      () => {},
      () => {
        this.live(t);
        if (t.root || t.started) return HOST_E_INVALIDOPERATION;
        for (const f of t.frames) if (f.kind === "reverseEnter") t.counters.unmatchedReverseEnter++;
        t.frames = [];
        t.affinity = 0;
        t.preventAbort = 0;
        t.delayAbort = false;
        t.yieldRequested = false;
        t.abortRequested = false;
        t.rudeAbort = false;
        t.selfAbort = false;
        t.alerted = false;
        if (full) t.priority = 0;
        return S_OK;
      },
    );
  }

  abort(t: MTask, rude: boolean): number {
    return this.call(
      () => {},
      () => {
        this.live(t);
        if (t.root) return HOST_E_INVALIDOPERATION;
        t.abortRequested = true;
        if (rude) t.rudeAbort = true;
        if (this.current === t) t.selfAbort = true;
        // A rude abort is not held back for the collector.
        if (rude && t.hostState === "waiting") {
          this.held = this.held.filter((x) => x !== t);
          this.enqueue(t);
        }
        return S_OK;
      },
    );
  }

  /** YieldTask asks another task: on the calling (current) task HOST_E_INVALIDOPERATION; again: S_FALSE. */
  yieldTask(t: MTask): number {
    return this.call(
      () => {},
      () => {
        this.live(t);
        if (this.current === t) return HOST_E_INVALIDOPERATION;
        if (t.yieldRequested) return S_FALSE;
        t.yieldRequested = true;
        return S_OK;
      },
    );
  }

  setPriority(t: MTask, p: number): number {
    return this.call(
      () => {},
      () => {
        this.live(t);
        if (!PRIORITIES.includes(p)) return E_INVALIDARG; // (-0 is THREAD_PRIORITY_NORMAL)
        const moved = p !== t.priority;
        t.priority = p === 0 ? 0 : p;
        if (moved && t.hostState === "ready") this.enqueue(t); // to the back of its new level
        return S_OK;
      },
    );
  }

  getPriority(t: MTask): WithOut<number> {
    return this.read(t, () => t.priority);
  }

  needsPriorityScheduling(t: MTask): WithOut<boolean> {
    return this.read(t, () => this.mode(t) === "managed");
  }

  locksHeld(t: MTask): WithOut<number> {
    return this.read(t, () => t.locks);
  }

  private read<T>(t: MTask, value: () => T): WithOut<T> {
    let v: T | undefined;
    const hr = this.call(
      () => {},
      () => {
        this.live(t);
        v = value();
        return S_OK;
      },
    );
    return hr === S_OK ? { hr, value: v } : { hr };
  }

  alert(t: MTask): number {
    return this.call(
      () => {},
      () => {
        this.live(t);
        t.alerted = true;
        return S_OK;
      },
    );
  }

  /** SetTaskIdentifier takes a 64-bit unsigned id (a safe integer or a bigint): the host checks it. */
  setTaskIdentifier(t: MTask, id: number | bigint): number {
    return this.call(
      () => {
        const ok = typeof id === "bigint" ? id >= 0n && id < 1n << 64n : Number.isSafeInteger(id) && id >= 0;
        if (!ok) throw new Answer(E_INVALIDARG);
      },
      () => {
        this.live(t);
        return S_OK;
      },
    );
  }

  preventAsyncAbort(t: MTask, begin: boolean): number {
    return this.call(
      () => {},
      () => {
        this.live(t);
        if (!begin && t.preventAbort === 0) return E_UNEXPECTED;
        t.preventAbort += begin ? 1 : -1;
        return S_OK;
      },
    );
  }

  /** Join from synchronous code: S_OK when the task has ended, HOST_E_TIMEOUT for 0 ms, else HOST_E_INVALIDOPERATION. */
  join(t: MTask, ms: number): number {
    return this.hostOnly(() => (t.hostState === "done" ? S_OK : ms === 0 ? HOST_E_TIMEOUT : HOST_E_INVALIDOPERATION));
  }

  // --- IHostCrst, entered by the current task ---------------------------------------------------------

  /** TryEnter: S_OK with out = whether the caller now owns it (recursive). */
  crstTryEnter(c: MCrst): WithOut<boolean> {
    const caller = this.current;
    if (this.disabled) return { hr: HOST_E_CLRNOTAVAILABLE };
    if (c.owner === caller) {
      c.recursion++;
      return { hr: S_OK, value: true };
    }
    if (c.owner !== null) return { hr: S_OK, value: false };
    // Taking a free Crst counts it in the caller's LocksHeld: a call into the core.
    if (this.faultArmed) {
      this.fault();
      return { hr: E_FAIL };
    }
    c.owner = caller;
    c.recursion = 1;
    caller.locks++;
    return { hr: S_OK, value: true };
  }

  crstLeave(c: MCrst): number {
    if (this.disabled) return HOST_E_CLRNOTAVAILABLE;
    if (c.owner !== this.current) return HOST_E_NOT_OWNER;
    if (c.recursion > 1) {
      c.recursion--;
      return S_OK;
    }
    if (this.faultArmed) {
      this.fault();
      return E_FAIL;
    }
    c.owner.locks--;
    c.owner = null;
    c.recursion = 0;
    return S_OK;
  }

  // --- the runtime --------------------------------------------------------------------------------

  suspendRuntime(): number {
    return this.call(
      () => {},
      () => {
        if (this.suspended) return S_FALSE;
        this.suspended = true;
        return S_OK;
      },
    );
  }

  resumeRuntime(): number {
    return this.call(
      () => {},
      () => {
        if (!this.suspended) return S_FALSE;
        this.suspended = false;
        this.releaseHeld();
        return S_OK;
      },
    );
  }

  /** Fibers held back in managed mode for the collector become ready again, in order. */
  private releaseHeld(): void {
    const held = this.held;
    this.held = [];
    for (const t of held) this.enqueue(t);
  }

  private enqueue(t: MTask): void {
    t.hostState = "ready";
    t.readySeq = ++this.readySeq;
  }

  /** The next ready task: the highest priority first, FIFO within a priority (README, Scheduling). */
  private dequeue(): MTask | undefined {
    let next: MTask | undefined;
    for (const t of this.tasks) {
      if (t.hostState !== "ready") continue;
      if (!next || t.priority > next.priority || (t.priority === next.priority && t.readySeq < next.readySeq)) next = t;
    }
    if (next) next.hostState = "running";
    return next;
  }

  /** A switch the scheduler makes: counted only when the core takes it. */
  private coreSwitch(out: MTask | null, into: MTask | null): void {
    if (this.disabled) return;
    if (this.faultArmed) {
      this.fault();
      return;
    }
    if (out && !out.ended) out.counters.switchOut++;
    if (into && !into.ended) into.counters.switchIn++;
  }

  disable(): void {
    if (!this.disabled) this.disableRuntime();
  }

  /** The next call into the core traps: E_FAIL once, then the runtime is disabled (for good). */
  injectCoreFault(): void {
    if (!this.disabled) this.faultArmed = true;
  }

  /**
   * runUntilIdle() with every started task's body empty (`function* () {}`). It throws
   * HOST_E_INVALIDOPERATION while a task is switched in by hand and the runtime is enabled (on a
   * disabled runtime no fiber can reach a task's frames, so fibers run to unwind). Ready tasks run in
   * order (the highest priority first, FIFO within one). A task switched out in managed mode
   * while the runtime is suspended is held back (unless a rude abort is pending). A task is
   * switched in when it runs and switched out when another runs or the root task resumes
   * (README, Counters); one that ends is exited instead. At its first step a task ends aborted
   * when a rude abort, or an abort that no region holds back, is pending (the body never runs);
   * with a yield request it yields first (to the back of the queue); otherwise its body runs
   * and returns. While the runtime is disabled the core does not change (the host still ends
   * the fibers).
   */
  run(): number {
    if (this.current !== this.tasks[0] && !this.disabled) return HOST_E_INVALIDOPERATION;
    let switchedIn: MTask | null = null;
    for (let t = this.dequeue(); t; t = this.dequeue()) {
      if (this.suspended && !t.rudeAbort && this.mode(t) === "managed") {
        t.hostState = "waiting";
        this.held.push(t);
        continue;
      }
      if (switchedIn !== t) {
        this.coreSwitch(switchedIn, t);
        switchedIn = t;
      }
      const abortNow = t.rudeAbort || (t.abortRequested && (t.selfAbort || (!t.delayAbort && t.preventAbort === 0)));
      if (!abortNow && t.yieldRequested) {
        t.yieldRequested = false;
        this.enqueue(t);
        continue;
      }
      this.end(t, abortNow ? "aborted" : "returned");
      switchedIn = null;
    }
    if (switchedIn) this.coreSwitch(switchedIn, null);
    return S_OK;
  }
}
