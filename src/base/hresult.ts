// The contract's numbers (docs/contract.md §2), in the unsigned
// form that every fiberhost API answers with.

import { describeValue } from "./describe.js";

export const S_OK = 0x00000000;
export const S_FALSE = 0x00000001;
export const E_NOTIMPL = 0x80004001;
export const E_POINTER = 0x80004003;
export const E_FAIL = 0x80004005;
export const E_OUTOFMEMORY = 0x8007000e;
export const E_INVALIDARG = 0x80070057;
export const E_UNEXPECTED = 0x8000ffff;
export const HOST_E_DEADLOCK = 0x80131020;
export const HOST_E_INTERRUPTED = 0x80131021;
export const HOST_E_INVALIDOPERATION = 0x80131022;
export const HOST_E_CLRNOTAVAILABLE = 0x80131023;
export const HOST_E_TIMEOUT = 0x80131024;
export const HOST_E_NOT_OWNER = 0x80131025;
export const HOST_E_ABANDONED = 0x80131026;
export const HOST_E_EXITPROCESS_THREADABORT = 0x80131027;
export const HOST_E_EXITPROCESS_ADUNLOAD = 0x80131028;
export const HOST_E_EXITPROCESS_TIMEOUT = 0x80131029;
export const HOST_E_EXITPROCESS_OUTOFMEMORY = 0x8013102a;
export const HOST_E_EXITPROCESS_STACKOVERFLOW = 0x8013102b;
export const COR_E_STACKOVERFLOW = 0x800703e9;

/** WAIT_OPTION flags. */
export const WAIT_MSGPUMP = 0x1;
export const WAIT_ALERTABLE = 0x2;
export const WAIT_NOTINDEADLOCK = 0x4;

/** A wait without a time limit. */
export const INFINITE = 0xffffffff;

export const THREAD_PRIORITY_IDLE = -15;
export const THREAD_PRIORITY_LOWEST = -2;
export const THREAD_PRIORITY_BELOW_NORMAL = -1;
export const THREAD_PRIORITY_NORMAL = 0;
export const THREAD_PRIORITY_ABOVE_NORMAL = 1;
export const THREAD_PRIORITY_HIGHEST = 2;
export const THREAD_PRIORITY_TIME_CRITICAL = 15;

/** ETaskType (ICLRTaskManager::GetCurrentTaskType). */
export const TT_DEBUGGERHELPER = 0x1;
export const TT_GC = 0x2;
export const TT_FINALIZER = 0x4;
export const TT_THREADPOOL_TIMER = 0x8;
export const TT_THREADPOOL_GATE = 0x10;
export const TT_THREADPOOL_WORKER = 0x20;
export const TT_THREADPOOL_IOCOMPLETION = 0x40;
export const TT_ADUNLOAD = 0x80;
export const TT_USER = 0x100;
export const TT_THREADPOOL_WAIT = 0x200;
export const TT_UNKNOWN = 0x80000000;

const NAMES: Record<number, string> = {
  [S_OK]: "S_OK",
  [S_FALSE]: "S_FALSE",
  [E_NOTIMPL]: "E_NOTIMPL",
  [E_POINTER]: "E_POINTER",
  [E_FAIL]: "E_FAIL",
  [E_OUTOFMEMORY]: "E_OUTOFMEMORY",
  [E_INVALIDARG]: "E_INVALIDARG",
  [E_UNEXPECTED]: "E_UNEXPECTED",
  [HOST_E_DEADLOCK]: "HOST_E_DEADLOCK",
  [HOST_E_INTERRUPTED]: "HOST_E_INTERRUPTED",
  [HOST_E_INVALIDOPERATION]: "HOST_E_INVALIDOPERATION",
  [HOST_E_CLRNOTAVAILABLE]: "HOST_E_CLRNOTAVAILABLE",
  [HOST_E_TIMEOUT]: "HOST_E_TIMEOUT",
  [HOST_E_NOT_OWNER]: "HOST_E_NOT_OWNER",
  [HOST_E_ABANDONED]: "HOST_E_ABANDONED",
  [HOST_E_EXITPROCESS_THREADABORT]: "HOST_E_EXITPROCESS_THREADABORT",
  [HOST_E_EXITPROCESS_ADUNLOAD]: "HOST_E_EXITPROCESS_ADUNLOAD",
  [HOST_E_EXITPROCESS_TIMEOUT]: "HOST_E_EXITPROCESS_TIMEOUT",
  [HOST_E_EXITPROCESS_OUTOFMEMORY]: "HOST_E_EXITPROCESS_OUTOFMEMORY",
  [HOST_E_EXITPROCESS_STACKOVERFLOW]: "HOST_E_EXITPROCESS_STACKOVERFLOW",
  [COR_E_STACKOVERFLOW]: "COR_E_STACKOVERFLOW",
};

/** Success codes have the top bit clear. Accepts the signed form too. */
export function succeeded(hr: number): boolean {
  return hr >>> 0 < 0x80000000;
}

export function failed(hr: number): boolean {
  return hr >>> 0 >= 0x80000000;
}

/** The contract's name of an HRESULT, or its hex form when it has none. Never throws. */
export function hresultName(hr: number): string {
  if (typeof hr !== "number") return `not an HRESULT: ${describeValue(hr)}`;
  const u = hr >>> 0;
  return NAMES[u] ?? `0x${u.toString(16).toUpperCase().padStart(8, "0")}`;
}

/** What the throwing APIs throw: `hr` is the HRESULT, the message says what was wrong. */
export class HResultError extends Error {
  readonly hr: number;
  constructor(hr: number, message: string) {
    super(`${hresultName(hr)}: ${message}`);
    this.name = "HResultError";
    this.hr = hr >>> 0;
  }
}

/** Throws an HResultError when `hr` is a failure; returns `hr` otherwise. */
export function check(hr: number, what: string): number {
  if (failed(hr)) throw new HResultError(hr, what);
  return hr;
}
