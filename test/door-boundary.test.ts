// No user value reaches the core unconverted: every public call that takes a number, given any
// value at all, answers (or throws HResultError) without a trap in the core. A value the core's
// i32/f64 parameters would wrap, or could not take (a bigint, a symbol, an object), is refused
// before the wasm boundary, so the runtime stays started and nothing is disabled.
import { describe, expect, it } from "vitest";
import { createHost, HResultError, type FiberContext, type Host, type Op } from "../src/index.js";

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

const VALUES: [string, () => unknown][] = [
  ["2^32 + 5", () => 2 ** 32 + 5],
  ["-2^31 - 1", () => -(2 ** 31) - 1],
  ["2^53", () => 2 ** 53],
  ["-0", () => -0],
  ["NaN", () => NaN],
  ["Infinity", () => Infinity],
  ["5n", () => 5n],
  ["2n ** 70n", () => 2n ** 70n],
  ["a Symbol", () => Symbol("x")],
  ["Object.create(null)", () => Object.create(null)],
  ["a revoked Proxy", revokedProxy],
  [
    "an object whose valueOf throws",
    () => ({
      valueOf: () => {
        throw new Error("valueOf");
      },
    }),
  ],
  ['"7"', () => "7"],
  ["null", () => null],
  ["true", () => true],
];

/** Runs `op(f)` in a fiber: what it answered or threw. */
function inFiber(host: Host, op: (f: FiberContext) => Op<unknown>): unknown {
  let seen: unknown;
  host.spawn(function* (f) {
    try {
      seen = yield* op(f);
    } catch (e) {
      seen = e;
    }
  });
  host.runUntilIdle();
  return seen;
}

// `never`: each call is handed values of every type on purpose.
const CALLS: [string, (host: Host, v: never) => unknown][] = [
  ["taskManager.createTask(stackSize)", (h, v) => h.taskManager.createTask(v, function* () {}, 0, {})],
  ["taskManager.sleep(ms)", (h, v) => h.taskManager.sleep(v)],
  ["taskManager.sleep(10, option)", (h, v) => h.taskManager.sleep(10, v)],
  ["taskManager.switchToTask(option)", (h, v) => h.taskManager.switchToTask(v)],
  ["taskManager.setLocale(lcid)", (h, v) => h.taskManager.setLocale(v)],
  ["taskManager.setUILocale(lcid)", (h, v) => h.taskManager.setUILocale(v)],
  ["taskManager.callNeedsHostHook(target)", (h, v) => h.taskManager.callNeedsHostHook(v, {})],
  ["taskManager.leaveRuntime(target)", (h, v) => h.taskManager.leaveRuntime(v)],
  ["taskManager.setStackGuarantee(bytes)", (h, v) => h.taskManager.setStackGuarantee(v)],
  ["task.join(ms)", (h, v) => h.spawn(function* () {}).join(v)],
  ["task.join(0, option)", (h, v) => h.spawn(function* () {}).join(0, v)],
  ["task.setPriority(p)", (h, v) => h.spawn(function* () {}).setPriority(v)],
  ["task.setTaskIdentifier(id)", (h, v) => h.spawn(function* () {}).setTaskIdentifier(v)],
  ["crst.tryEnter(option)", (h, v) => h.createCrst().tryEnter(v, {})],
  ["semaphore.release(n)", (h, v) => h.createSemaphore(0, 4).release(v)],
  ["createSemaphore(initial, max)", (h, v) => h.createSemaphore(v, v)],
  ["trace.start(capacity)", (h, v) => h.trace.start(v)],
  ["spawn({ priority })", (h, v) => h.spawn(function* () {}, { priority: v })],
  ["spawn({ stackSize })", (h, v) => h.spawn(function* () {}, { stackSize: v })],
  ["f.leaveRuntime(target)", (h, v) => inFiber(h, (f) => f.leaveRuntime(v))],
  ["f.unmanaged(target, body)", (h, v) => inFiber(h, (f) => f.unmanaged(v, () => 1))],
  ["f.sleep(ms)", (h, v) => inFiber(h, (f) => f.sleep(v))],
  ["f.sleep(0, option)", (h, v) => inFiber(h, (f) => f.sleep(0, v))],
  [
    "f.join(task, ms)",
    (h, v) =>
      inFiber(h, (f) =>
        f.join(
          h.spawn(function* () {}),
          v,
        ),
      ),
  ],
  ["f.wait(event, ms, option)", (h, v) => inFiber(h, (f) => f.wait(h.createAutoEvent(), v, v))],
  ["crst.enter(option)", (h, v) => inFiber(h, () => h.createCrst().enter(v))],
];

describe("no user value reaches the core unconverted", () => {
  for (const core of ["release", "debug"] as const) {
    it.each(CALLS)(
      `${core} core: %s, given any value, answers without a trap; the runtime stays started`,
      async (_, call) => {
        const host = await createHost({ clock: "virtual", core });
        for (const [label, make] of VALUES) {
          try {
            call(host, make() as never);
          } catch (e) {
            expect(e, label).toBeInstanceOf(HResultError);
          }
          host.runUntilIdle();
          expect(`${label}: ${host.runtimeState}`).toBe(`${label}: started`);
          expect(host.checkInvariants(), label).toBe(true);
        }
      },
    );
  }
});
