// The scenario's background fibers: the spawner that brings the workload in over the run, the
// collector that stops the world every few milliseconds, the supervisor that aborts some workload
// fibers and alerts others, and the ticker that sets the workers' event. scenario.ts starts them.

import type { FiberContext } from "../fiber/context.js";
import type { Host } from "../host/host.js";
import { HOST_E_CLRNOTAVAILABLE, S_OK } from "../base/hresult.js";
import type { AutoEvent } from "../sync/objects.js";
import type { Task } from "../task/task.js";
import { fiberSeed, random } from "./random.js";
import type { Tally } from "./tally.js";

/** What the background fibers see of the scenario (scenario.ts). */
export interface Stage {
  readonly host: Host;
  readonly seed: number;
  /** Workload fibers to spawn, and the scenario time over which they arrive (ms). */
  readonly total: number;
  readonly durationMs: number;
  readonly spawned: number;
  /** Workload fibers that have started and not ended. */
  readonly live: readonly Task[];
  readonly tick: AutoEvent;
  readonly tally: Tally;
  /** The runtime is suspended (by the collector or by hand). */
  suspended: boolean;
  /** Suspended by hand: the collector neither suspends nor resumes meanwhile. */
  readonly userHold: boolean;
  /** stop() was called. */
  readonly stopped: boolean;
  /** The workload is over (see Scenario.over). */
  readonly over: boolean;
  spawnOne(): Task;
}

const SPAWN_STEP_MS = 10;
const COLLECT_EVERY_MS = 4;
const COLLECT_PAUSE_MS: [number, number] = [1, 3];
const SUPERVISE_EVERY_MS = 7;
const TICK_EVERY_MS = 1;

/** Spawns the workload in steps of SPAWN_STEP_MS, evenly over the run's duration. */
export function* spawner(s: Stage, f: FiberContext): Generator<unknown, void, unknown> {
  const steps = Math.max(1, Math.round(s.durationMs / SPAWN_STEP_MS));
  // A disabled runtime (the page's catastrophic failure) refuses every spawn: the wave stops there.
  for (let k = 1; s.spawned < s.total && !s.stopped && s.host.runtimeState !== "disabled"; k++) {
    const due = Math.min(s.total, Math.ceil((s.total * k) / steps));
    while (s.spawned < due) s.spawnOne();
    if (s.spawned < s.total && (yield* f.sleep(SPAWN_STEP_MS)) !== S_OK) return;
  }
}

/** Stops the world every few ms: managed fibers are held, entering ones wait for the resume. */
export function* collector(s: Stage, f: FiberContext): Generator<unknown, void, unknown> {
  const rng = random(fiberSeed(s.seed, -2));
  while (!s.over) {
    if ((yield* f.sleep(COLLECT_EVERY_MS)) !== S_OK) return;
    if (s.userHold || s.over) continue;
    if (s.host.suspendRuntime() !== S_OK) continue;
    s.suspended = true;
    s.tally.suspensions++;
    const hr = yield* f.sleep(rng.int(...COLLECT_PAUSE_MS));
    if (!s.userHold) {
      s.suspended = false;
      s.host.resumeRuntime();
    }
    if (hr !== S_OK) return;
  }
}

/** Aborts some workload fibers and alerts others. */
export function* supervisor(s: Stage, f: FiberContext): Generator<unknown, void, unknown> {
  const rng = random(fiberSeed(s.seed, -1));
  while (!s.over) {
    if ((yield* f.sleep(SUPERVISE_EVERY_MS)) !== S_OK) return;
    if (s.live.length === 0) continue;
    const t = s.live[rng.int(0, s.live.length - 1)]!;
    if (rng.chance(0.3)) {
      if (t.abort() === S_OK) s.tally.abortsRequested++;
    } else if (t.alert() === S_OK) s.tally.alertsSent++;
  }
}

/** Sets the workers' event every millisecond (it lets one waiter through). */
export function* ticker(s: Stage, f: FiberContext): Generator<unknown, void, unknown> {
  while (!s.over) {
    if ((yield* f.sleep(TICK_EVERY_MS)) !== S_OK) return;
    if (s.tick.set() === HOST_E_CLRNOTAVAILABLE) return;
  }
}
