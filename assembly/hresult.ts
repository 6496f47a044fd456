// The contract's HRESULTs, as the core returns them (i32: the failure codes are negative).
// The host layer turns them into the unsigned form every public API answers with.
export const S_OK: i32 = 0;
export const S_FALSE: i32 = 1;
export const E_NOTIMPL: i32 = 0x80004001;
export const E_FAIL: i32 = 0x80004005;
export const E_OUTOFMEMORY: i32 = 0x8007000e;
export const E_INVALIDARG: i32 = 0x80070057;
export const E_UNEXPECTED: i32 = 0x8000ffff;
export const HOST_E_INVALIDOPERATION: i32 = 0x80131022;
export const HOST_E_CLRNOTAVAILABLE: i32 = 0x80131023;
export const COR_E_STACKOVERFLOW: i32 = 0x800703e9;

// Not an HRESULT: a transition that would enter managed code while the runtime is suspended.
// The core does not wait (it cannot block); the host parks a fiber on it, or answers a
// synchronous caller with HOST_E_TIMEOUT at once.
export const MUST_WAIT_FOR_RESUME: i32 = 2;
