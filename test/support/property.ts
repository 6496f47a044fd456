// How every property test (fast-check) runs: how many runs, its time limit, and its seed. One
// place, so that each failure prints the seed that replays it and FIBERHOST_SEED replays it the
// same way in both projects (the browser has no process.env: vitest.config.ts provides the
// variables to both).
import fc from "fast-check";
import { expect, inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    /** FIBERHOST_SEED and FIBERHOST_SOAK_RUNS of the process that runs vitest. */
    fiberhostEnv: { seed?: string; soakRuns?: string };
  }
}

function env(): { seed?: string; soakRuns?: string } {
  return inject("fiberhostEnv") ?? {};
}

/** How many runs a property checks: `ci` in `npm test`, FIBERHOST_SOAK_RUNS under `npm run soak`. */
export function runs(ci: number): number {
  const n = Number(env().soakRuns);
  return Number.isInteger(n) && n > 0 ? n : ci;
}

/** A property test's time limit: the configured one in `npm test`, an hour under `npm run soak`. */
export function timeLimit(): number | undefined {
  return env().soakRuns === undefined ? undefined : 3_600_000;
}

/** The seed: FIBERHOST_SEED when given (a replay), else a fresh one, printed with any failure. */
export function propertySeed(): number {
  const given = env().seed;
  if (given !== undefined) {
    const n = Number(given);
    if (!Number.isInteger(n)) throw new Error(`FIBERHOST_SEED must be an integer, not ${JSON.stringify(given)}`);
    return n | 0;
  }
  return (Math.random() * 0x1_0000_0000) | 0;
}

/** The failure, its message saying how to replay it. */
function replayable(err: unknown, seed: number): unknown {
  if (err instanceof Error) {
    const file = expect.getState().testPath?.replace(/^.*?(test\/)/, "$1") ?? "<this test file>";
    try {
      err.message = `${err.message}\n\nReplay it: FIBERHOST_SEED=${seed} npx vitest run ${file}`;
    } catch {
      // (a frozen error stays as it is; fast-check's message names the seed too)
    }
  }
  return err;
}

/** fc.assert with this suite's seed (`numRuns`: runs(…) at the call site). An async property answers a promise. */
export function checkProperty<Ts>(property: fc.IAsyncProperty<Ts>, numRuns: number): Promise<void>;
export function checkProperty<Ts>(property: fc.IProperty<Ts>, numRuns: number): void;
export function checkProperty<Ts>(
  property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>,
  numRuns: number,
): void | Promise<void> {
  const seed = propertySeed();
  const options = { numRuns, seed };
  try {
    const done = fc.assert(property as fc.IAsyncProperty<Ts>, options) as Promise<void> | undefined;
    if (done !== undefined)
      return done.catch((err: unknown) => {
        throw replayable(err, seed);
      });
  } catch (err) {
    throw replayable(err, seed);
  }
}
