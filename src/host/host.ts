// createHost: loads the core, makes the root task, and ties the task manager, the scheduler, the
// sync objects and the trace recorder together. This is the library's front door.

import { instantiateCore } from "../core/load.js";
import { CoreDoor, type Counters } from "../core/door.js";
import { RunState, Task } from "../task/task.js";
import { TaskManager } from "./task-manager.js";
import { Scheduler } from "../scheduler/scheduler.js";
import { bodyKindError } from "../kernel/commands.js";
import { defaultDispatch } from "../kernel/clock.js";
import type { FiberEnv, FiberStart } from "../fiber/context.js";
import { FiberTask } from "../fiber/fiber-task.js";
import { AutoEvent, Crst, ManualEvent, Semaphore, SyncObject, type SyncEnv } from "../sync/objects.js";
import { MADE_WITH } from "../sync/sync-object.js";
import { TraceRecorder } from "../trace/recorder.js";
import { E_INVALIDARG, S_OK, check } from "../base/hresult.js";
import { isInstance } from "../base/errors.js";
import { Interop } from "../interop/instantiate.js";
import type { Guest, InstantiateOptions } from "../interop/guest-types.js";
import { callExport } from "../interop/guest-call.js";
import {
  DEFAULT_STACK_SIZE,
  readHostOptions,
  readNameOption,
  unknownOptionError,
  readManualEventOptions,
  readSemaphoreArgs,
  traceClock,
  type HostOptions,
  type HostSettings,
} from "./options.js";
import { joinValue, spawnFiber, type SpawnOptions, type Spawner } from "./spawn.js";
import {
  RUNTIME_STATES,
  RunReporter,
  dumpTasks,
  type FiberDump,
  type RunReport,
  type RuntimeState,
} from "./inspect.js";

import { ENV as ENV_, STATE as STATE_ } from "../task/state.js";
import { IDX as IDX_ } from "../core/names.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const ENV: typeof ENV_ = ENV_;
const STATE: typeof STATE_ = STATE_;
const IDX: typeof IDX_ = IDX_;
export { DEFAULT_MAX_STACK_SIZE, DEFAULT_STACK_SIZE, MIN_MEMORY_BYTES } from "./options.js";
export type { HostOptions } from "./options.js";
export type { SpawnOptions } from "./spawn.js";
export type { FiberDump, RunReport, RuntimeState } from "./inspect.js";

const INSTANTIATE_OPTION_KEYS = [
  "suspending",
  "suspension",
  "asyncifyData",
  "target",
  "stack",
] as const satisfies readonly (keyof InstantiateOptions)[];
const INSPECT: unique symbol = Symbol.for("nodejs.util.inspect.custom") as never;

/** Creates a host with its own core instance. The core is compiled once per process and cached. */
export async function createHost(given: HostOptions = {}): Promise<Host> {
  const settings = readHostOptions(given);
  const door = new CoreDoor(
    await instantiateCore(settings.flavour, settings.maxPages, traceClock(settings.clock), settings.initialPages),
  );
  check(
    door.init(Math.min(DEFAULT_STACK_SIZE, settings.maxStackSize), settings.maxStackSize),
    "the core could not be initialised",
  );
  if (settings.startRuntime) door.startRuntime();
  return new Host(door, settings);
}

export class Host {
  readonly taskManager: TaskManager;
  /** The main JS context, as a task (a thread the host converted to a fiber). */
  readonly rootTask: Task;
  readonly trace: TraceRecorder;
  /** @internal */ readonly door: CoreDoor;
  /** @internal */ readonly sched: Scheduler;
  /** @internal by slot index */ protected readonly tasks: (Task | undefined)[] = [];
  private nextId = 1;
  private readonly hook: (target: number) => boolean;
  private readonly hookAnswers = new Map<number, boolean>();
  private readonly fiberEnv: FiberEnv;
  private readonly spawner: Spawner;
  /** @internal */ protected readonly syncEnv: SyncEnv;
  /** Why the runtime was disabled, when it was. */
  disabledReason: unknown = undefined;
  private readonly runs: RunReporter;

