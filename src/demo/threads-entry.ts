// The entry module of the demo across workers (createHost({ threads, entry }), threads-demo.ts):
// its export `share` is the body each worker runs, that worker's share of the demo scenario on its
// own host of the shared runtime (poolWorkerHost()). The module is loaded by the workers only: from
// dist/demo/ in Node, beside the threads layer it imports, so both are one module instance there.

import type { FiberContext } from "../fiber/context.js";
import { poolWorkerHost } from "../threads/pool-worker.js";
import { BoardRow, LaneSampler, Word } from "./board.js";
import { createGuest } from "./demo-guest.js";
import { Scenario } from "./scenario.js";
import { FIBER_KINDS, type FiberKind } from "./summary.js";

/** What a worker's share is told (structured-cloned). */
export interface ShareParam {
  /** This share's number (0 … of − 1) and the number of shares. */
  index: number;
  of: number;
  /** Fibers this share spawns (a continuous run: the population it keeps alive). */
  fibers: number;
  durationMs: number;
  seed: number;
  pace?: number;
  /** Keep going (and keep the population up) until the board's STOP word is set: the page. */
  continuous?: boolean;
  /** A blocking host_fetch waits 50–300 ms (the page), rather than answering at once. */
  slowFetch?: boolean;
  /** Where the share writes what the page shows (board.ts); none in the CLI. */
  board?: SharedArrayBuffer;
}

/** What a worker's share did (structured-cloned back). */
export interface ShareSummary {
  index: number;
  thread: number;
  fibers: { spawned: number; finished: number; aborted: number; failed: number; failures: Record<string, number> };
  /** Its workload fibers' own transitions and switches (their counters, summed as each ended). */
  transitions: number;
  switches: number;
  requests: number;
  waits: Record<string, number>;
  enteringWaited: number;
  wallMs: number;
}

/** A board lane's fiber number: the fiber's number in the run, and its kind (board.ts). */
export const laneFiber = (n: number, kind: FiberKind): number => n * 8 + FIBER_KINDS.indexOf(kind);

/** A worker's share of the demo scenario: spawns its fibers, and answers once they have all ended. */
export function* share(f: FiberContext, p: ShareParam): Generator<unknown, ShareSummary, unknown> {
  const host = poolWorkerHost();
  if (host === null) throw new Error("share: this is not a pool's worker (createHost({ threads, entry }))");
  const t0 = performance.now();
  const guest = yield* f.await(createGuest(host, p.slowFetch ? { fetchDelayMs: (x) => 50 + (x % 250) } : {}));
  const s = Scenario.onHost(host, guest, {
    fibers: p.fibers,
    durationMs: p.durationMs,
    seed: p.seed,
    pace: p.pace,
    continuous: p.continuous,
    share: { index: p.index, of: p.of },
  });
  const row = p.board === undefined ? null : new BoardRow(p.board, p.index);
  const lanes = new LaneSampler();
  const number = (t: { name: string }): number => {
    const dash = t.name.lastIndexOf("-");
    return laneFiber(Number(t.name.slice(dash + 1)), t.name.slice(0, dash) as FiberKind);
  };
  row?.set(Word.THREAD, host.thread);
  const background = s.start();
  while (!s.over) {
    if (row !== null) {
      if (row.get(Word.STOP) !== 0) s.stop();
      const more = row.take(Word.SPAWN);
      // A continuous run keeps its population up once the first wave is in, and spawns what the
      // page asks for; a disabled runtime refuses every spawn.
      const missing = p.continuous && s.spawned >= s.total ? s.total - (s.spawned - s.ended) : 0;
      if (host.runtimeState !== "disabled")
        for (let i = Math.min(500, Math.max(0, missing)) + more; i > 0; i--) s.spawnOne();
      write(row, s);
      lanes.sample(row, s.live, (t) => s.status(t), number);
    }
    yield* f.sleep(row === null ? 20 : 50);
  }
  for (const t of background) yield* f.join(t);
  if (row !== null) write(row, s);
  const sum = s.summary();
  return {
    index: p.index,
    thread: host.thread,
    fibers: {
      spawned: sum.fibers.spawned,
      finished: sum.fibers.finished,
      aborted: sum.fibers.aborted,
      failed: sum.fibers.failed,
      failures: sum.fibers.failures,
    },
    transitions: s.tally.own.transitions,
    switches: s.tally.own.switches,
    requests: sum.guest.requests,
    waits: sum.waits,
    enteringWaited: sum.suspensions.enteringWaited,
    wallMs: Math.round(performance.now() - t0),
  };
}

function write(row: BoardRow, s: Scenario): void {
  const t = s.tally;
  row.set(Word.SPAWNED, s.spawned);
  row.set(Word.ENDED, s.ended);
  row.set(Word.FINISHED, t.finished);
  row.set(Word.ABORTED, t.aborted);
  row.set(
    Word.FAILED,
    Object.values(t.failures).reduce((a, b) => a + b, 0),
  );
  row.set(Word.BLOCKED, s.guest.blocked.size);
  row.set(Word.HELD, s.countHeld());
  row.set(Word.REQUESTS, t.requests);
}
