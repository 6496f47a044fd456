// The wait face: a `yield*` of a wait (f.wait, f.sleep, f.join, ev.wait, sem.wait, crst.enter)
// delegates to the fiber's own task rather than to the wait operation. The generator then holds the
// task, which it holds anyway, and the operation is garbage once the wait has started: a million
// fibers parked on an event hold a million tasks and generators, and no operation (64 bytes each).
//
// The operation's `[Symbol.iterator]` hands the face out (takeFace); the face keeps the operation
// in `t[PENDING]` until its first step starts the wait, and its phase in `t[BITS]` (TaskBits.Face).
// One face per task: when it is in use (an iterator taken by hand and not run), on a debug host
// (which watches each operation's own next), or for another fiber's operation, the operation is
// its own iterator, as every operation is. The face's steps are here (faceNext, faceThrow,
// faceReturn; a fiber's task, src/fiber/fiber-task.ts, has them as its next, throw and return):
// next starts the wait or answers how it ended; throw (an abort) and return (the generator
// closed) end it. Because a fiber's task has `next`, a
// task is a value, never an iterator to drive, wherever a body's result is read (taskAsResult).

import { BITS as BITS_, PENDING as PENDING_, Task, TaskBits } from "../task/task.js";
import type { SchedulerPort } from "../scheduler/port.js";
import { Cmd, handOver } from "../kernel/commands.js";
import { currentFiber, foreignOperation } from "../scheduler/driving.js";
import { BLOCK } from "../kernel/waitable.js";
import { HOST_E_INVALIDOPERATION, HResultError } from "../base/hresult.js";
import { safePoint, type FiberEnv } from "./env.js";

import { ENV as ENV_ } from "../task/state.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const BITS: typeof BITS_ = BITS_;
const PENDING: typeof PENDING_ = PENDING_;
const ENV: typeof ENV_ = ENV_;
/** A wait the face can start: what WaitOp does when it is first stepped, past its safe point. */
export interface FaceWait {
  /** Starts the wait: its HRESULT when it is decided at once, or BLOCK when the fiber now waits. */
  block(sched: SchedulerPort): number;
}

/**
 * The task's face for a `yield*` of `op`, made by the fiber `t` that runs now; null when the face
 * is in use or cannot be used (the operation is then its own iterator).
 */
export function takeFace(t: Task, op: FaceWait): Iterator<number, number> | null {
  if ((t[BITS] & TaskBits.Face) !== 0 || currentFiber() !== t || (t[ENV] as FiberEnv).debug) return null;
  t[BITS] |= TaskBits.FaceHanded;
  t[PENDING] = op;
  return t as unknown as Iterator<number, number>;
}

/** The face's next(v): starts the wait (past a safe point), or answers the HRESULT it woke with. */
export function faceNext(t: Task, v: unknown): IteratorResult<number, number> {
  if (currentFiber() !== t) throw foreignOperation(t);
  const bits = t[BITS];
  if ((bits & TaskBits.FaceParked) !== 0) {
    t[BITS] = bits & ~TaskBits.Face;
    return { value: v as number, done: true };
  }
  if ((bits & TaskBits.FaceHanded) === 0) {
    throw new HResultError(HOST_E_INVALIDOPERATION, `fiber ${t.name}: this wait has ended; run its operation again`);
  }
  const op = t[PENDING] as FaceWait; // (FaceHanded: `pending` holds the wait, see takeFace)
  const sched = (t[ENV] as FiberEnv).sched;
  let hr: number;
  try {
    const sp = safePoint(sched, t);
    // Still handed: the step after the yield starts the wait (after an End, nothing does).
    if (sp) return handOver<number>(sp);
    hr = op.block(sched);
  } catch (err) {
    release(t);
    throw err;
  }
  t[PENDING] = null;
  if (hr !== BLOCK) {
    t[BITS] &= ~TaskBits.Face;
    return { value: hr, done: true };
  }
  t[BITS] = (t[BITS] & ~TaskBits.Face) | TaskBits.FaceParked;
  return handOver<number>(Cmd.Park);
}

/** The face's throw(err): an error thrown into the fiber while it waits (an abort) ends the wait. */
export function faceThrow(t: Task, err: unknown): never {
  if (currentFiber() !== t) throw foreignOperation(t);
  release(t);
  throw err;
}

/** The face's return(value): the generator delegating to it is closed. */
export function faceReturn(t: Task, value: number): IteratorResult<number, number> {
  if (currentFiber() !== t) throw foreignOperation(t);
  release(t);
  return { value, done: true };
}

/** The face is let go: the wait it held (if not started) and its phase. */
function release(t: Task): void {
  if ((t[BITS] & TaskBits.FaceHanded) !== 0) t[PENDING] = null;
  t[BITS] &= ~TaskBits.Face;
}

/**
 * What a plain function body (a fiber's) gave, when it is a task: that task is its result, never
 * an iterator to drive (a fiber's task has next: its wait face). An iterator that answers it at once.
 */
export function taskAsResult(v: unknown): unknown {
  return typeof v === "object" && v !== null && Task.isTask(v) ? new Answer(v) : v;
}

class Answer implements Iterator<unknown> {
  constructor(private readonly value: unknown) {}
  next(): IteratorResult<unknown> {
    return { value: this.value, done: true };
  }
}