  /** @internal use createHost() */
  constructor(door: CoreDoor, settings: HostSettings) {
    this.door = door;
    this.hook = settings.callNeedsHostHook ?? (() => true);
    this.trace = new TraceRecorder(door, () => this.liveTasks());
    this.sched = new Scheduler(door, {
      clock: settings.clock,
      dispatch: settings.dispatch ?? defaultDispatch(),
      budget: settings.budget,
      enterTimeoutMs: settings.enterTimeoutMs,
      forget: (t) => {
        if (this.tasks[t[IDX]] === t) {
          this.tasks[t[IDX]] = undefined;
          this.live--;
        }
        this.taskEnded();
      },
      trace: this.trace,
      onError: settings.onError,
    });
    this.runs = new RunReporter(this.sched, () => this.dump(), settings.onDeadlock);
    door.onFault = (err) => {
      this.disabledReason = err;
      this.sched.runtimeDisabled(this.liveTasks());
      this.faulted();
    };
    this.fiberEnv = {
      sched: this.sched,
      door,
      needsHostHook: (target) => this.needsHostHook(target),
      // (Guarded: what a fiber passes may be a revoked Proxy, which throws on instanceof.)
      isOwnTask: (t): t is Task => isInstance(t, Task) && (t as Task)[ENV] === this.fiberEnv,
      isSyncObject: (o): o is SyncObject => isInstance(o, SyncObject) && (o as SyncObject)[MADE_WITH](this.syncEnv),
      callExport: (t, fn, args) => callExport(t, this.fiberEnv, fn, args),
      spawnChild: (parent, body, options) =>
        spawnFiber(this.spawner, body as FiberStart, options as SpawnOptions, parent),
      joinValue: (target) => joinValue(target, this.sched, (t) => t[ENV] === this.fiberEnv, this.rootTask),
      debug: settings.flavour === "debug",
    };
    this.spawner = {
      newFiber: (stackSize, start, param) => this.newFiber(stackSize, start, param, true),
      sched: this.sched,
      trace: this.trace,
      spawnSites: settings.spawnSites,
    };
    // The root task's slot from the core (its generation is read from the slot): 0 on a plain
    // core, another on a thread attached to a shared core.
    const rootIdx = door.rootIndex();
    this.rootTask = new Task(this.fiberEnv, rootIdx, 0, "root");
    this.rootTask[STATE] = RunState.Running;
    this.tasks[rootIdx] = this.rootTask;
    door.setRoot(this.rootTask);
    const currentTask = (): Task => this.tasks[door.currentIdx()] ?? this.rootTask;
    this.syncEnv = { sched: this.sched, door, rootTask: this.rootTask, currentTask };
    this.taskManager = new TaskManager({
      door,
      sched: this.sched,
      currentTask,
      newTask: (stackSize, start, param) => this.newTask(stackSize, start, param),
      needsHostHook: (target) => this.needsHostHook(target),
      available: () => door.available(),
    });
  }

  private newTask(stackSize: number, start: FiberStart, param: unknown): Task | number {
    if (bodyKindError(start, "createTask") !== null) return this.door.orUnavailable(E_INVALIDARG);
    return this.newFiber(stackSize, start, param, false);
  }

  /**
   * CreateTask of a body already checked; `started`: and Start in the same call into the core (a
   * spawn's: the scheduler's half of Start is then left to task.start()).
   */
  private newFiber(stackSize: number, start: FiberStart, param: unknown, started: boolean): Task | number {
    const idx = started ? this.door.createStarted(stackSize) : this.door.createTask(stackSize);
    if (idx < 0) return idx >>> 0;
    const id = this.nextId++;
    const t = new FiberTask(this.fiberEnv, idx, id, start, param);
    this.tasks[idx] = t;
    this.live++;
    return t;
  }

  /** @internal A task ended; the core failed (E_FAIL): a host of a shared runtime tells its other threads. */
  protected taskEnded(): void {}
  protected faulted(): void {}

  private needsHostHook(target: number): boolean {
    let answer = this.hookAnswers.get(target);
    if (answer === undefined) {
      answer = this.hook(target) !== false;
      this.hookAnswers.set(target, answer);
    }
    return answer;
  }

  /** @internal */
  protected *liveTasks(): Iterable<Task> {
    for (const t of this.tasks) if (t) yield t;
  }

  /**
   * Creates and starts a fiber (CreateTask + Start). `body` is a generator function called as
   * `body(f, param)`. Throws HResultError on bad options or when the core is out of memory.
   */
  spawn<R, P = undefined>(body: FiberStart<P, R>, options?: SpawnOptions<P>): Task<R> {
    return spawnFiber(this.spawner, body as FiberStart, options, null) as Task<R>;
  }

  /**
   * Settles when no fiber can make progress any more, with a report: fibers that returned and that
   * threw since the call, and those left blocked (reported to onDeadlock: see dump()). A real-clock
   * host drives itself (anything that makes a fiber ready schedules its pump): run() only waits
   * until it is idle. A virtual-clock host runs only when run() or runUntilIdle() drives it.
   */
  run(): Promise<RunReport> {
    return this.runs.run();
  }

  /**
   * Runs synchronously until idle, advancing a virtual clock; never waits for real time or
   * promises. The explicit, deterministic way to drive a virtual-clock host (a real-clock one too).
   */
  runUntilIdle(): void {
    this.sched.runUntilIdle();
  }

