// fiberhost's core: the task table, each task's transition stack, the counters and the runtime's
// state, in linear memory. The host layer's door (src/core/door.ts) is its only caller.

export * from "./layout";
export { RULES } from "./transitions";
export { transition } from "./transitions";
export {
  init, createTask, createStarted, start, switchIn, switchOut, exitTask, reset, abort, abortDeliverable,
  abortDelivered, resetAbort, delayAbort, threadAffinity, preventAsyncAbort, locksHeldAdd, setPriority, yieldTask,
  takeFlag, alert, setTaskIdentifier, check, exchange, available,
} from "./tasks";
export {
  startRuntime, runtimeState, suspend, syncSuspension, disable, armTrap, countManaged, sumTotals, presetCounter,
  liveCount,
} from "./runtime";
export { checkInvariants } from "./invariants";
export { attach, threadIndex, threadAddr, threadCtlAddr, rootIndex, reapThread } from "./threads";
export { ownerOf } from "./state";
export { traceStart, traceStop, record } from "./trace";
import { HEADER, slotAddr } from "./state";
import { CHUNKS, heapBytes } from "./heap";

/** Bytes the core has taken (whole pages): the memory is reserved whole, but only these are used. */
export function usedBytes(): f64 {
  return <f64>heapBytes();
}

export function headerAddr(): usize {
  return HEADER;
}
/** The chunk table: one u32 address per chunk of CHUNK_SLOTS slots (the host computes a slot's address from it). */
export function chunksAddr(): usize {
  return CHUNKS;
}
export function slotAddress(idx: i32): usize {
  return slotAddr(idx);
}
