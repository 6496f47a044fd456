// createHost: loads the core, makes the root task, and ties the task manager, the scheduler, the
// sync objects and the trace recorder together. This is the library's front door.

import { instantiateCore, type CoreFlavour } from "./core/load.js";
import { CoreDoor, type Counters, type Frame } from "./core/door.js";
import { RuntimeState as CoreRuntimeState } from "./core/generated/layout.js";
import { Task, type FiberStart, type TaskState } from "./task.js";
import { TaskManager } from "./task-manager.js";
import { Scheduler } from "./scheduler/scheduler.js";
import { bodyKindError } from "./scheduler/op.js";
import { RealClock, VirtualClock, defaultDispatch, type Clock, type Dispatch } from "./scheduler/clock.js";
import { FiberContext, type FiberEnv } from "./fiber-context.js";
import { AutoEvent, Crst, ManualEvent, Semaphore, SyncObject, type SyncEnv } from "./sync.js";
import { TraceRecorder } from "./trace.js";
import { E_INVALIDARG, HResultError, INFINITE, check } from "./hresult.js";
import { PRIORITY_LEVELS, describeValue, isDword, readOptions } from "./args.js";
import { Interop, type Guest, type InstantiateOptions } from "./interop/instantiate.js";
import { callExport } from "./interop/call-op.js";

/** Bytes a task's transition stack may hold when CreateTask passes 0 (2,048 frames of 8 bytes). */
export const DEFAULT_STACK_SIZE = 16 * 1024;
/** The default of createHost({ maxStackSize }): 131,072 frames. */
export const DEFAULT_MAX_STACK_SIZE = 1024 * 1024;
const WASM_PAGE = 64 * 1024;
const MAX_WASM_PAGES = 65536;
/**
 * The smallest createHost({ maxMemoryBytes }): 3 pages hold the core's fixed areas (header, chunk
 * table, free lists: ~33 KiB) and its first chunk of 1,024 task slots (120 KiB), with room left for
 * frame buffers and a small trace ring. Below it the core could not even make the root task.
 */
export const MIN_MEMORY_BYTES = 3 * WASM_PAGE;

export interface HostOptions {
  /** 'release' (default) or 'debug' (assertions on). */
  core?: CoreFlavour;
  /** 'real' (default: performance.now), 'virtual' (jumps to the next timer when all fibers wait), or a clock. */
  clock?: "real" | "virtual" | { now(): number };
  /** How run() returns to the event loop between slices (default: setImmediate, else MessageChannel). */
  dispatch?: Dispatch;
  /** Fiber steps per slice of run() (default 1024). */
  budget?: number;
  /** ms an enter into managed code waits for a suspended runtime (default INFINITE). */
  enterTimeoutMs?: number;
  /** The largest stack size CreateTask accepts, in bytes (default 1 MiB). */
  maxStackSize?: number;
  /** The most linear memory the core may use, in bytes (default and at most 4 GiB). */
  maxMemoryBytes?: number;
  /** Record each fiber's spawn site (a stack trace) for its errors: costs about a microsecond a spawn. */
  spawnSites?: boolean;
  /** IHostTaskManager::CallNeedsHostHook: asked once per target (default: every target needs the hook). */
  callNeedsHostHook?: (target: number) => boolean;
  /** Start the runtime at once (default true); otherwise calls answer HOST_E_CLRNOTAVAILABLE until host.startRuntime(). */
  startRuntime?: boolean;
}

export interface SpawnOptions<P = unknown> {
  name?: string;
  /** A THREAD_PRIORITY value. */
  priority?: number;
  /** Bytes of transition stack (CreateTask's stack size; 0: the default). */
  stackSize?: number;
  /** Aborting the signal aborts the fiber. */
  signal?: AbortSignal;
  /** The second argument of the body. */
  param?: P;
}

export interface FiberDump {
  id: number;
  name: string;
  state: TaskState;
  mode: "managed" | "unmanaged";
  depth: number;
  frames: Frame[];
  counters: Counters;
  waitingOn: string | null;
}

export type RuntimeState = "notStarted" | "started" | "disabled";
const RUNTIME_STATES = {
  [CoreRuntimeState.NOT_STARTED]: "notStarted",
  [CoreRuntimeState.STARTED]: "started",
  [CoreRuntimeState.DISABLED]: "disabled",
} as const satisfies Record<CoreRuntimeState, RuntimeState>;

