// Making a shared runtime and attaching threads to it: createSharedCore makes a core on a shared
// memory and the first thread's host; its `handle` is posted to a worker, whose joinHost(handle)
// attaches a host of its own to the same core (thread-host.ts).

import { attachCore, instantiateCore } from "../core/load.js";
import { CoreDoor } from "../core/door.js";
import { E_INVALIDARG, E_OUTOFMEMORY, HOST_E_CLRNOTAVAILABLE, HResultError, check } from "../base/hresult.js";
import { describeValue } from "../base/describe.js";
import { DEFAULT_STACK_SIZE, readHostOptions, traceClock, type HostSettings } from "../host/options.js";
import type { HostOptions } from "../host/host.js";
import { COORD_BYTES, hasWaitAsync } from "./coord.js";
import { ThreadHost, type SharedCoreHandle } from "./thread-host.js";

/** The default reservation of a shared core: 16 MiB (a shared memory is reserved whole: see load.ts). */
const DEFAULT_SHARED_PAGES = 256;

/** Why threads cannot be used here, or null when they can. */
export function threadsUnavailable(): string | null {
  // Isolation first: a page that is not cross-origin isolated has no SharedArrayBuffer either, and
  // what it needs is the two headers.
  const g = globalThis as { crossOriginIsolated?: boolean };
  if (g.crossOriginIsolated === false)
    return (
      "this page is not cross-origin isolated, so it has no SharedArrayBuffer: serve it with the headers " +
      "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp"
    );
  if (typeof SharedArrayBuffer !== "function" || !hasWaitAsync())
    return "this JavaScript engine has no SharedArrayBuffer or Atomics.waitAsync (Node >= 20, a current Chromium)";
  return null;
}

/**
 * Makes a runtime on a shared memory and this thread's host of it (thread 0). Post `host.handle`
 * to a worker and call joinHost(handle) there. The options are createHost's (but `core`: a shared
 * core is a release core); the memory is reserved whole at creation (initialMemoryBytes, default
 * 16 MiB, or maxMemoryBytes when given).
 */
export function createSharedCore(options: HostOptions = {}): Promise<ThreadHost> {
  return makeSharedCore(options, (door, settings, handle) => new ThreadHost(door, settings, handle));
}

/** @internal createSharedCore, making the first thread's host with `make` (a pool's host). */
export async function makeSharedCore<H extends ThreadHost>(
  options: HostOptions,
  make: (door: CoreDoor, settings: HostSettings, handle: SharedCoreHandle) => H,
): Promise<H> {
  const why = threadsUnavailable();
  if (why !== null) throw new HResultError(HOST_E_CLRNOTAVAILABLE, `createSharedCore: ${why}`);
  const settings = readHostOptions(options);
  if (options.core === "debug")
    throw new HResultError(E_INVALIDARG, "createSharedCore: a shared core is a release core");
  const pages =
    options.maxMemoryBytes !== undefined
      ? settings.maxPages
      : Math.min(settings.maxPages, Math.max(settings.initialPages, DEFAULT_SHARED_PAGES));
  const instance = await instantiateCore("shared", pages, sharedTraceClock(options, settings), pages);
  const door = new CoreDoor(instance);
  check(
    door.init(Math.min(DEFAULT_STACK_SIZE, settings.maxStackSize), settings.maxStackSize),
    "the core could not be initialised",
  );
  if (settings.startRuntime) door.startRuntime();
  const handle: SharedCoreHandle = {
    kind: "fiberhost shared core",
    memory: instance.memory,
    coord: new SharedArrayBuffer(COORD_BYTES),
    pages,
    maxStackSize: settings.maxStackSize,
  };
  return make(door, settings, handle);
}

/**
 * Attaches this thread (a worker) to the runtime of `handle`: a host whose fibers run here and
 * share the runtime's tasks, state, counters and shared objects. The options are createHost's
 * scheduling ones (clock, dispatch, budget, onError, …); the memory options belong to the runtime.
 */
export async function joinHost(handle: SharedCoreHandle, options: HostOptions = {}): Promise<ThreadHost> {
  const why = threadsUnavailable();
  if (why !== null) throw new HResultError(HOST_E_CLRNOTAVAILABLE, `joinHost: ${why}`);
  const given = readHandle(handle);
  if (given === null)
    throw new HResultError(
      E_INVALIDARG,
      `joinHost: ${describeValue(handle)} is not a shared core's handle: post host.handle of a host made by createSharedCore`,
    );
  // (readHostOptions answers options that are not an object, or whose getters throw.)
  const settings = readHostOptions(options);
  for (const key of ["core", "maxMemoryBytes", "initialMemoryBytes", "maxStackSize", "startRuntime"] as const) {
    let set = true;
    try {
      set = options[key] !== undefined;
    } catch {}
    if (set)
      throw new HResultError(
        E_INVALIDARG,
        `joinHost: ${key} belongs to the runtime (createSharedCore), not to a thread`,
      );
  }
  settings.maxStackSize = given.maxStackSize;
  let instance: Awaited<ReturnType<typeof attachCore>>;
  try {
    instance = await attachCore(given.memory, given.pages, sharedTraceClock(options, settings));
  } catch (err) {
    throw new HResultError(E_OUTOFMEMORY, `joinHost: ${(err as Error).message} (a runtime takes 32 threads at most)`);
  }
  const door = new CoreDoor(instance);
  return new ThreadHost(door, settings, given);
}

/**
 * The trace's clock: on a real clock, ms since the epoch (performance.timeOrigin + now()), since
 * each thread's performance.now() counts from its own start and one ring holds every thread's events.
 */
function sharedTraceClock(options: HostOptions, settings: HostSettings): () => number {
  let clock: unknown;
  try {
    clock = options.clock; // (read once already by readHostOptions: a getter may answer otherwise now)
  } catch {}
  if (clock !== undefined && clock !== "real") return traceClock(settings.clock);
  const origin = performance.timeOrigin;
  return () => origin + performance.now();
}

/** The handle's fields, each read once (a getter answers once; one that throws, or a revoked Proxy: null). */
function readHandle(h: unknown): SharedCoreHandle | null {
  try {
    if (typeof h !== "object" || h === null) return null;
    const { kind, memory, coord, pages, maxStackSize } = h as SharedCoreHandle;
    const ok =
      kind === "fiberhost shared core" &&
      memory instanceof WebAssembly.Memory &&
      coord instanceof SharedArrayBuffer &&
      coord.byteLength === COORD_BYTES &&
      Number.isInteger(pages) &&
      Number.isInteger(maxStackSize);
    return ok ? { kind, memory, coord, pages, maxStackSize } : null;
  } catch {
    return null;
  }
}
