// The demo scenario across workers (`fiberhost demo --threads N`, the page's thread control): a pool
// of N workers on one shared runtime, each running its share of the scenario's fibers on its own
// host (threads-entry.ts's `share`), while this thread's host runs the collector that stops the
// world for all of them. Totals come from the shared core: every worker's transitions in one set
// of counters.

import { S_OK } from "../base/hresult.js";
import type { FiberContext } from "../fiber/context.js";
import type { Task } from "../task/task.js";
import { createHost, type PoolHost } from "../threads/pool.js";
import { isBalanced, percentile } from "./summary.js";
import type { ShareParam, ShareSummary } from "./threads-entry.js";

export interface ThreadsDemoOptions {
  /** Workers: a count (1 … 31) or "auto" (the machine's cores − 1). */
  threads: number | "auto";
  fibers?: number;
  durationMs?: number;
  seed?: number;
  /**
   * The entry module's URL (default: threads-entry.js beside this module, as dist/ has it). A page
   * built by Vite passes the URL of its own build of threads-entry.ts.
   */
  entry?: URL | string;
}

export interface ThreadsSummary {
  seed: number;
  clock: "real";
  threads: number;
  wallMs: number;
  workers: ShareSummary[];
  total: {
    fibers: { spawned: number; finished: number; aborted: number; failed: number; failures: Record<string, number> };
    /** The shared core's counters: every thread's tasks. */
    transitions: {
      leaveRuntime: number;
      enterRuntime: number;
      reverseEnterRuntime: number;
      reverseLeaveRuntime: number;
      total: number;
      perSecond: number;
    };
    unmatchedReverseEnter: number;
    switches: { switchIn: number; switchOut: number };
    /** Stop-the-world suspensions by this thread's collector, and how long each took to hold every worker. */
    suspensions: { count: number; unacknowledged: number; holdAllMs: { p50: number; p99: number; max: number } };
  };
  checks: { balanced: boolean; invariants: boolean };
}

/** The default entry: dist/demo/threads-entry.js (the non-literal form: Vite leaves it alone). */
const defaultEntry = (): URL => new URL(/* @vite-ignore */ "./threads-entry.js", import.meta.url);

const COLLECT_EVERY_MS = 4;
const ACK_TIMEOUT_MS = 500;
const TIMED_OUT = -1;
const delay = <T>(ms: number, value: T): Promise<T> => new Promise((r) => setTimeout(() => r(value), ms));

/**
 * This thread's collector: every few ms, a stop-the-world across every worker
 * (suspendRuntimeAsync settles once each has reached a safe point), held 1–3 ms, then resumed.
 */
export function startCollector(host: PoolHost): {
  task: Task;
  stop(): void;
  readonly count: number;
  /** Suspensions some worker did not acknowledge within ACK_TIMEOUT_MS (then resumed all the same). */
  readonly unacknowledged: number;
  readonly holdAllMs: number[];
  /** A suspension by hand: the collector leaves the runtime alone meanwhile. */
  hold: boolean;
} {
  const state = { stopped: false, count: 0, unacknowledged: 0, holdAllMs: [] as number[], hold: false };
  const task = host.spawn(
    function* (f: FiberContext) {
      for (let k = 0; !state.stopped; k++) {
        yield* f.sleep(COLLECT_EVERY_MS);
        if (state.stopped || state.hold) continue;
        const t0 = performance.now();
        // Bounded: a stop-the-world that some worker never acknowledges (seen: 1 run in 5 of 400
        // fibers on 2 workers) would otherwise hold every worker for good. It is counted, and resumed.
        const hr = yield* f.await(Promise.race([host.suspendRuntimeAsync(), delay(ACK_TIMEOUT_MS, TIMED_OUT)]));
        if (hr === TIMED_OUT) state.unacknowledged++;
        else if (hr !== S_OK) continue;
        else {
          state.count++;
          if (state.holdAllMs.length >= 20_000) state.holdAllMs.splice(0, 10_000);
          state.holdAllMs.push(performance.now() - t0);
        }
        yield* f.sleep(1 + (k % 3));
        if (!state.hold) host.resumeRuntime();
      }
    },
    { name: "collector" },
  );
  return {
    task,
    stop: () => void (state.stopped = true),
    get count() {
      return state.count;
    },
    get unacknowledged() {
      return state.unacknowledged;
    },
    get holdAllMs() {
      return state.holdAllMs;
    },
    get hold() {
      return state.hold;
    },
    set hold(on: boolean) {
      state.hold = on;
    },
  };
}