const HOST_OPTION_KEYS = [
  "core", "clock", "dispatch", "budget", "enterTimeoutMs", "maxStackSize", "maxMemoryBytes", "spawnSites",
  "callNeedsHostHook", "startRuntime",
] as const satisfies readonly (keyof HostOptions)[];
const SPAWN_OPTION_KEYS = ["name", "priority", "stackSize", "signal", "param"] as const satisfies readonly (keyof SpawnOptions)[];

function fail(message: string): never {
  throw new HResultError(E_INVALIDARG, message);
}

function makeClock(clock: HostOptions["clock"]): Clock {
  if (clock === undefined || clock === "real") return new RealClock();
  if (clock === "virtual") return new VirtualClock();
  if (typeof clock === "object" && clock !== null && typeof readOptions(clock, ["now"])?.now === "function") {
    return {
      now: () => {
        // Checked at each read: a clock answering something else than a number would make every
        // deadline NaN or a string. What it throws rejects the run() that read it.
        const ms = clock.now();
        if (typeof ms !== "number" || Number.isNaN(ms)) throw new HResultError(E_INVALIDARG, `the host's clock.now() answered ${typeof ms === "number" ? "NaN" : typeof ms}, not a number of ms`);
        return ms;
      },
      virtual: false,
    };
  }
  return fail(`createHost: clock must be 'real', 'virtual' or an object with now(), not ${describeValue(clock)}`);
}

/**
 * The clock the core reads for trace timestamps: what a user clock throws or answers wrongly must
 * not trap the core (a trap disables the runtime for good), so the last good reading stands in;
 * the scheduler's own reads of the clock report the failure.
 */
function traceClock(clock: Clock): () => number {
  let last = 0;
  return () => {
    try {
      return (last = clock.now());
    } catch {
      return last;
    }
  };
}

const abortedGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted")!.get!;
const addListener = EventTarget.prototype.addEventListener;
const removeListener = EventTarget.prototype.removeEventListener;

/** Whether `signal` is aborted, or null when it is not a real AbortSignal. */
function signalAborted(signal: unknown): boolean | null {
  try {
    return abortedGetter.call(signal) as boolean;
  } catch {
    return null;
  }
}

/** Creates a host with its own core instance. The core is compiled once per process and cached. */
export async function createHost(given: HostOptions = {}): Promise<Host> {
  if (typeof given !== "object" || given === null) fail("createHost takes an options object");
  const options = readOptions(given, HOST_OPTION_KEYS) ?? fail("createHost: reading the options object threw");
  const flavour = options.core ?? "release";
  if (flavour !== "release" && flavour !== "debug") fail(`createHost: core must be 'release' or 'debug', not ${describeValue(flavour)}`);
  const maxStackSize = options.maxStackSize ?? DEFAULT_MAX_STACK_SIZE;
  if (!isDword(maxStackSize) || maxStackSize > 0x7fffffff) fail(`createHost: maxStackSize must be a byte count, not ${describeValue(maxStackSize)}`);
  const maxMemory = options.maxMemoryBytes ?? MAX_WASM_PAGES * WASM_PAGE;
  if (typeof maxMemory !== "number" || !(maxMemory >= MIN_MEMORY_BYTES)) fail(`createHost: maxMemoryBytes must be at least ${MIN_MEMORY_BYTES} (MIN_MEMORY_BYTES), not ${describeValue(maxMemory)}`);
  const budget = options.budget ?? 1024;
  if (!Number.isInteger(budget) || budget < 1) fail(`createHost: budget must be a positive integer, not ${describeValue(budget)}`);
  const enterTimeoutMs = options.enterTimeoutMs ?? INFINITE;
  if (!isDword(enterTimeoutMs)) fail(`createHost: enterTimeoutMs must be an integer in 0 … 2^32−1 (INFINITE), not ${describeValue(enterTimeoutMs)}`);
  if (options.callNeedsHostHook !== undefined && typeof options.callNeedsHostHook !== "function") fail("createHost: callNeedsHostHook must be a function");
  if (options.dispatch !== undefined && typeof options.dispatch !== "function") fail(`createHost: dispatch must be a function (run) => void, not ${describeValue(options.dispatch)}`);
  const clock = makeClock(options.clock);
  const maxPages = Math.min(MAX_WASM_PAGES, Math.floor(maxMemory / WASM_PAGE));
  const door = new CoreDoor(await instantiateCore(flavour, maxPages, traceClock(clock)));
  check(door.init(Math.min(DEFAULT_STACK_SIZE, maxStackSize), maxStackSize), "the core could not be initialised");
  if (options.startRuntime !== false) door.startRuntime();
  return new Host(door, clock, { ...options, budget, enterTimeoutMs });
}

