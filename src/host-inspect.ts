// What a host shows of itself: its fibers (host.dump()) and its runtime's state.

import type { Counters } from "./core/door.js";
import { RuntimeState as CoreRuntimeState } from "./core/generated/layout.js";
import type { Frame } from "./errors.js";
import type { Task, TaskState } from "./task.js";

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
      state: t.state,
      mode: t.mode,
      depth: t.depth,
      frames: t.frames(),
      counters: t.counters(),
      waitingOn: t.waitOn
        ? t.waitOn.describe()
        : t.state === "waiting"
          ? "the runtime to resume (held in managed mode)"
          : null,
    });
  }
  return out;
}
