// fiberhost: a cooperative fiber scheduler implementing the CLR hosting task-management contract.
export * from "./base/hresult.js";
export { Host, DEFAULT_STACK_SIZE, DEFAULT_MAX_STACK_SIZE, MIN_MEMORY_BYTES } from "./host/host.js";
export type { HostOptions, SpawnOptions, FiberDump, RunReport, RuntimeState } from "./host/host.js";
// One runtime across worker threads (src/threads/): createHost({ threads, entry }) is a pool.
export { createHost, PoolHost, type PoolOptions, type PoolTask } from "./threads/pool.js";
export { createSharedCore, joinHost } from "./threads/create.js";
export { ThreadHost, type SharedCoreHandle, type RuntimeTaskDump } from "./threads/thread-host.js";
export { RemoteTask } from "./threads/remote-task.js";
export { poolWorkerHost } from "./threads/pool-worker.js";
export type { SlotHandle as TaskHandle } from "./threads/coord.js";
export {
  SharedObject,
  SharedAutoEvent,
  SharedManualEvent,
  SharedSemaphore,
  type SharedObjectHandle,
} from "./threads/shared-objects.js";
export { SharedCrst } from "./threads/shared-crst.js";
export { Task } from "./task/task.js";
export type { TaskState } from "./task/task.js";
export { TaskManager } from "./host/task-manager.js";
export { FiberContext, AWAIT_TARGET, MAXIMUM_WAIT_OBJECTS } from "./fiber/context.js";
export type { FiberStart, WaitAnyResult } from "./fiber/context.js";
export { Crst, AutoEvent, ManualEvent, Semaphore } from "./sync/objects.js";
export type { ScopedBody } from "./sync/objects.js";
export { TaskAbortError, isTaskAbortError } from "./base/errors.js";
export type { FiberInfo } from "./base/errors.js";
export type { Counters, CounterName, Frame } from "./core/door.js";
export { COUNTER_NAMES } from "./core/door.js";
export type { Out } from "./base/out.js";
export type { Op } from "./operations/operation.js";
export { TraceRecorder } from "./trace/recorder.js";
export type { ChromeTrace, ChromeTraceEvent } from "./trace/recorder.js";
export { FIRST_IMPORT_TARGET } from "./interop/guest-types.js";
export type { FunctionImportInfo, Guest, InstantiateOptions } from "./interop/guest-types.js";
export type { SuspensionMode } from "./interop/guest.js";
export type { GuestStackKind, StackOption, StackPointer } from "./interop/stack-types.js";
