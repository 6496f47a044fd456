// createHost's and spawn's options: their defaults, and the checks that turn bad ones into
// HResultError(E_INVALIDARG) before anything is made.

import type { CoreFlavour } from "../core/load.js";
import { RealClock, VirtualClock, type Clock, type Dispatch } from "../kernel/clock.js";
import { E_INVALIDARG, HResultError, INFINITE } from "../base/hresult.js";
import { describeValue, isDword, readOptions } from "../base/args.js";
import type { Task } from "../task/task.js";
import { defaultOnDeadlock, defaultOnError, type FiberDump } from "./inspect.js";

/** Bytes a task's transition stack may hold when CreateTask passes 0 (2,048 frames of 8 bytes). */
export const DEFAULT_STACK_SIZE = 16 * 1024;
/** The default of createHost({ maxStackSize }): 131,072 frames. */
export const DEFAULT_MAX_STACK_SIZE = 1024 * 1024;
const WASM_PAGE = 64 * 1024;
const MAX_WASM_PAGES = 65536;
/**
 * The smallest createHost({ maxMemoryBytes }): 3 pages hold the core's fixed areas (header, chunk
 * table, free lists: ~33 KiB) and its first chunk of 1,024 task slots (60 KiB), with room left for
 * frame buffers, side records and a small trace ring. Below it the core could not even make the root task.
 */
export const MIN_MEMORY_BYTES = 3 * WASM_PAGE;
/**
 * The default of createHost({ initialMemoryBytes }): 1 MiB, about 11,000 fibers parked in managed
 * code at once (a task's slot is 60 bytes, its smallest frame buffer 32) before the core's
 * memory has to grow. Small because V8 counts a memory's whole initial size as external memory
 * (src/core/load.ts): 64 MiB made every createHost start a full GC.
 */
export const DEFAULT_INITIAL_MEMORY_BYTES = 16 * WASM_PAGE;

export interface HostOptions {
  /** 'release' (default) or 'debug' (assertions on). (The shared core is not a host option: it needs a shared memory.) */
  core?: "release" | "debug";
  /**
   * 'real' (default: performance.now; the host drives itself), 'virtual' (runs only when run() or
   * runUntilIdle() drives it, jumping to the next timer when all fibers wait), or a clock (real).
   */
  clock?: "real" | "virtual" | { now(): number };
  /** How the pump is scheduled, and returns to the event loop between slices (default: setImmediate, else MessageChannel). */
  dispatch?: Dispatch;
  /** Fiber steps per slice of the pump (default 1024). */
  budget?: number;
  /** ms an enter into managed code waits for a suspended runtime (default INFINITE). */
  enterTimeoutMs?: number;
  /** The largest stack size CreateTask accepts, in bytes (default 1 MiB). */
  maxStackSize?: number;
  /** The most linear memory the core may use, in bytes (default and at most 4 GiB). */
  maxMemoryBytes?: number;
  /**
   * Bytes of linear memory reserved for the core at creation (default 1 MiB, about 11,000 parked
   * fibers; at least MIN_MEMORY_BYTES, at most maxMemoryBytes; rounded up to 64 KiB pages). The
   * core grows its memory only past it, and a growth slows every typed-array access in the
   * process (the transitions' fast path among them) for good; each byte of it counts towards V8's
   * external memory, and every 64 MB of that starts a garbage collection.
   */
  initialMemoryBytes?: number;
  /** Record each fiber's spawn site (a stack trace) for its errors: costs about a microsecond a spawn. */
  spawnSites?: boolean;
  /** IHostTaskManager::CallNeedsHostHook: asked once per target (default: every target needs the hook). */
  callNeedsHostHook?: (target: number) => boolean;
  /** Start the runtime at once (default true); otherwise calls answer HOST_E_CLRNOTAVAILABLE until host.startRuntime(). */
  startRuntime?: boolean;
  /**
   * A fiber ended with an error nothing observed (its result was not asked for, no fiber joined
   * it, it has no parent to fail), as Node decides an unhandled rejection: called once no run() is
   * pending (the one it failed in has settled) and a macrotask has passed, so that every microtask
   * after the settle has run (`await host.run(); await t.result` observes it in time); with no
   * run() pending, a macrotask after the fiber's end. What looks at it only after a macrotask of
   * its own (a setTimeout, an I/O callback) is too late: it was reported. Called at most once a fiber; handling it here is observing it. Default:
   * console.error with the fiber's name and id, the error, its frames and what to do.
   */
  onError?: (err: unknown, task: Task) => void;
  /**
   * run() ended with fibers blocked, nothing pending that could wake them: each one, as dump()
   * shows it. Default: console.warn naming each fiber and what it waits on.
   */
  onDeadlock?: (blocked: FiberDump[]) => void;
}

