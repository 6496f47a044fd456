// Argument checks shared by the public calls: each answers with a boolean, and the caller answers
// E_INVALIDARG (or throws an HResultError in the throwing APIs, showing the value with describeValue).

import { WAIT_ALERTABLE, WAIT_MSGPUMP, WAIT_NOTINDEADLOCK } from "./hresult.js";

export { describeValue } from "./describe.js";

const WAIT_OPTIONS = WAIT_MSGPUMP | WAIT_ALERTABLE | WAIT_NOTINDEADLOCK;

/** An integer in 0 … 2^32−1 (a DWORD: a LeaveRuntime target, a locale id, a timeout). */
export function isDword(v: unknown): v is number {
  return typeof v === "number" && v >>> 0 === v;
}

/** A number the core's i32 parameters take unchanged (the door lets nothing else cross). */
export function isInt32(v: unknown): v is number {
  return typeof v === "number" && (v | 0) === v;
}

/**
 * Copies the named properties of a caller's options object into a plain object, so that each is
 * read once (a getter or a Proxy answers what it likes, and may throw): null when a read threw.
 */
export function readOptions<T extends object>(options: T, keys: readonly (keyof T & string)[]): Partial<T> | null {
  const out: Partial<T> = {};
  try {
    for (const k of keys) {
      const v = options[k];
      if (v !== undefined) out[k] = v;
    }
  } catch {
    return null;
  }
  return out;
}

/** A timeout in ms: a DWORD, INFINITE included. */
export const isTimeout = isDword;

/** A WAIT_OPTION: a combination of WAIT_MSGPUMP, WAIT_ALERTABLE and WAIT_NOTINDEADLOCK. */
export function isWaitOption(v: unknown): v is number {
  return typeof v === "number" && v >>> 0 === v && (v & ~WAIT_OPTIONS) === 0;
}

/** The THREAD_PRIORITY values, lowest first: the scheduler's ready-queue levels. */
export const PRIORITY_LEVELS = [-15, -2, -1, 0, 1, 2, 15];

/**
 * Ready levels by name: an index in PRIORITY_LEVELS. A const enum, inlined where it is read (a
 * module binding is loaded again, with its hole check, at every use: on the switch and spawn paths).
 */
export const enum Level {
  /** The default priority (0): THREAD_PRIORITY_NORMAL. */
  Default = 3,
}
// (Checked once: the levels and the enum are kept in step by hand.)
if (PRIORITY_LEVELS[Level.Default] !== 0) throw new Error("fiberhost: Level.Default is not the level of priority 0");