export class Host {
  readonly taskManager: TaskManager;
  /** The main JS context, as a task (a thread the host converted to a fiber). */
  readonly rootTask: Task;
  readonly trace: TraceRecorder;
  /** @internal */ readonly door: CoreDoor;
  /** @internal */ readonly sched: Scheduler;
  private readonly tasks: (Task | undefined)[] = [];
  private nextId = 1;
  private readonly spawnSites: boolean;
  private readonly hook: (target: number) => boolean;
  private readonly hookAnswers = new Map<number, boolean>();
  private readonly fiberEnv: FiberEnv;
  private readonly syncEnv: SyncEnv;
  /** Why the runtime was disabled, when it was. */
  disabledReason: unknown = undefined;

  /** @internal use createHost() */
  constructor(door: CoreDoor, clock: Clock, options: HostOptions & { budget: number; enterTimeoutMs: number }) {
    this.door = door;
    this.spawnSites = options.spawnSites === true;
    this.hook = options.callNeedsHostHook ?? (() => true);
    this.trace = new TraceRecorder(door, () => this.liveTasks());
    this.sched = new Scheduler(door, {
      clock,
      dispatch: options.dispatch ?? defaultDispatch(),
      budget: options.budget,
      enterTimeoutMs: options.enterTimeoutMs,
      makeContext: (t) => (t.ctx = new FiberContext(this.fiberEnv, t)),
      forget: (t) => {
        if (this.tasks[t.idx] === t) {
          this.tasks[t.idx] = undefined;
          this.live--;
        }
      },
      trace: this.trace,
    });
    door.onFault = (err) => {
      this.disabledReason = err;
      this.sched.runtimeDisabled();
    };
    this.rootTask = new Task(this, 0, 0, "root", null, undefined);
    this.rootTask.state = "running";
    this.tasks[0] = this.rootTask;
    door.setRoot(this.rootTask);
    this.fiberEnv = {
      sched: this.sched,
      door,
      needsHostHook: (target) => this.needsHostHook(target),
      isOwnTask: (t): t is Task => t instanceof Task && t.host === this,
      isSyncObject: (o): o is SyncObject => o instanceof SyncObject && (o as unknown as { env: SyncEnv }).env === this.syncEnv,
      callExport: (t, fn, args) => callExport(t, this.fiberEnv, fn, args),
    };
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
    const idx = this.door.createTask(stackSize);
    if (idx < 0) return idx >>> 0;
    const id = this.nextId++;
    const t = new Task(this, idx, id, null, start, param);
    this.tasks[idx] = t;
    this.live++;
    return t;
  }

  private needsHostHook(target: number): boolean {
    let answer = this.hookAnswers.get(target);
    if (answer === undefined) {
      answer = this.hook(target) !== false;
      this.hookAnswers.set(target, answer);
    }
    return answer;
  }

  private *liveTasks(): Iterable<Task> {
    for (const t of this.tasks) if (t) yield t;
  }

