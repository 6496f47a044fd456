// Helpers shared by the scheduler's specification tests.
import { expect } from "vitest";
import { createHost, type Host, type HostOptions } from "../../src/index.js";
import { fiberFailed } from "./failures.js";

export { expectFailure, fiberFailed } from "./failures.js";

/**
 * A test's host: a fiber failure nothing observed fails the test (test/support/failures.ts).
 * Options given win (a test of onError passes its own).
 */
export const testHost = (options: HostOptions = {}): Promise<Host> => createHost({ onError: fiberFailed, ...options });

/** A test host on the virtual clock: no test waits for real time. */
export const virtualHost = (options: HostOptions = {}): Promise<Host> => testHost({ clock: "virtual", ...options });

/**
 * Until the failures nothing observed are reported: a macrotask, which follows the check that the
 * settle of run() (or a failure with no run pending) arms (src/scheduler/failure-reports.ts).
 */
export const reportsDue = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** The error a promise rejected with (fails the test when it resolved). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected the promise to reject");
}

/** Every transition was paired: leaves with enters, reverse enters with reverse leaves. */
export function expectBalanced(host: Host): void {
  const c = host.counters();
  expect(c.leaveRuntime).toBe(c.enterRuntime);
  expect(c.reverseEnterRuntime).toBe(c.reverseLeaveRuntime);
  expect(c.unmatchedReverseEnter).toBe(0);
}
