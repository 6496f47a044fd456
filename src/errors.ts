// The error an abort throws into a fiber, and what an error escaping a fiber carries.

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
  constructor(name: string, rude: boolean, cause?: unknown) {
    super(`fiber ${name} was ${rude ? "rudely " : ""}aborted`);
    this.name = "TaskAbortError";
    this.rude = rude;
    // Why (error.cause): the value given to task.abort(reason), the spawn signal's reason, or the
    // error of a child whose failure ended this fiber.
    if (cause !== undefined)
      Object.defineProperty(this, "cause", { value: cause, enumerable: false, configurable: true, writable: true });
  }
}

export function isTaskAbortError(err: unknown): err is TaskAbortError {
  return err instanceof TaskAbortError;
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
