// fiberhost: a cooperative fiber scheduler implementing the CLR hosting task-management contract.
export * from "./hresult.js";
export { createHost, Host, DEFAULT_STACK_SIZE, DEFAULT_MAX_STACK_SIZE, MIN_MEMORY_BYTES } from "./host.js";
export type { HostOptions, SpawnOptions, FiberDump, RuntimeState } from "./host.js";
export { Task } from "./task.js";
export type { TaskState, FiberStart } from "./task.js";
export { TaskManager } from "./task-manager.js";
export { FiberContext, AWAIT_TARGET } from "./fiber-context.js";
export { Crst, AutoEvent, ManualEvent, Semaphore } from "./sync.js";
export { TaskAbortError, isTaskAbortError } from "./errors.js";
export type { FiberInfo } from "./errors.js";
export type { Counters, CounterName, Frame } from "./core/door.js";
export { COUNTER_NAMES } from "./core/door.js";
export type { Out } from "./out.js";
export type { Op } from "./scheduler/op.js";
export { TraceRecorder } from "./trace.js";
export type { ChromeTraceEvent } from "./trace.js";
