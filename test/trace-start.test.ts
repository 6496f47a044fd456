// trace.start(capacity): what it answers for every kind of value, and that it meets the runtime's
// state and an armed trap like every other call into the core.
import { describe, expect, it } from "vitest";
import {
  createHost,
  hresultName,
  E_FAIL,
  E_INVALIDARG,
  HOST_E_CLRNOTAVAILABLE,
  S_OK,
  type Host,
} from "../src/index.js";

const BAD_CAPACITIES: [string, unknown][] = [
  ["2^32 + 5 (would wrap to 5)", 2 ** 32 + 5],
  ["2^31", 2 ** 31],
  ["-2^32 + 16", -(2 ** 32) + 16],
  ["1.5", 1.5],
  ["NaN", NaN],
  ["Infinity", Infinity],
  ['"16"', "16"],
  ["5n", 5n],
  ["a Symbol", Symbol("capacity")],
  ["a null-prototype object", Object.create(null)],
  [
    "an object whose valueOf throws",
    {
      valueOf() {
        throw new Error("no");
      },
    },
  ],
  ["null", null],
];

async function tracedHost(options = {}): Promise<Host> {
  const host = await createHost({ clock: "virtual", ...options });
  host.spawn(function* (f) {
    yield* f.managed(() => 1);
  });
  return host;
}

describe("trace.start(capacity) with a value that is not an integer in 1 … 2^24", () => {
  for (const core of ["release", "debug"] as const) {
    it.each(BAD_CAPACITIES)(
      `${core} core: %s answers E_INVALIDARG; nothing records, the runtime stays started`,
      async (_, v) => {
        const host = await tracedHost({ core });
        expect(hresultName(host.trace.start(v as number))).toBe(hresultName(E_INVALIDARG));
        expect(host.trace.on).toBe(false);
        expect(host.runtimeState).toBe("started");
        host.runUntilIdle();
        expect(host.trace.toChromeTrace().traceEvents).toEqual([]);
        expect(host.checkInvariants()).toBe(true);
      },
    );
  }
});

describe("trace.start and the runtime's state", () => {
  it("answers HOST_E_CLRNOTAVAILABLE on a runtime never started, and records nothing", async () => {
    const host = await createHost({ clock: "virtual", startRuntime: false });
    expect(hresultName(host.trace.start(16))).toBe(hresultName(HOST_E_CLRNOTAVAILABLE));
    expect(host.trace.on).toBe(false);
    expect(hresultName(host.trace.start(2 ** 32 + 5))).toBe(hresultName(HOST_E_CLRNOTAVAILABLE));
    expect(host.startRuntime()).toBe(S_OK);
    expect(host.trace.start(16)).toBe(S_OK);
  });

  it("answers HOST_E_CLRNOTAVAILABLE on a disabled runtime, also for a bad capacity", async () => {
    const host = await tracedHost();
    host.disable("test");
    expect(hresultName(host.trace.start(16))).toBe(hresultName(HOST_E_CLRNOTAVAILABLE));
    expect(hresultName(host.trace.start(5n as never))).toBe(hresultName(HOST_E_CLRNOTAVAILABLE));
    expect(host.trace.on).toBe(false);
  });

  for (const core of ["release", "debug"] as const) {
    it(`${core} core: meets an armed trap: E_FAIL once, the runtime disabled, the trap spent`, async () => {
      const host = await tracedHost({ core });
      host.injectCoreFault();
      expect(hresultName(host.trace.start(16))).toBe(hresultName(E_FAIL));
      expect(host.runtimeState).toBe("disabled");
      expect(host.trace.on).toBe(false);
      expect(hresultName(host.trace.start(16))).toBe(hresultName(HOST_E_CLRNOTAVAILABLE));
      expect(hresultName(host.taskManager.leaveRuntime(1))).toBe(hresultName(HOST_E_CLRNOTAVAILABLE));
    });
  }

  it("a restart at a smaller capacity keeps recording, in the smaller ring", async () => {
    const host = await tracedHost();
    expect(host.trace.start(1 << 12)).toBe(S_OK);
    expect(host.trace.start(4)).toBe(S_OK);
    host.runUntilIdle();
    const events = host.trace.toChromeTrace().traceEvents.filter((e) => e.ph !== "M");
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThanOrEqual(6); // 4 ring events; an exit gives an E and an instant
  });
});
