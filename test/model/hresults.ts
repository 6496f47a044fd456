// The contract's numbers, written out again here on purpose: the model must not share a single line
// with the implementation it checks (docs/contract.md §2; the README's rules table).

export const S_OK = 0x00000000;
export const S_FALSE = 0x00000001;
export const E_NOTIMPL = 0x80004001;
export const E_FAIL = 0x80004005;
export const E_INVALIDARG = 0x80070057;
export const E_UNEXPECTED = 0x8000ffff;
export const HOST_E_DEADLOCK = 0x80131020;
export const HOST_E_INVALIDOPERATION = 0x80131022;
export const HOST_E_CLRNOTAVAILABLE = 0x80131023;
export const HOST_E_TIMEOUT = 0x80131024;
export const HOST_E_NOT_OWNER = 0x80131025;
export const HOST_E_ABANDONED = 0x80131026;
export const COR_E_STACKOVERFLOW = 0x800703e9;

/** The THREAD_PRIORITY values. */
export const PRIORITIES = [-15, -2, -1, 0, 1, 2, 15];

/** Bytes per transition frame (README, "Stack sizes"). */
export const FRAME_BYTES = 8;
/** CreateTask(0): 16 KiB. */
export const DEFAULT_STACK_BYTES = 16 * 1024;
/** createHost({ maxStackSize }) when not given: 1 MiB. */
export const DEFAULT_MAX_STACK_BYTES = 1024 * 1024;

const NAMES: Record<number, string> = {
  [S_OK]: "S_OK",
  [S_FALSE]: "S_FALSE",
  [E_NOTIMPL]: "E_NOTIMPL",
  [E_FAIL]: "E_FAIL",
  [E_INVALIDARG]: "E_INVALIDARG",
  [E_UNEXPECTED]: "E_UNEXPECTED",
  [HOST_E_DEADLOCK]: "HOST_E_DEADLOCK",
  [HOST_E_INVALIDOPERATION]: "HOST_E_INVALIDOPERATION",
  [HOST_E_CLRNOTAVAILABLE]: "HOST_E_CLRNOTAVAILABLE",
  [HOST_E_TIMEOUT]: "HOST_E_TIMEOUT",
  [HOST_E_NOT_OWNER]: "HOST_E_NOT_OWNER",
  [HOST_E_ABANDONED]: "HOST_E_ABANDONED",
  [COR_E_STACKOVERFLOW]: "COR_E_STACKOVERFLOW",
};

/** An HRESULT as a failing comparison shows it: "E_INVALIDARG (0x80070057)". */
export function hrName(v: unknown): string {
  if (typeof v !== "number" || v >>> 0 !== v) return `not an unsigned HRESULT: ${String(v)}`;
  return `${NAMES[v] ?? "?"} (0x${v.toString(16).toUpperCase().padStart(8, "0")})`;
}

export function isDword(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}