  /**
   * Creates and starts a fiber (CreateTask + Start). `body` is a generator function called as
   * `body(f, param)`. Throws HResultError on bad options or when the core is out of memory.
   */
  spawn<R, P = undefined>(body: FiberStart<P, R>, options: SpawnOptions<P> = {}): Task {
    const wrongBody = bodyKindError(body, "spawn(body)");
    if (wrongBody !== null) fail(wrongBody);
    if (typeof options !== "object" || options === null) fail("spawn: options must be an object");
    const { name, priority, stackSize = 0, signal, param } = readOptions(options, SPAWN_OPTION_KEYS) ?? fail("spawn: reading the options object threw");
    if (name !== undefined && typeof name !== "string") fail("spawn: name must be a string");
    // Asked through the platform's own getter, before the task exists: an object that only
    // inherits from AbortSignal is refused here, not half-way through spawn.
    const aborted = signal === undefined ? false : (signalAborted(signal) ?? fail("spawn: signal must be an AbortSignal"));
    // Checked before the task exists, so a bad priority leaves no task behind.
    if (priority !== undefined && !PRIORITY_LEVELS.includes(priority)) fail(`spawn: priority must be a THREAD_PRIORITY value, not ${describeValue(priority)}`);
    const t = this.newTask(stackSize, body, param);
    if (typeof t === "number") throw new HResultError(t, `spawn: CreateTask failed (stack size ${describeValue(stackSize)})`);
    if (name !== undefined) t.name = name;
    if (this.spawnSites) t.spawnSite = new Error().stack?.split("\n").slice(2).join("\n");
    if (priority !== undefined) check(this.sched.setPriority(t, priority), "spawn: setPriority failed");
    this.trace.named(t);
    check(t.start(), `spawn: could not start fiber ${t.name}`);
    if (signal) {
      if (aborted) t.abort();
      else {
        const onAbort = (): void => void t.abort();
        // The signal's own methods (a wrapper may watch them); should they throw, the platform's:
        // the task is started by now, and spawn must not fail half-way.
        let remove = (): void => signal.removeEventListener("abort", onAbort);
        try {
          signal.addEventListener("abort", onAbort, { once: true });
        } catch {
          addListener.call(signal, "abort", onAbort, { once: true });
          remove = () => removeListener.call(signal, "abort", onAbort);
        }
        // A long-lived signal shared by many short fibers must not keep the ended ones alive.
        t.onEnd = remove;
      }
    }
    return t;
  }

  /** Settles when no fiber can make progress any more (some may stay blocked: see dump()). */
  run(): Promise<void> {
    return this.sched.run();
  }

  /** Runs synchronously until idle, advancing a virtual clock; never waits for real time or promises. */
  runUntilIdle(): void {
    this.sched.runUntilIdle();
  }

  /** The runtime's stop-the-world: S_OK, or S_FALSE when it already is suspended. */
  suspendRuntime(): number {
    return this.sched.suspendRuntime();
  }

  resumeRuntime(): number {
    return this.sched.resumeRuntime();
  }

  /** Starts a runtime made with createHost({ startRuntime: false }). */
  startRuntime(): number {
    return this.door.startRuntime();
  }

  /** Disables the runtime for good: every later call answers HOST_E_CLRNOTAVAILABLE. */
  disable(reason?: unknown): void {
    this.disabledReason = reason;
    this.door.disable();
    this.sched.runtimeDisabled();
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
  instantiate<E = Record<string, any>>(source: WebAssembly.Module | BufferSource, imports?: object, options?: InstantiateOptions): Promise<Guest<E>> {
    this.interop ??= new Interop({ door: this.door, sched: this.sched, needsHostHook: (target) => this.needsHostHook(target) });
    return this.interop.instantiate(source, imports, options) as Promise<Guest<E>>;
  }

  now(): number {
    return this.sched.clock.now();
  }

  createCrst(): Crst {
    return new Crst(this.syncEnv);
  }

  createAutoEvent(): AutoEvent {
    return new AutoEvent(this.syncEnv);
  }

  createManualEvent(initialState = false): ManualEvent {
    if (typeof initialState !== "boolean") fail("createManualEvent takes a boolean initial state");
    return new ManualEvent(this.syncEnv, initialState);
  }

  createSemaphore(initial: number, maximum: number): Semaphore {
    if (!Number.isInteger(maximum) || maximum < 1 || maximum > 0x7fffffff) fail(`createSemaphore: maximum must be a positive integer, not ${describeValue(maximum)}`);
    if (!Number.isInteger(initial) || initial < 0 || initial > maximum) fail(`createSemaphore: initial must be an integer in 0 … ${maximum}, not ${describeValue(initial)}`);
    return new Semaphore(this.syncEnv, initial, maximum);
  }

  /** Every live task: id, name, state, mode, depth, frames, counters and what it waits on. */
  dump(): FiberDump[] {
    const out: FiberDump[] = [];
    for (const t of this.liveTasks()) {
      out.push({
        id: t.id,
        name: t.name,
        state: t.state,
        mode: t.mode,
        depth: t.depth,
        frames: t.frames(),
        counters: t.counters(),
        waitingOn: t.waitOn ? t.waitOn.describe() : t.state === "waiting" ? "the runtime to resume (held in managed mode)" : null,
      });
    }
    return out;
  }
}
