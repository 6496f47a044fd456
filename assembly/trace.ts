// The trace recorder: a ring buffer of events in linear memory, off by default. While it is off
// the CTL_TRACING bit is clear and nothing here runs; while it is on, transitions leave the
// host's fast path so that each one is recorded here.

import { H_TRACE_BASE, H_TRACE_CAPACITY, H_TRACE_COUNT, H_CTL, CTL_TRACING, TRACE_EVENT_SIZE, T_GEN } from "./layout";
import { hdr, setHdr, ctl, slotAddr, field } from "./state";
import { allocate } from "./heap";
import { S_OK, E_OUTOFMEMORY, E_INVALIDARG } from "./hresult";

@external("env", "now")
declare function hostNow(): f64;

/** Starts recording into a ring of `capacity` events (a larger ring than before is allocated anew). */
export function traceStart(capacity: i32): i32 {
  if (capacity <= 0 || capacity > (1 << 24)) return E_INVALIDARG;
  if (capacity > hdr(H_TRACE_CAPACITY)) {
    const ring = allocate(<usize>capacity * TRACE_EVENT_SIZE);
    if (ring == 0) return E_OUTOFMEMORY;
    setHdr(H_TRACE_BASE, <i32>ring);
  }
  setHdr(H_TRACE_CAPACITY, capacity);
  setHdr(H_TRACE_COUNT, 0);
  setHdr(H_CTL, ctl() | CTL_TRACING);
  return S_OK;
}

export function traceStop(): void {
  setHdr(H_CTL, ctl() & ~CTL_TRACING);
}

export function record(kind: i32, idx: i32, arg: i32): void {
  if ((ctl() & CTL_TRACING) == 0) return;
  const n = hdr(H_TRACE_COUNT);
  const at = <usize>hdr(H_TRACE_BASE) + <usize>(<u32>n % <u32>hdr(H_TRACE_CAPACITY)) * TRACE_EVENT_SIZE;
  store<f64>(at, hostNow());
  store<i32>(at, kind, 8);
  store<i32>(at, idx, 12);
  store<i32>(at, field(slotAddr(idx), T_GEN), 16);
  store<i32>(at, arg, 20);
  setHdr(H_TRACE_COUNT, n + 1);
}