/** createHost's options, checked, with their defaults. */
export interface HostSettings {
  flavour: CoreFlavour;
  clock: Clock;
  dispatch: Dispatch | undefined;
  budget: number;
  enterTimeoutMs: number;
  maxStackSize: number;
  /** The core's memory limit, in wasm pages. */
  maxPages: number;
  /** The core's memory reserved at creation, in wasm pages (at most maxPages). */
  initialPages: number;
  spawnSites: boolean;
  callNeedsHostHook: ((target: number) => boolean) | undefined;
  startRuntime: boolean;
  onError: (err: unknown, task: Task) => void;
  onDeadlock: (blocked: FiberDump[]) => void;
}

const HOST_OPTION_KEYS = [
  "core",
  "clock",
  "dispatch",
  "budget",
  "enterTimeoutMs",
  "maxStackSize",
  "maxMemoryBytes",
  "initialMemoryBytes",
  "spawnSites",
  "callNeedsHostHook",
  "startRuntime",
  "onError",
  "onDeadlock",
] as const satisfies readonly (keyof HostOptions)[];
export function fail(message: string): never {
  throw new HResultError(E_INVALIDARG, message);
}

/**
 * Refuses an options object with a name it does not know (`budgt` for `budget`): E_INVALIDARG
 * listing the known ones. A Proxy whose ownKeys throws is refused too.
 */
export function refuseUnknownOptions(options: object, known: readonly string[], what: string): void {
  let unknown: string | null = null;
  try {
    // for…in, not Object.keys: spawn's common `{}` and `{ name }` make no array.
    for (const k in options) {
      if (!known.includes(k) && Object.hasOwn(options, k)) {
        unknown = k;
        break;
      }
    }
  } catch {
    return fail(`${what}: reading the options object threw`);
  }
  if (unknown !== null) fail(`${what}: unknown option ${JSON.stringify(unknown)}; the options are ${known.join(", ")}`);
}

/** The error refuseUnknownOptions would throw for an options object (null: none; not an object: the caller's). */
export function unknownOptionError(options: unknown, known: readonly string[], what: string): unknown {
  if (typeof options !== "object" || options === null) return null;
  try {
    refuseUnknownOptions(options, known, what);
    return null;
  } catch (err) {
    return err;
  }
}

/** createManualEvent's argument: a boolean initial state, or `{ initialState, name }`. */
export function readManualEventOptions(given: unknown): { state: boolean; name: string | null } {
  if (typeof given === "boolean") return { state: given, name: null };
  if (typeof given !== "object" || given === null)
    fail(`createManualEvent takes a boolean initial state or { initialState, name }, not ${describeValue(given)}`);
  refuseUnknownOptions(given, ["initialState", "name"], "createManualEvent");
  const o = readOptions(given as { initialState?: boolean; name?: string }, ["initialState", "name"]);
  if (o === null) fail("createManualEvent: reading the options object threw");
  const state = o.initialState ?? false;
  if (typeof state !== "boolean")
    fail(`createManualEvent: initialState must be a boolean, not ${describeValue(state)}`);
  return { state, name: readNameOption(o.name === undefined ? undefined : { name: o.name }, "createManualEvent") };
}

/** createSemaphore's counts. */
export function readSemaphoreArgs(initial: number, maximum: number): void {
  if (!Number.isInteger(maximum) || maximum < 1 || maximum > 0x7fffffff)
    fail(`createSemaphore: maximum must be a positive integer, not ${describeValue(maximum)}`);
  if (!Number.isInteger(initial) || initial < 0 || initial > maximum)
    fail(`createSemaphore: initial must be an integer in 0 … ${maximum}, not ${describeValue(initial)}`);
}

/** `{ name }`, the options of createCrst, createAutoEvent, createSemaphore: the name, or null. */
export function readNameOption(options: unknown, what: string): string | null {
  if (options === undefined) return null;
  if (typeof options !== "object" || options === null)
    fail(`${what}: options must be an object, not ${describeValue(options)}`);
  refuseUnknownOptions(options, ["name"], what);
  const { name } =
    readOptions(options as { name?: string }, ["name"]) ?? fail(`${what}: reading the options object threw`);
  if (name !== undefined && typeof name !== "string")
    fail(`${what}: name must be a string, not ${describeValue(name)}`);
  return name ?? null;
}

