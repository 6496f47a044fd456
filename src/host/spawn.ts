// spawn's options and signal, checked before the task exists (so a bad one leaves no task behind),
// and `yield* task`'s join: what host.spawn and f.spawn share.

import { PRIORITY_LEVELS, describeValue } from "../base/args.js";
import { E_INVALIDARG, HOST_E_INVALIDOPERATION, HResultError, S_OK, check } from "../base/hresult.js";
import type { Task } from "../task/task.js";
import type { FiberStart } from "../fiber/context.js";
import type { TraceRecorder } from "../trace/recorder.js";
import { bodyKindError } from "../kernel/commands.js";
import { currentFiber } from "../scheduler/driving.js";
import type { SchedulerPort } from "../scheduler/port.js";
import { JoinValueOp } from "../operations/await-join.js";
import { ThrowOp } from "../operations/basic.js";
import { fail, refuseUnknownOptions } from "./options.js";

import { EXTRA as EXTRA_, EXTRAS as EXTRAS_ } from "../task/state.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const EXTRA: typeof EXTRA_ = EXTRA_;
const EXTRAS: typeof EXTRAS_ = EXTRAS_;
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

const SPAWN_OPTION_KEYS = [
  "name",
  "priority",
  "stackSize",
  "signal",
  "param",
] as const satisfies readonly (keyof SpawnOptions)[];

/** spawn's options as read: the defaults, or what an options object gave. */
export type ReadSpawnOptions<P = unknown> = SpawnOptions<P> & { stackSize: number; aborted: boolean };

/** What no options (`undefined`) mean: one shared object, so a spawn without options reads none. */
const NO_OPTIONS: ReadSpawnOptions<never> = Object.freeze({
  name: undefined,
  priority: undefined,
  stackSize: 0,
  signal: undefined,
  param: undefined,
  aborted: false,
});

/** spawn's options, checked before the task exists (so a bad one leaves no task behind). */
export function readSpawnOptions<P>(options: SpawnOptions<P> | undefined, what = "spawn"): ReadSpawnOptions<P> {
  if (options === undefined) return NO_OPTIONS;
  if (typeof options !== "object" || options === null) fail(`${what}: options must be an object`);
  if (!onlySpawnOptions(options)) refuseUnknownOptions(options, SPAWN_OPTION_KEYS, what);
  // Each option read once, in the order of SPAWN_OPTION_KEYS (a getter may count its reads).
  let name: unknown;
  let priority: unknown;
  let stackSize: unknown;
  let signal: unknown;
  let param: unknown;
  try {
    name = options.name;
    priority = options.priority;
    stackSize = options.stackSize;
    signal = options.signal;
    param = options.param;
  } catch {
    fail(`${what}: reading the options object threw`);
  }
  if (name !== undefined && typeof name !== "string") fail(`${what}: name must be a string`);
  // Asked through the platform's own getter, before the task exists: an object that only
  // inherits from AbortSignal is refused here, not half-way through spawn.
  const aborted =
    signal === undefined ? false : (signalAborted(signal) ?? fail(`${what}: signal must be an AbortSignal`));
  if (priority !== undefined && !PRIORITY_LEVELS.includes(priority as number))
    fail(`${what}: priority must be a THREAD_PRIORITY value, not ${describeValue(priority)}`);
  return {
    name: name as string | undefined,
    priority: priority as number | undefined,
    stackSize: stackSize === undefined ? 0 : (stackSize as number),
    signal: signal as AbortSignal | undefined,
    param: param as P,
    aborted,
  };
}

/**
 * True when every enumerable key of `options` is a spawn option (`{ param }`, `{ name }`…): the
 * common case, checked without a search of SPAWN_OPTION_KEYS per key. False sends the object to
 * refuseUnknownOptions, which names the unknown key (or that enumerating it threw).
 */
function onlySpawnOptions(options: object): boolean {
  try {
    for (const k in options) {
      switch (k) {
        case "name":
        case "priority":
        case "stackSize":
        case "signal":
        case "param":
          continue;
        default:
          return false;
      }
    }
  } catch {
    return false;
  }
  return true;
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

/**
 * Calls `onAbort` once when `signal` aborts; answers how to stop listening. The signal's own
 * methods are used (a wrapper may watch them); should they throw, the platform's: the task is
 * started by then, and spawn must not fail half-way.
 */
const reasonGetter = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "reason")!.get!;

