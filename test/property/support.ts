// Shared by the property tests: how they run (test/support/property.ts), and how a settled fiber is described.

export { checkProperty, runs, timeLimit } from "../support/property.js";

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
