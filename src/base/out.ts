// The out-parameter convention: where a COM method has an out parameter, the caller passes a
// trailing object and the value lands in its `value` field. A missing object answers E_POINTER.

import { E_POINTER, S_OK } from "./hresult.js";

export interface Out<T> {
  value?: T;
}

export function isOut(out: unknown): out is Out<unknown> {
  return typeof out === "object" && out !== null;
}

/** Stores `value` and answers `hr` (S_OK by default), or E_POINTER when there is nowhere to store it. */
export function setOut<T>(out: Out<T> | undefined, value: T, hr: number = S_OK): number {
  if (!isOut(out)) return E_POINTER;
  out.value = value;
  return hr;
}
