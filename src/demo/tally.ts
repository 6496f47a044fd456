// What a run of the demo scenario counts as it goes, and the summary it makes of them.

import type { Counters } from "../core/door.js";
import type { Host } from "../host/host.js";
import { type HResultError, hresultName } from "../base/hresult.js";
import { classifyThrown, isInstance, isTaskAbortError, readSafely } from "../base/errors.js";
import type { DemoGuest } from "./demo-guest.js";
import { FIBER_KINDS, WAIT_RESULTS, isBalanced, percentile, type DemoSummary, type FiberKind } from "./summary.js";

function errorName(err: unknown): string {
  if (classifyThrown(err) === "hresult") return hresultName((err as HResultError).hr);
  if (!isInstance(err, Error)) return typeof err;
  const name = readSafely(err, "name");
  return typeof name === "string" ? name : "Error";
}

export class Tally {
  readonly spawnedByKind = Object.fromEntries(FIBER_KINDS.map((k) => [k, 0])) as Record<FiberKind, number>;
  finished = 0;
  aborted = 0;
  readonly failures: Record<string, number> = {};
  readonly waits: Record<string, number> = Object.fromEntries(WAIT_RESULTS.map((r) => [r, 0]));
  private enterWaits: number[] = [];
  suspensions = 0;
  abortsRequested = 0;
  alertsSent = 0;
  requests = 0;
  /**
   * The workload fibers' own counters, summed as each one ends (a worker's share counts them so:
   * the core's totals are the whole runtime's, every worker's at once).
   */
  readonly own = { transitions: 0, switches: 0 };

  /** Adds an ending workload fiber's counters to `own`. */
  counted(c: Counters): void {
    this.own.transitions += c.leaveRuntime + c.enterRuntime + c.reverseEnterRuntime + c.reverseLeaveRuntime;
    this.own.switches += c.switchIn + c.switchOut;
  }

  /** `keepLatest`: keep only the latest enter waits (a continuous run, the page). */
  constructor(private readonly keepLatest: boolean) {}

  /** A workload fiber ended: by returning, by the supervisor's abort, or by another error. */
  ended(outcome: "finished" | { error: unknown }): void {
    if (outcome === "finished") this.finished++;
    else if (isTaskAbortError(outcome.error)) this.aborted++;
    else {
      const name = errorName(outcome.error);
      this.failures[name] = (this.failures[name] ?? 0) + 1;
    }
  }

  /** A wait's answer. */
  waited(hr: number): void {
    const name = hresultName(hr);
    this.waits[name] = (this.waits[name] ?? 0) + 1;
  }

  /** An entry into managed code that found the runtime suspended waited `ms` for the resume. */
  enterWaited(ms: number): void {
    if (this.keepLatest && this.enterWaits.length >= 20_000) this.enterWaits.splice(0, 10_000);
    this.enterWaits.push(ms);
  }

  summary(
    host: Host,
    guest: DemoGuest,
    run: { seed: number; clock: "virtual" | "real"; scenarioMs: number; wallMs: number; spawned: number },
  ): DemoSummary {
    const c = host.counters();
    const total = c.leaveRuntime + c.enterRuntime + c.reverseEnterRuntime + c.reverseLeaveRuntime;
    const waited = [...this.enterWaits].sort((a, b) => a - b);
    const failed = Object.values(this.failures).reduce((a, b) => a + b, 0);
    return {
      seed: run.seed,
      clock: run.clock,
      scenarioMs: run.scenarioMs,
      wallMs: Math.round(run.wallMs),
      fibers: {
        spawned: run.spawned,
        byKind: { ...this.spawnedByKind },
        finished: this.finished,
        aborted: this.aborted,
        failed,
        failures: { ...this.failures },
      },
      transitions: {
        leaveRuntime: c.leaveRuntime,
        enterRuntime: c.enterRuntime,
        reverseEnterRuntime: c.reverseEnterRuntime,
        reverseLeaveRuntime: c.reverseLeaveRuntime,
        total,
        perSecond: run.wallMs > 0 ? Math.round((total * 1000) / run.wallMs) : 0,
      },
      unmatchedReverseEnter: c.unmatchedReverseEnter,
      waits: { ...this.waits },
      suspensions: {
        count: this.suspensions,
        enteringWaited: waited.length,
        enterWaitMs: {
          p50: percentile(waited, 50),
          p99: percentile(waited, 99),
          max: waited.length ? waited[waited.length - 1]! : 0,
        },
      },
      aborts: { requested: this.abortsRequested, delivered: this.aborted },
      alerts: { sent: this.alertsSent },
      guest: {
        suspension: guest.suspension,
        requests: this.requests,
        importCalls: guest.importCalls,
        blocks: guest.blocks,
      },
      switches: { switchIn: c.switchIn, switchOut: c.switchOut },
      checks: {
        balanced: isBalanced(c),
        invariants: host.checkInvariants(),
        liveTasks: host.liveTaskCount,
      },
    };
  }
}