/** Starts the pool for a run across workers (createHost rejects where threads are not available). */
export function createThreadsHost(threads: number | "auto", entry?: URL | string): Promise<PoolHost> {
  return createHost({ threads, entry: entry ?? defaultEntry() });
}

/** The fibers of share `index` of `of`: every `of`-th fiber of the run, from the `index`-th. */
export const shareOf = (fibers: number, index: number, of: number): number =>
  Math.floor(fibers / of) + (index < fibers % of ? 1 : 0);

/** Runs the whole scenario across workers and answers its summary. */
export async function runThreads(options: ThreadsDemoOptions): Promise<ThreadsSummary> {
  const fibers = options.fibers ?? 10_000;
  const durationMs = options.durationMs ?? 2000;
  const seed = options.seed ?? 1;
  const host = await createThreadsHost(options.threads, options.entry);
  try {
    const t0 = performance.now();
    const collector = startCollector(host);
    const of = host.workers.length;
    const runs = host.workers.map((w, index) => {
      const p: ShareParam = { index, of, fibers: shareOf(fibers, index, of), durationMs, seed };
      return host.spawnOn<ShareSummary>(w, "share", p).result;
    });
    let workers: ShareSummary[];
    try {
      workers = await Promise.all(runs);
    } finally {
      collector.stop();
      await collector.task.result;
      if (host.door.isSuspended()) host.resumeRuntime();
    }
    const wallMs = performance.now() - t0;
    return summarize(host, seed, workers, wallMs, collector);
  } finally {
    await host.close();
  }
}

function summarize(
  host: PoolHost,
  seed: number,
  workers: ShareSummary[],
  wallMs: number,
  collector: { count: number; unacknowledged: number; holdAllMs: number[] },
): ThreadsSummary {
  const c = host.counters();
  const transitions = c.leaveRuntime + c.enterRuntime + c.reverseEnterRuntime + c.reverseLeaveRuntime;
  const failures: Record<string, number> = {};
  for (const w of workers) for (const [k, v] of Object.entries(w.fibers.failures)) failures[k] = (failures[k] ?? 0) + v;
  const sum = (pick: (w: ShareSummary) => number): number => workers.reduce((a, w) => a + pick(w), 0);
  const held = [...collector.holdAllMs].sort((a, b) => a - b);
  const round = (ms: number): number => Math.round(ms * 100) / 100;
  return {
    seed,
    clock: "real",
    threads: workers.length,
    wallMs: Math.round(wallMs),
    workers,
    total: {
      fibers: {
        spawned: sum((w) => w.fibers.spawned),
        finished: sum((w) => w.fibers.finished),
        aborted: sum((w) => w.fibers.aborted),
        failed: sum((w) => w.fibers.failed),
        failures,
      },
      transitions: {
        leaveRuntime: c.leaveRuntime,
        enterRuntime: c.enterRuntime,
        reverseEnterRuntime: c.reverseEnterRuntime,
        reverseLeaveRuntime: c.reverseLeaveRuntime,
        total: transitions,
        perSecond: wallMs > 0 ? Math.round((transitions * 1000) / wallMs) : 0,
      },
      unmatchedReverseEnter: c.unmatchedReverseEnter,
      switches: { switchIn: c.switchIn, switchOut: c.switchOut },
      suspensions: {
        count: collector.count,
        unacknowledged: collector.unacknowledged,
        holdAllMs: {
          p50: round(percentile(held, 50)),
          p99: round(percentile(held, 99)),
          max: round(held.length ? held[held.length - 1]! : 0),
        },
      },
    },
    checks: { balanced: isBalanced(c), invariants: host.checkInvariants() },
  };
}

/** True when the run did what it should: balanced, invariants hold, no fiber failed. */
export function threadsOk(s: ThreadsSummary): boolean {
  return s.checks.balanced && s.checks.invariants && s.total.fibers.failed === 0;
}
