// An external guest's turn: one suspended call per instance (Emscripten keeps one rewind buffer),
// the others waiting for it first come first served. The link (external-link.ts) holds the turn.

import type { Task } from "../task/task.js";
import { TaskQueue } from "../kernel/queue.js";
import { BLOCK, type Waitable } from "../kernel/waitable.js";
import { S_OK } from "../base/hresult.js";

import {
  DESCRIBE as DESCRIBE_,
  ENQUEUE as ENQUEUE_,
  REMOVE as REMOVE_,
  TRY_ACQUIRE as TRY_ACQUIRE_,
  WAITS_FOR as WAITS_FOR_,
} from "../kernel/waitable.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const DESCRIBE: typeof DESCRIBE_ = DESCRIBE_;
const ENQUEUE: typeof ENQUEUE_ = ENQUEUE_;
const REMOVE: typeof REMOVE_ = REMOVE_;
const TRY_ACQUIRE: typeof TRY_ACQUIRE_ = TRY_ACQUIRE_;
const WAITS_FOR: typeof WAITS_FOR_ = WAITS_FOR_;
/** Waiting for an instance's turn: FIFO. */
export class TurnWait<C extends { readonly task: Task }> implements Waitable<Task> {
  private readonly queue = new TaskQueue<Task>();
  private readonly ops = new Map<Task, C>();
  constructor(private readonly link: { holder: C | null }) {}
  want(op: C): void {
    this.ops.set(op.task, op);
  }
  [TRY_ACQUIRE](t: Task): number {
    if (this.link.holder === null && this.queue.size === 0) {
      this.link.holder = this.ops.get(t) ?? null;
      this.ops.delete(t);
      return S_OK;
    }
    return BLOCK;
  }
  [ENQUEUE](t: Task): void {
    this.queue.push(t);
  }
  [REMOVE](t: Task): void {
    this.queue.remove(t);
    this.ops.delete(t);
  }
  next(): { task: Task; op: C } | null {
    for (let t = this.queue.shift(); t !== null; t = this.queue.shift()) {
      const op = this.ops.get(t);
      this.ops.delete(t);
      if (op !== undefined) return { task: t, op };
    }
    return null;
  }
  [WAITS_FOR](): Task | null {
    return this.link.holder?.task ?? null;
  }
  [DESCRIBE](): string {
    return "its turn in an external guest (one suspended call per instance)";
  }
}
