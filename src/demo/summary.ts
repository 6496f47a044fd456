// The demo's summary: what a run did, as one JSON-able object (`fiberhost demo --json` prints it).

import type { Counters } from "../core/door.js";

export const FIBER_KINDS = ["handler", "orphan", "worker", "locker", "careless"] as const;
/**
 * handler: serves requests through the guest (export → import → export); orphan: born in unmanaged
 * code, reverse-enters and never leaves; worker: sleeps and waits on an event and on Crsts;
 * locker: takes two Crsts in either order (the cycles it closes answer HOST_E_DEADLOCK);
 * careless: ends while it holds a Crst (its waiters get HOST_E_ABANDONED).
 */
export type FiberKind = (typeof FIBER_KINDS)[number];

export const WAIT_RESULTS = [
  "S_OK",
  "HOST_E_TIMEOUT",
  "HOST_E_INTERRUPTED",
  "HOST_E_ABANDONED",
  "HOST_E_DEADLOCK",
] as const;

export interface DemoSummary {
  seed: number;
  clock: "virtual" | "real";
  /** Scenario time the run spanned, in ms (virtual time with the virtual clock). */
  scenarioMs: number;
  /** Real time the run took, in ms. */
  wallMs: number;
  fibers: {
    spawned: number;
    byKind: Record<FiberKind, number>;
    /** Ended by returning. */
    finished: number;
    /** Ended by an abort the supervisor sent (TaskAbortError delivered and caught). */
    aborted: number;
    /** Ended by another error, counted by name. */
    failed: number;
    failures: Record<string, number>;
  };
  transitions: {
    leaveRuntime: number;
    enterRuntime: number;
    reverseEnterRuntime: number;
    reverseLeaveRuntime: number;
    total: number;
    /** Per second of real time. */
    perSecond: number;
  };
  /** Reverse enters never left, counted by the core when their task exited. */
  unmatchedReverseEnter: number;
  /** Every wait a workload fiber made, by its answer (anything else under its own name). */
  waits: Record<string, number>;
  suspensions: {
    count: number;
    /** Entries into managed code that found the runtime suspended and waited for the resume. */
    enteringWaited: number;
    enterWaitMs: { p50: number; p99: number; max: number };
  };
  aborts: { requested: number; delivered: number };
  alerts: { sent: number };
  /**
   * The example guest (host.instantiate): requests served, calls of its imports (each a hooked
   * LeaveRuntime), and times a fiber blocked inside it.
   */
  guest: { suspension: string; requests: number; importCalls: number; blocks: number };
  switches: { switchIn: number; switchOut: number };
  checks: {
    /** Leaves equal enters; reverse enters equal reverse leaves plus the unmatched ones. */
    balanced: boolean;
    /** host.checkInvariants() after the run. */
    invariants: boolean;
    /** Tasks still alive after the run (1: the root task alone). */
    liveTasks: number;
  };
}

/** The nearest-rank percentile of sorted values (0 when there are none). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function isBalanced(c: Counters): boolean {
  return c.leaveRuntime === c.enterRuntime && c.reverseEnterRuntime === c.reverseLeaveRuntime + c.unmatchedReverseEnter;
}
