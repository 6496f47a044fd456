// f.waitAny: WaitForMultipleObjects for events, semaphores and tasks. The fiber waits on none of
// their queues (a task sits in one queue at a time); each object tells the wait when it may have
// become acquirable (its watchers), after its own waiters were served, and the wait then acquires
// that one object, at most one.

import type { Task } from "../task/task.js";
import type { SchedulerPort } from "../scheduler/port.js";
import { BLOCK, type WaitAnyResult, type Waitable, type Watcher } from "../kernel/waitable.js";
import { BlockingOp } from "./blocking.js";
import { isTimeout } from "../base/args.js";

import {
  DESCRIBE as DESCRIBE_,
  ENQUEUE as ENQUEUE_,
  REMOVE as REMOVE_,
  TRY_ACQUIRE as TRY_ACQUIRE_,
  WAITS_FOR as WAITS_FOR_,
  WAITS_FOR_MANY as WAITS_FOR_MANY_,
  WATCH as WATCH_,
} from "../kernel/waitable.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const DESCRIBE: typeof DESCRIBE_ = DESCRIBE_;
const ENQUEUE: typeof ENQUEUE_ = ENQUEUE_;
const REMOVE: typeof REMOVE_ = REMOVE_;
const TRY_ACQUIRE: typeof TRY_ACQUIRE_ = TRY_ACQUIRE_;
const WAITS_FOR: typeof WAITS_FOR_ = WAITS_FOR_;
const WAITS_FOR_MANY: typeof WAITS_FOR_MANY_ = WAITS_FOR_MANY_;
const WATCH: typeof WATCH_ = WATCH_;
class AnyWait implements Waitable<Task> {
  index = -1;
  /** Its objects are the runtime's: HOST_E_ABANDONED (index −1) when it is disabled. */
  readonly abandonedOnDisable = true;
  private task: Task | null = null;
  private readonly watchers: Watcher[];
  constructor(
    private readonly members: Waitable<Task>[],
    private readonly sched: SchedulerPort,
  ) {
    this.watchers = members.map((_, i) => ({ fire: () => this.fired(i) }));
  }
  [TRY_ACQUIRE](t: Task): number {
    for (let i = 0; i < this.members.length; i++) {
      const hr = this.members[i][TRY_ACQUIRE](t);
      if (hr !== BLOCK) {
        this.index = i;
        return hr;
      }
    }
    return BLOCK;
  }
  [ENQUEUE](t: Task): void {
    this.task = t;
    for (let i = 0; i < this.members.length; i++) this.members[i][WATCH]!(this.watchers[i], true);
  }
  [REMOVE](): void {
    if (this.task === null) return;
    this.task = null;
    for (let i = 0; i < this.members.length; i++) this.members[i][WATCH]!(this.watchers[i], false);
  }
  private fired(i: number): void {
    const t = this.task;
    if (t === null) return;
    const hr = this.members[i][TRY_ACQUIRE](t);
    if (hr === BLOCK) return;
    this.index = i;
    this.sched.wake(t, hr); // (takes the wait off every object)
  }
  [WAITS_FOR](): null {
    return null;
  }
  /** Blocked on a cycle only when every object is: a joined task's, or a Crst's owner (never an event's). */
  [WAITS_FOR_MANY](): { any: boolean; tasks: (Task | null)[] } {
    return { any: true, tasks: this.members.map((m) => m[WAITS_FOR]()) };
  }
  [DESCRIBE](): string {
    return `any of: ${this.members.map((m) => m[DESCRIBE]()).join(", ")}`;
  }
}

export class WaitAnyOp extends BlockingOp<WaitAnyResult> {
  private readonly any: AnyWait;
  private readonly ms: number;
  constructor(
    t: Task,
    sched: SchedulerPort,
    members: Waitable<Task>[],
    ms: number,
    private readonly option: number,
  ) {
    super(t);
    this.any = new AnyWait(members, sched);
    this.ms = isTimeout(ms) ? ms : NaN; // NaN: block() answers E_INVALIDARG
  }
  protected block(sched: SchedulerPort): number {
    this.any.index = -1;
    return sched.block(this.t, this.any, this.ms, this.option);
  }
  protected answer(hr: number): IteratorResult<WaitAnyResult, WaitAnyResult> {
    const index = this.any.index;
    this.any.index = -1;
    return this.result({ hr: hr >>> 0, index });
  }
}
