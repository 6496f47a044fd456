// Helpers shared by the scheduler's specification tests.
import { expect } from "vitest";
import { createHost, type Host } from "../../src/index.js";

/** A host on the virtual clock: no test waits for real time. */
export const virtualHost = (): Promise<Host> => createHost({ clock: "virtual" });

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