/** Reads and checks createHost's options: HResultError(E_INVALIDARG) naming the first bad one. */
export function readHostOptions(given: HostOptions): HostSettings {
  if (typeof given !== "object" || given === null) fail("createHost takes an options object");
  refuseUnknownOptions(given, HOST_OPTION_KEYS, "createHost");
  const options = readOptions(given, HOST_OPTION_KEYS) ?? fail("createHost: reading the options object threw");
  const flavour = options.core ?? "release";
  if (flavour !== "release" && flavour !== "debug")
    fail(`createHost: core must be 'release' or 'debug', not ${describeValue(flavour)}`);
  const maxStackSize = options.maxStackSize ?? DEFAULT_MAX_STACK_SIZE;
  if (!isDword(maxStackSize) || maxStackSize > 0x7fffffff)
    fail(`createHost: maxStackSize must be a byte count, not ${describeValue(maxStackSize)}`);
  const maxMemory = options.maxMemoryBytes ?? MAX_WASM_PAGES * WASM_PAGE;
  if (typeof maxMemory !== "number" || !(maxMemory >= MIN_MEMORY_BYTES))
    fail(
      `createHost: maxMemoryBytes must be at least ${MIN_MEMORY_BYTES} (MIN_MEMORY_BYTES), not ${describeValue(maxMemory)}`,
    );
  const maxPages = Math.min(MAX_WASM_PAGES, Math.floor(maxMemory / WASM_PAGE));
  const initialPages = readInitialPages(options.initialMemoryBytes, maxMemory, maxPages);
  const budget = options.budget ?? 1024;
  if (!Number.isInteger(budget) || budget < 1)
    fail(`createHost: budget must be a positive integer, not ${describeValue(budget)}`);
  const enterTimeoutMs = options.enterTimeoutMs ?? INFINITE;
  if (!isDword(enterTimeoutMs))
    fail(
      `createHost: enterTimeoutMs must be an integer in 0 … 2^32−1 (INFINITE), not ${describeValue(enterTimeoutMs)}`,
    );
  if (options.callNeedsHostHook !== undefined && typeof options.callNeedsHostHook !== "function")
    fail("createHost: callNeedsHostHook must be a function");
  for (const hook of ["onError", "onDeadlock"] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== "function")
      fail(`createHost: ${hook} must be a function, not ${describeValue(options[hook])}`);
  }
  if (options.dispatch !== undefined && typeof options.dispatch !== "function")
    fail(`createHost: dispatch must be a function (run) => void, not ${describeValue(options.dispatch)}`);
  return {
    flavour,
    clock: makeClock(options.clock),
    dispatch: options.dispatch,
    budget,
    enterTimeoutMs,
    maxStackSize,
    maxPages,
    initialPages,
    spawnSites: options.spawnSites === true,
    callNeedsHostHook: options.callNeedsHostHook,
    startRuntime: options.startRuntime !== false,
    onError: options.onError ?? defaultOnError,
    onDeadlock: options.onDeadlock ?? defaultOnDeadlock,
  };
}

/** createHost({ initialMemoryBytes }) in pages: the default is capped by the budget, a given value is not. */
function readInitialPages(given: unknown, maxMemory: number, maxPages: number): number {
  if (given === undefined) return Math.min(maxPages, DEFAULT_INITIAL_MEMORY_BYTES / WASM_PAGE);
  if (typeof given !== "number" || !Number.isFinite(given) || given < MIN_MEMORY_BYTES || given > maxMemory)
    fail(
      `createHost: initialMemoryBytes must be at least ${MIN_MEMORY_BYTES} (MIN_MEMORY_BYTES) and at most maxMemoryBytes (${maxMemory}), not ${describeValue(given)}`,
    );
  return Math.min(maxPages, Math.ceil(given / WASM_PAGE));
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
        if (typeof ms !== "number" || Number.isNaN(ms))
          throw new HResultError(
            E_INVALIDARG,
            `the host's clock.now() answered ${typeof ms === "number" ? "NaN" : typeof ms}, not a number of ms`,
          );
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
export function traceClock(clock: Clock): () => number {
  let last = 0;
  return () => {
    try {
      return (last = clock.now());
    } catch {
      return last;
    }
  };
}