/** The reason of a real AbortSignal (read through the platform's getter). */
export function signalReason(signal: AbortSignal): unknown {
  try {
    return reasonGetter.call(signal);
  } catch {
    return undefined;
  }
}

export function listenForAbort(signal: AbortSignal, onAbort: () => void): () => void {
  try {
    signal.addEventListener("abort", onAbort, { once: true });
    return () => signal.removeEventListener("abort", onAbort);
  } catch {
    addListener.call(signal, "abort", onAbort, { once: true });
    return () => removeListener.call(signal, "abort", onAbort);
  }
}

const EMPTY: readonly never[] = [];

/** @internal `yield* target` in the fiber running now: a JoinValueOp, or an operation that throws why it cannot be. */
export function joinValue(
  target: Task,
  sched: SchedulerPort,
  isOwn: (t: Task) => boolean,
  rootTask: Task,
): Iterator<unknown, unknown, unknown> {
  const t = currentFiber();
  const refuse = (why: string) =>
    new ThrowOp(rootTask, new HResultError(E_INVALIDARG, `yield* task ${target.id} (${target.name}): ${why}`));
  // Outside any fiber a task iterates as an empty collection: generic code that walks iterables
  // (a test matcher's equality, a spread) must not throw. `yield*` happens only in a fiber.
  if (t === null) return EMPTY[Symbol.iterator]();
  if (!isOwn(t)) return refuse("used in a fiber of another host (use f.await(task.result))");
  if (target === rootTask) return refuse("the root task never ends");
  return new JoinValueOp(t, sched, target);
}

/** @internal What spawn needs of its host. */
export interface Spawner {
  /**
   * CreateTask of a body already checked (bodyKindError), started in the core in the same call
   * (task.start() then does the scheduler's half): the task, or the HRESULT that refused it.
   */
  newFiber(stackSize: number, start: FiberStart, param: unknown): Task | number;
  sched: { setPriority(t: Task, priority: number): number; adopt(parent: Task, child: Task): void };
  trace: TraceRecorder;
  spawnSites: boolean;
}

/** @internal host.spawn (parent null: detached) and f.spawn (a child of `parent`): CreateTask, then Start. */
export function spawnFiber(
  host: Spawner,
  body: FiberStart,
  options: SpawnOptions | undefined,
  parent: Task | null,
): Task {
  const what = parent === null ? "spawn" : "f.spawn";
  const wrongBody = bodyKindError(body, parent === null ? "spawn(body)" : "f.spawn(body)");
  if (wrongBody !== null) fail(wrongBody);
  if (parent !== null && (parent.done || parent[EXTRA]?.family?.ending != null))
    throw new HResultError(HOST_E_INVALIDOPERATION, `f.spawn: fiber ${parent.name} has ended; it can have no children`);
  const { name, priority, stackSize, signal, param, aborted } = readSpawnOptions(options, what);
  const t = host.newFiber(stackSize, body, param);
  if (typeof t === "number")
    throw new HResultError(t, `${what}: CreateTask failed (stack size ${describeValue(stackSize)})`);
  if (name !== undefined) t.name = name;
  // (Below the message: this frame and host.spawn's, or this one, f.spawn's and its env's.)
  if (host.spawnSites)
    t[EXTRAS]().spawnSite = new Error().stack
      ?.split("\n")
      .slice(parent === null ? 3 : 4)
      .join("\n");
  if (priority !== undefined) check(host.sched.setPriority(t, priority), `${what}: setPriority failed`);
  host.trace.named(t);
  if (parent !== null) host.sched.adopt(parent, t);
  const started = t.start();
  // (Its message made only when it fails: a name and a string per spawn cost more than the check.)
  if (started !== S_OK) check(started, `${what}: could not start fiber ${t.name}`);
  if (signal) {
    if (aborted) t.abort(signalReason(signal));
    // A long-lived signal shared by many short fibers must not keep the ended ones alive.
    else t[EXTRAS]().onEnd = listenForAbort(signal, () => void t.abort(signalReason(signal)));
  }
  return t;
}
