// The trace recorder: a ring buffer of events in linear memory, off by default. While it is off
// the CTL_TRACING bit is clear and nothing here runs; while it is on, transitions leave the
// host's fast path so that each one is recorded here.

import {
  H_TRACE_BASE, H_TRACE_CAPACITY, H_TRACE_CLASS, H_TRACE_COUNT, CTL_TRACING, CTL_NOT_STARTED, CTL_DISABLED,
  TRACE_EVENT_SIZE, FRAME_SIZE, T_GEN,
} from "./layout";
import { hdr, setHdr, ctl, ctlOr, ctlClear, hdrAdd, slotAddr, field, enterCore } from "./state";
import { freeFrames, frameClass } from "./heap";
import { allocateBuffer } from "./frames";
import { S_OK, E_OUTOFMEMORY, E_INVALIDARG, HOST_E_CLRNOTAVAILABLE } from "./hresult";

@external("env", "now")
declare function hostNow(): f64;

/**
 * Starts recording into a ring of `capacity` events. The ring comes from the frame buffers'
 * size classes: a smaller capacity reuses the ring there is, and a ring outgrown goes back to
 * its class's free list, so restarting the trace at any sizes never leaks.
 */
export function traceStart(capacity: i32): i32 {
  enterCore();
  if (ctl() & (CTL_NOT_STARTED | CTL_DISABLED)) return HOST_E_CLRNOTAVAILABLE;
  if (capacity <= 0 || capacity > (1 << 24)) return E_INVALIDARG;
  const cls = frameClass(capacity * (TRACE_EVENT_SIZE / FRAME_SIZE));
  const old = <usize>hdr(H_TRACE_BASE);
  if (old == 0 || cls > hdr(H_TRACE_CLASS)) {
    const ring = allocateBuffer(cls);
    if (ring == 0) return E_OUTOFMEMORY;
    if (old != 0) freeFrames(old, hdr(H_TRACE_CLASS));
    setHdr(H_TRACE_BASE, <i32>ring);
    setHdr(H_TRACE_CLASS, cls);
  }
  setHdr(H_TRACE_CAPACITY, capacity);
  setHdr(H_TRACE_COUNT, 0);
  ctlOr(CTL_TRACING);
  return S_OK;
}

export function traceStop(): void {
  ctlClear(CTL_TRACING);
}

/** Records an event (the host's export: its own events, a fiber's name on a wait…). */
export function record(kind: i32, idx: i32, arg: i32): void {
  traceEvent(kind, idx, arg);
}

/**
 * Records an event while the trace is on. The core's own calls inline the check: with the trace
 * off, a switch or an exit pays one load for it, not a call.
 */
// @ts-ignore: decorator
@inline export function traceEvent(kind: i32, idx: i32, arg: i32): void {
  if (ctl() & CTL_TRACING) writeEvent(kind, idx, arg);
}

function writeEvent(kind: i32, idx: i32, arg: i32): void {
  // The event's index is claimed first (by an atomic add in the shared build: threads that
  // record at once write different events).
  const n = hdrAdd(H_TRACE_COUNT, 1);
  const at = <usize>hdr(H_TRACE_BASE) + <usize>(<u32>n % <u32>hdr(H_TRACE_CAPACITY)) * TRACE_EVENT_SIZE;
  store<f64>(at, hostNow());
  store<i32>(at, kind, 8);
  store<i32>(at, idx, 12);
  store<i32>(at, field(slotAddr(idx), T_GEN), 16);
  store<i32>(at, arg, 20);
}
