// What a host shows of itself: its fibers (host.dump()), its runtime's state, and its default
// reports of a failure nothing observed and of a run that ended in a deadlock.

import type { Counters } from "../core/door.js";
import { RuntimeState as CoreRuntimeState } from "../core/generated/layout.js";
import { type Frame, readSafely } from "../base/errors.js";
import { describeValue } from "../base/describe.js";
import { RunState, type Task, type TaskState } from "../task/task.js";

import { STATE as STATE_, WAIT_ON as WAIT_ON_ } from "../task/state.js";
import { DESCRIBE as DESCRIBE_ } from "../kernel/waitable.js";

// The keys of the scheduler's state, as module-local consts: an imported binding is read through
// its module's cell (with a check that it is initialised) at every use, where a local const is
// folded into the optimised code (with imported keys, the switch ran 15% slower).
const STATE: typeof STATE_ = STATE_;
const WAIT_ON: typeof WAIT_ON_ = WAIT_ON_;
const DESCRIBE: typeof DESCRIBE_ = DESCRIBE_;
export interface FiberDump {
  id: number;
  name: string;
  state: TaskState;
  mode: "managed" | "unmanaged";
  depth: number;
  frames: Frame[];
  counters: Counters;
  waitingOn: string | null;
}

export type RuntimeState = "notStarted" | "started" | "disabled";
/** The core's runtime state by its public name. */
export const RUNTIME_STATES = {
  [CoreRuntimeState.NOT_STARTED]: "notStarted",
  [CoreRuntimeState.STARTED]: "started",
  [CoreRuntimeState.DISABLED]: "disabled",
} as const satisfies Record<CoreRuntimeState, RuntimeState>;

/** Every task's id, name, state, mode, depth, frames, counters and what it waits on. */
export function dumpTasks(tasks: Iterable<Task>): FiberDump[] {
  const out: FiberDump[] = [];
  for (const t of tasks) {
    out.push({
      id: t.id,
      name: t.name,
      state: t.getState(),
      mode: t.mode,
      depth: t.depth,
      frames: t.frames(),
      counters: t.counters(),
      waitingOn: t[WAIT_ON]
        ? t[WAIT_ON][DESCRIBE]()
        : t[STATE] === RunState.Waiting
          ? "the runtime to resume (held in managed mode)"
          : null,
    });
  }
  return out;
}

/** What run() resolves to: fibers that ended during the run, by how, and those left blocked. */
export interface RunReport {
  /** Fibers that returned. */
  finished: number;
  /** Fibers that threw (aborted ones included). */
  failed: number;
  /** Fibers still waiting at the end, with nothing pending that could wake them. */
  blocked: number;
}

/**
 * host.run(): the scheduler's run, and its report. Concurrent calls share one run and one report.
 */
export class RunReporter {
  private runs: { inner: Promise<void>; outer: Promise<RunReport> } | null = null;
  constructor(
    private readonly sched: { run(): Promise<void>; readonly ended: { returned: number; threw: number } },
    private readonly dump: () => FiberDump[],
    private readonly onDeadlock: (blocked: FiberDump[]) => void,
  ) {}

  run(): Promise<RunReport> {
    const inner = this.sched.run();
    if (this.runs !== null && this.runs.inner === inner) return this.runs.outer;
    const before = this.sched.ended;
    const outer = inner.then(() => {
      this.runs = null;
      return runReport(before, this.sched.ended, this.dump(), this.onDeadlock);
    });
    this.runs = { inner, outer };
    return outer;
  }
}

/** run()'s report; fibers left blocked go to onDeadlock (what it throws is logged, not thrown). */
export function runReport(
  before: { returned: number; threw: number },
  after: { returned: number; threw: number },
  dump: FiberDump[],
  onDeadlock: (blocked: FiberDump[]) => void,
): RunReport {
  const blocked = dump.filter((d) => d.id !== 0 && d.state === "waiting");
  if (blocked.length > 0) {
    try {
      onDeadlock(blocked);
    } catch (err) {
      console.error("fiberhost: the host's onDeadlock threw", err);
    }
  }
  return { finished: after.returned - before.returned, failed: after.threw - before.threw, blocked: blocked.length };
}

export function defaultOnError(err: unknown, task: Task): void {
  // What the fiber threw is read guarded (a revoked Proxy throws on any read), and printed as it
  // is, right after the head (the console shows an error's stack there); should the console's own
  // formatting of it throw, as describeValue shows it.
  const frames = readSafely(readSafely(err, "fiber"), "frames");
  let shown = "";
  try {
    if (Array.isArray(frames) && frames.length > 0) shown = `\n  Its frames when it failed: ${JSON.stringify(frames)}`;
  } catch {
    // (a `fiber` property of the user's own, whose frames do not stringify)
  }
  const head = `fiberhost: ${failedFiber(task)} failed and nothing observed its error:`;
  const advice =
    "\n  Nothing asked for its task.result, joined it (f.join, yield* task) or was its parent (f.spawn) by the" +
    " time run() had settled and the code awaiting run() had gone on: do one of those, or handle such" +
    ` failures with createHost({ onError }).${shown}`;
  try {
    console.error(head, err, advice);
  } catch {
    console.error(head, describeValue(err), advice);
  }
}

/** `fiber "worker" (task #1)`. */
function failedFiber(task: Task): string {
  return `fiber ${JSON.stringify(task.name)} (task #${task.id})`;
}

export function defaultOnDeadlock(blocked: FiberDump[]): void {
  const lines = blocked.map(
    (d) => `  Task #${d.id} ${JSON.stringify(d.name)} waits on ${d.waitingOn ?? "nothing known"}`,
  );
  console.warn(
    `fiberhost: run() ended with ${blocked.length} fiber${blocked.length === 1 ? "" : "s"} blocked, nothing pending could wake ${blocked.length === 1 ? "it" : "them"} (createHost({ onDeadlock }) replaces this report):\n${lines.join("\n")}`,
  );
}
