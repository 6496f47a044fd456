// The error an abort throws into a fiber, what an error escaping a fiber carries, and the one
// question the host asks of any value a fiber produced.

import { HResultError } from "./hresult.js";

/** One open transition frame of a task (CoreDoor.frames reads them from the core). */
export interface Frame {
  kind: "leave" | "reverseEnter";
  /** The LeaveRuntime target; 0 for a reverse-enter frame. */
  target: number;
}

/** Where an error left a fiber: attached to the error as `error.fiber`. */
export interface FiberInfo {
  id: number;
  name: string;
  /** The stack at host.spawn, when the host records spawn sites (createHost({ spawnSites: true })). */
  spawnSite: string | undefined;
  /** The fiber's transition frames, innermost last, when the error first left its body. */
  frames: Frame[];
}

/**
 * Thrown into a fiber at its next safe point by `task.abort()` (`rude: false`: `finally` blocks run
 * and open frames are closed), and the error of a fiber ended by `task.rudeAbort()` (`rude: true`).
 */
export class TaskAbortError extends Error {
  readonly rude: boolean;
  fiber?: FiberInfo;
  /**
   * What the fiber threw instead, after this abort was delivered: its end is the abort (an abort
   * sticks until f.resetAbort), and the error it ended with is kept here (the last one).
   */
  suppressed?: unknown;
  /**
   * `why`: what structured concurrency aborted the fiber for ("parent ended", "sibling b failed",
   * "parent aborted: <reason>"), appended to the message.
   */
  constructor(name: string, rude: boolean, cause?: unknown, why?: string) {
    super(`fiber ${name} was ${rude ? "rudely " : ""}aborted${why === undefined ? "" : `: ${why}`}`);
    this.name = "TaskAbortError";
    this.rude = rude;
    // Why (error.cause): the value given to task.abort(reason), the spawn signal's reason, or the
    // error of a child whose failure ended this fiber.
    if (cause !== undefined)
      Object.defineProperty(this, "cause", { value: cause, enumerable: false, configurable: true, writable: true });
  }
}

/** True for a TaskAbortError (false, never a throw, for a value that throws on being asked: a revoked Proxy). */
export function isTaskAbortError(err: unknown): err is TaskAbortError {
  return classifyThrown(err) === "abort";
}

/** What a value a fiber produced is, as far as the host decides anything by it. */
export type ThrownKind = "abort" | "hresult" | "other";

/**
 * The one classifier of values a fiber produced (threw, returned, yielded, a promise's reason):
 * a TaskAbortError, an HResultError, or anything else. `instanceof` asks the value its prototype,
 * which runs user code (a Proxy's getPrototypeOf trap; a revoked Proxy throws on it), so nothing
 * in the host asks it directly: a value that throws on being asked is "other". Ask it once per
 * decision (a Proxy may answer differently each time).
 */
export function classifyThrown(v: unknown): ThrownKind {
  if (typeof v !== "object" || v === null) return "other";
  if (isInstance(v, TaskAbortError)) return "abort";
  return isInstance(v, HResultError) ? "hresult" : "other";
}

/**
 * `v instanceof ctor`, false where asking throws (a revoked Proxy, a throwing getPrototypeOf trap):
 * the guarded form every check of a fiber-produced value's class uses.
 */
// biome-ignore lint/complexity/noBannedTypes: any constructor, as instanceof takes it
export function isInstance(v: unknown, ctor: Function): boolean {
  if ((typeof v !== "object" && typeof v !== "function") || v === null) return false;
  try {
    return v instanceof ctor;
  } catch {
    return false;
  }
}

/** A property of a value a fiber produced (an error's `cause`), undefined where reading it throws. */
export function readSafely(v: unknown, key: string): unknown {
  if (typeof v !== "object" || v === null) return undefined;
  try {
    return (v as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * Attaches the fiber's description to an error object (not to primitives or frozen objects). The
 * error is whatever the fiber threw: a Proxy's traps (a revoked one throws on every question) are
 * asked here, so what they throw is dropped and the error is left as it is.
 */
export function attachFiberInfo(err: unknown, info: FiberInfo): void {
  if (typeof err !== "object" || err === null) return;
  try {
    if (Object.isExtensible(err) && !("fiber" in err)) {
      Object.defineProperty(err, "fiber", { value: info, enumerable: false, configurable: true, writable: true });
    }
  } catch {
    // (The error stays as the fiber threw it.)
  }
}