  /** The runtime's stop-the-world: S_OK, or S_FALSE when it already is suspended. */
  suspendRuntime(): number {
    return this.sched.suspendRuntime();
  }

  resumeRuntime(): number {
    const hr = this.sched.resumeRuntime();
    if (hr === S_OK) this.interop?.runtimeResumed();
    return hr;
  }

  /** Starts a runtime made with createHost({ startRuntime: false }). */
  startRuntime(): number {
    return this.door.startRuntime();
  }

  /** Disables the runtime for good: every later call answers HOST_E_CLRNOTAVAILABLE. */
  disable(reason?: unknown): void {
    this.disabledReason = reason;
    this.door.disable();
    this.sched.runtimeDisabled(this.liveTasks());
  }

  /** Test hook: the next call into the core traps (it answers E_FAIL; the runtime is then disabled). */
  injectCoreFault(): void {
    this.door.armTrap();
  }

  get runtimeState(): RuntimeState {
    return RUNTIME_STATES[this.door.runtimeState()];
  }

  /** The totals of every task's counters, ended tasks included. */
  counters(): Counters {
    return this.door.totals();
  }

  /** Live tasks in managed mode, counted by the core in one pass. */
  countManaged(): number {
    return this.door.countManaged();
  }

  /** Checks the core's invariants (the debug core asserts them): true when they hold. */
  checkInvariants(): boolean {
    return this.door.checkInvariants();
  }

  /** Bytes of linear memory the core holds. */
  get coreMemoryBytes(): number {
    return this.door.memoryBytes();
  }

  /**
   * Live fibers (and the root task): the fibers that are not done. Counted here, not by the core:
   * on a disabled runtime the core frees no slot, but fibers still end.
   */
  get liveTaskCount(): number {
    return this.live;
  }
  private live = 1;

  private interop: Interop | null = null;

  /**
   * Instantiates a WebAssembly guest whose every crossing is hooked: its exports run between
   * ReverseEnterRuntime and ReverseLeaveRuntime, its function imports between LeaveRuntime(target)
   * and EnterRuntime, on the current task; callNeedsHostHook is asked once per import, here.
   * Suspending imports let `yield* f.call(export, …)` block inside the guest (src/interop/).
   */
  // biome-ignore lint/suspicious/noExplicitAny: a guest's exports are untyped unless the caller names them
  instantiate<E = Record<string, any>>(
    source: WebAssembly.Module | BufferSource,
    imports?: object,
    options?: InstantiateOptions,
  ): Promise<Guest<E>> {
    const wrong = unknownOptionError(options, INSTANTIATE_OPTION_KEYS, "instantiate");
    if (wrong !== null) return Promise.reject(wrong);
    this.interop ??= new Interop({
      door: this.door,
      needsHostHook: (target) => this.needsHostHook(target),
    });
    return this.interop.instantiate(source, imports, options) as Promise<Guest<E>>;
  }

  now(): number {
    return this.sched.clock.now();
  }

  /** A Crst; `{ name }` shows in dump(), the trace and messages. */
  createCrst(options?: { name?: string }): Crst {
    return new Crst(this.syncEnv, readNameOption(options, "createCrst"));
  }

  createAutoEvent(options?: { name?: string }): AutoEvent {
    return new AutoEvent(this.syncEnv, readNameOption(options, "createAutoEvent"));
  }

  /** `createManualEvent(true)`, or `createManualEvent({ initialState, name })`. */
  createManualEvent(initialState: boolean | { initialState?: boolean; name?: string } = false): ManualEvent {
    const { state, name } = readManualEventOptions(initialState);
    return new ManualEvent(this.syncEnv, state, name);
  }

  createSemaphore(initial: number, maximum: number, options?: { name?: string }): Semaphore {
    readSemaphoreArgs(initial, maximum);
    return new Semaphore(this.syncEnv, initial, maximum, readNameOption(options, "createSemaphore"));
  }

  /** One line: `Host: 3 live tasks, runtime started`. */
  toString(): string {
    return `Host: ${this.live} live task${this.live === 1 ? "" : "s"}, runtime ${this.runtimeState}`;
  }

  toJSON(): { liveTasks: number; runtimeState: RuntimeState; tasks: FiberDump[] } {
    return { liveTasks: this.live, runtimeState: this.runtimeState, tasks: this.dump() };
  }

  /** @internal */
  [INSPECT](): string {
    return this.toString();
  }

  /** Every live task: id, name, state, mode, depth, frames, counters and what it waits on. */
  dump(): FiberDump[] {
    return dumpTasks(this.liveTasks());
  }
}
