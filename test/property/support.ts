// Shared by the property tests: how many runs, and how a settled fiber is described.

/**
 * How many sequences a property checks: `ci` in `npm test`, FIBERHOST_SOAK_RUNS under
 * `npm run soak` (Node only: the browser has no process.env and always runs `ci`).
 */
export function runs(ci: number): number {
  const env = envVar("FIBERHOST_SOAK_RUNS");
  const n = env === undefined ? NaN : Number(env);
  return Number.isInteger(n) && n > 0 ? n : ci;
}

/** A test's time limit: the configured one in `npm test`, an hour under `npm run soak`. */
export function timeLimit(): number | undefined {
  return envVar("FIBERHOST_SOAK_RUNS") === undefined ? undefined : 3_600_000;
}

/** FIBERHOST_SEED replays a failure: fast-check prints the seed and the path with it. */
export function seedOptions(): { seed?: number } {
  const env = envVar("FIBERHOST_SEED");
  return env === undefined ? {} : { seed: Number(env) };
}

/** An environment variable in Node; undefined in a browser (no @types/node here: the tests run in both). */
function envVar(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  return proc?.env?.[name];
}

/** How a fiber's result promise settled. */
export type Settled = { outcome: "returned"; value: unknown } | { outcome: "aborted" | "error"; error: unknown };

export function settle(p: Promise<unknown>): Promise<Settled> {
  return p.then(
    (value) => ({ outcome: "returned" as const, value }),
    (error: unknown) => ({
      outcome: (error as { name?: string })?.name === "TaskAbortError" ? ("aborted" as const) : ("error" as const),
      error,
    }),
  );
}
