import type * as fiberhost from "../src/index.js";

export interface ScenarioWorker {
  name: string;
  outcome: "finished" | "aborted" | "failed";
  /** The core's counters for the worker equal its own tally of its transitions. */
  matches: boolean;
  error: unknown;
}

export interface ScenarioReport {
  host: fiberhost.Host;
  ms: number;
  stats: { processed: number; bytes: number; collections: number };
  jobs: number;
  workers: ScenarioWorker[];
  totals: fiberhost.Counters;
  balanced: boolean;
  tallied: boolean;
}

export function runScenario(
  fh: typeof fiberhost,
  options?: { workers?: number; jobs?: number; host?: fiberhost.HostOptions },
): Promise<ScenarioReport>;
