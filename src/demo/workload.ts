// The workload fibers of the demo scenario, one generator per kind (summary.ts says what each
// kind does). Each draws every choice from its own seeded stream, so its behaviour does not
// depend on how the fibers interleave.

import type { FiberContext } from "../fiber/context.js";
import type { Host } from "../host/host.js";
import { HResultError, S_OK, WAIT_ALERTABLE } from "../base/hresult.js";
import type { Op } from "../operations/operation.js";
import type { AutoEvent, Crst } from "../sync/objects.js";
import type { Task } from "../task/task.js";
import type { DemoGuest } from "./demo-guest.js";
import type { Random } from "./random.js";
import type { FiberKind } from "./summary.js";
import type { Tally } from "./tally.js";

/** What the workload fibers share: the scenario, as they see it. */
export interface Workload {
  readonly host: Host;
  readonly guest: DemoGuest;
  /** The Crsts the workers, lockers and careless fibers contend for (lockers take 0 and 1). */
  readonly locks: readonly Crst[];
  /** Set by the ticker every millisecond. */
  readonly tick: AutoEvent;
  readonly tally: Tally;
  /** The runtime is suspended now: an entry into managed code will wait. */
  readonly suspended: boolean;
  /** A workload duration, at the run's pace. */
  ms(base: number): number;
  /** A wait of the fiber `t`, counted by its answer (and marked: a lane tells it from being held). */
  wait(t: Task, op: Op<number>): Generator<unknown, number, unknown>;
}

type Body = (w: Workload, f: FiberContext, rng: Random) => Generator<unknown, void, unknown>;

// Kinds by share of the workload: most fibers serve requests through the guest.
const KIND_SHARES: [FiberKind, number][] = [
  ["handler", 0.55],
  ["orphan", 0.07],
  ["worker", 0.3],
  ["locker", 0.06],
  ["careless", 0.02],
];

export function drawKind(rng: Random): FiberKind {
  let r = rng.next();
  for (const [kind, share] of KIND_SHARES) if ((r -= share) < 0) return kind;
  return "worker";
}

/** Serves 1–4 requests through the guest, thinking (an alertable sleep) between them. */
function* handler(w: Workload, f: FiberContext, rng: Random): Generator<unknown, void, unknown> {
  const requests = rng.int(1, 4);
  for (let i = 0; i < requests; i++) {
    const t0 = w.host.now();
    const mustWait = w.suspended;
    let entered = -1;
    yield* w.guest.request(f, rng.int(0, 0xffff), () => {
      if (entered < 0) entered = w.host.now();
    });
    w.tally.requests++;
    if (mustWait && entered >= 0) w.tally.enterWaited(entered - t0);
    yield* w.wait(f.task, f.sleep(w.ms(rng.int(1, 20)), WAIT_ALERTABLE));
  }
}

/** Born in unmanaged code, enters managed code by a reverse enter it never leaves: legal, and counted. */
function* orphan(w: Workload, f: FiberContext, rng: Random): Generator<unknown, void, unknown> {
  yield* w.wait(f.task, f.sleep(w.ms(rng.int(1, 10)), WAIT_ALERTABLE));
  const t0 = w.host.now();
  const mustWait = w.suspended;
  const hr = yield* f.reverseEnterRuntime();
  if (hr !== S_OK) throw new HResultError(hr, "orphan: ReverseEnterRuntime failed");
  if (mustWait) w.tally.enterWaited(w.host.now() - t0);
  yield* w.wait(f.task, f.sleep(w.ms(rng.int(1, 10)), WAIT_ALERTABLE));
}

/** Managed work: sleeps, waits on the ticker's event, takes a Crst for a moment. */
function* worker(w: Workload, f: FiberContext, rng: Random): Generator<unknown, void, unknown> {
  yield* f.managed(function* () {
    const rounds = rng.int(2, 6);
    for (let i = 0; i < rounds; i++) {
      const what = rng.int(0, 2);
      if (what === 0) yield* w.wait(f.task, f.sleep(w.ms(rng.int(1, 15)), WAIT_ALERTABLE));
      else if (what === 1) yield* w.wait(f.task, w.tick.wait(w.ms(rng.int(1, 6)), WAIT_ALERTABLE));
      else {
        const lock = w.locks[rng.int(0, w.locks.length - 1)]!;
        if ((yield* w.wait(f.task, lock.enter())) !== S_OK) continue;
        try {
          yield* w.wait(f.task, f.sleep(w.ms(rng.int(1, 3))));
        } finally {
          lock.leave();
        }
      }
    }
  });
}

/** Takes two Crsts in a drawn order: two lockers in opposite orders close a cycle, and one hears HOST_E_DEADLOCK. */
function* locker(w: Workload, f: FiberContext, rng: Random): Generator<unknown, void, unknown> {
  const first = rng.int(0, 1);
  const a = w.locks[first]!;
  const b = w.locks[1 - first]!;
  yield* f.managed(function* () {
    if ((yield* w.wait(f.task, a.enter())) !== S_OK) return;
    try {
      yield* w.wait(f.task, f.sleep(w.ms(rng.int(1, 4))));
      if ((yield* w.wait(f.task, b.enter())) !== S_OK) return; // a deadlock: back off
      try {
        yield* w.wait(f.task, f.sleep(w.ms(1)));
      } finally {
        b.leave();
      }
    } finally {
      a.leave();
    }
  });
}

/** Ends while it owns a Crst: the Crst is abandoned, and its waiters get HOST_E_ABANDONED. */
function* careless(w: Workload, f: FiberContext, rng: Random): Generator<unknown, void, unknown> {
  yield* f.managed(function* () {
    const lock = w.locks[rng.int(2, w.locks.length - 1)]!;
    if ((yield* w.wait(f.task, lock.enter())) !== S_OK) return;
    yield* w.wait(f.task, f.sleep(w.ms(rng.int(2, 8))));
    // (returns without lock.leave())
  });
}

export const BODIES: Record<FiberKind, Body> = { handler, orphan, worker, locker, careless };
