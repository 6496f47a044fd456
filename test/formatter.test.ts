// One formatter shows user values in every error message: it never throws, whatever the value,
// so bad input is always answered with HResultError(E_INVALIDARG), never a TypeError.
import { describe, expect, it } from "vitest";
import { createHost, hresultName, HResultError, E_INVALIDARG, type FiberContext, type Host } from "../src/index.js";
import { describeValue } from "../src/base/describe.js";
import { guestBytes } from "../src/demo/generated/guest-wasm.js";

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}
const throwing = () => {
  throw new Error("trap");
};
const trapsThrow = new Proxy(
  {},
  { get: throwing, getPrototypeOf: throwing, getOwnPropertyDescriptor: throwing, has: throwing, ownKeys: throwing },
);

const HOSTILE: [string, unknown][] = [
  ["Object.create(null)", Object.create(null)],
  ["an object whose toString throws", { toString: throwing, valueOf: throwing }],
  ["an object whose Symbol.toPrimitive throws", { [Symbol.toPrimitive]: throwing }],
  ["a revoked Proxy", revokedProxy()],
  ["a Proxy whose traps throw", trapsThrow],
  ["a Symbol", Symbol("s")],
  ["a BigInt", 5n],
  ["a function", function named() {}],
  [
    "a revoked Proxy of a function",
    (() => {
      const { proxy, revoke } = Proxy.revocable(() => {}, {});
      revoke();
      return proxy;
    })(),
  ],
  ["a long string", "x".repeat(100_000)],
  [
    "an object with a throwing constructor getter",
    Object.create(Object.defineProperty({}, "constructor", { get: throwing })),
  ],
];

describe("describeValue", () => {
  it.each(HOSTILE)("describes %s without throwing, in a short string", (_, v) => {
    const text = describeValue(v);
    expect(typeof text).toBe("string");
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThan(100);
  });

  it("shows plain values as a reader expects them", () => {
    expect(describeValue(1.5)).toBe("1.5");
    expect(describeValue(-0)).toBe("-0");
    expect(describeValue(NaN)).toBe("NaN");
    expect(describeValue("8")).toBe('"8"');
    expect(describeValue(5n)).toBe("5n");
    expect(describeValue(Symbol("s"))).toBe("Symbol(s)");
    expect(describeValue(undefined)).toBe("undefined");
    expect(describeValue(null)).toBe("null");
    expect(describeValue(Object.create(null))).toBe("an object with a null prototype");
    expect(describeValue({})).toBe("an object");
    expect(describeValue([1, 2])).toBe("an array of length 2");
    expect(describeValue(new Map())).toBe("an object (Map)");
    expect(describeValue(function named() {})).toBe("a function (named)");
    expect(describeValue("x".repeat(1000))).toMatch(/… \(1002 characters\)$/);
  });
});

describe("hresultName", () => {
  it.each(HOSTILE)("names %s as not an HRESULT, without throwing", (_, v) => {
    expect(hresultName(v as number)).toMatch(/^not an HRESULT: /);
  });
  it("names the contract's codes, and others in hex", () => {
    expect(hresultName(E_INVALIDARG)).toBe("E_INVALIDARG");
    expect(hresultName(-2147024809)).toBe("E_INVALIDARG");
    expect(hresultName(0x80001234)).toBe("0x80001234");
  });
});

/** Every option and argument whose bad value is shown in an error message. */
const SITES: [string, (host: Host, v: unknown) => unknown][] = [
  ["spawn({ priority })", (host, v) => host.spawn(function* () {}, { priority: v as number })],
  ["spawn({ stackSize })", (host, v) => host.spawn(function* () {}, { stackSize: v as number })],
  ["createSemaphore(initial, 4)", (host, v) => host.createSemaphore(v as number, 4)],
  ["createSemaphore(0, maximum)", (host, v) => host.createSemaphore(0, v as number)],
  [
    "f.unmanaged(target, body)",
    (host, v) => {
      let thrown: unknown = "nothing thrown";
      host.spawn(function* (f: FiberContext) {
        try {
          yield* f.unmanaged(v as number, () => 1);
        } catch (e) {
          thrown = e;
        }
      });
      host.runUntilIdle();
      throw thrown;
    },
  ],
];

const HOST_OPTIONS = [
  "budget",
  "clock",
  "core",
  "maxStackSize",
  "enterTimeoutMs",
  "maxMemoryBytes",
  "dispatch",
  "callNeedsHostHook",
];

describe("every message that shows a user value", () => {
  for (const [site, call] of SITES) {
    it.each(HOSTILE)(`${site} with %s throws HResultError(E_INVALIDARG) naming what was wrong`, async (_, v) => {
      const host = await createHost({ clock: "virtual" });
      let thrown: unknown;
      try {
        call(host, v);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(HResultError);
      expect((thrown as HResultError).hr).toBe(E_INVALIDARG);
      expect((thrown as Error).message.length).toBeLessThan(300);
      expect(host.checkInvariants()).toBe(true);
      expect(host.liveTaskCount).toBe(1);
    });
  }

  for (const option of HOST_OPTIONS) {
    it.each(HOSTILE.filter(([, v]) => typeof v !== "function"))(
      `createHost({ ${option} }) with %s rejects with HResultError(E_INVALIDARG)`,
      async (_, v) => {
        await expect(createHost({ [option]: v } as never)).rejects.toSatisfy(
          (e: unknown) =>
            e instanceof HResultError && e.hr === E_INVALIDARG && e.message.includes(option) && e.message.length < 300,
        );
      },
    );
  }

  it("spawn(a revoked Proxy of a generator function) throws HResultError(E_INVALIDARG); createTask answers E_INVALIDARG", async () => {
    const host = await createHost({ clock: "virtual" });
    const { proxy, revoke } = Proxy.revocable(function* () {}, {});
    revoke();
    expect(() => host.spawn(proxy as never)).toThrow(HResultError);
    expect(hresultName(host.taskManager.createTask(0, proxy as never, 0, {}))).toBe("E_INVALIDARG");
    expect(host.liveTaskCount).toBe(1);
  });

  it.each(HOSTILE.filter(([, v]) => typeof v !== "function"))(
    "host.instantiate(guest, imports, { suspension: %s }) rejects with HResultError(E_INVALIDARG)",
    async (_, v) => {
      const host = await createHost({ clock: "virtual" });
      const imports = {
        env: {
          host_add: () => 0,
          host_fetch: () => 0,
          host_callback: () => 0,
          host_fail: () => {},
          host_note: () => {},
        },
      };
      await expect(host.instantiate(guestBytes("plain"), imports, { suspension: v } as never)).rejects.toSatisfy(
        (e: unknown) => e instanceof HResultError && e.hr === E_INVALIDARG && e.message.length < 300,
      );
    },
  );

  it.each(HOSTILE)("f.call(%s) throws HResultError(E_INVALIDARG) in the fiber", async (_, v) => {
    const host = await createHost({ clock: "virtual" });
    let thrown: unknown = "nothing thrown";
    host.spawn(function* (f) {
      try {
        yield* f.call(v as () => never);
      } catch (e) {
        thrown = e;
      }
    });
    host.runUntilIdle();
    expect(thrown).toBeInstanceOf(HResultError);
    expect((thrown as HResultError).hr).toBe(E_INVALIDARG);
    expect((thrown as Error).message.length).toBeLessThan(300);
  });

  const HOSTILE_OPTIONS: [string, () => object][] = [
    ["a revoked Proxy", () => revokedProxy()],
    ["a Proxy whose traps throw", () => trapsThrow],
    [
      "an object with throwing getters",
      () =>
        Object.defineProperties({}, { budget: { get: throwing }, priority: { get: throwing }, now: { get: throwing } }),
    ],
  ];
  it.each(HOSTILE_OPTIONS)("createHost(%s) rejects with HResultError(E_INVALIDARG)", async (_, options) => {
    await expect(createHost(options() as never)).rejects.toSatisfy(
      (e: unknown) => e instanceof HResultError && e.hr === E_INVALIDARG,
    );
  });
  it.each(HOSTILE_OPTIONS)(
    "spawn(body, %s) throws HResultError(E_INVALIDARG) and leaves no task behind",
    async (_, options) => {
      const host = await createHost({ clock: "virtual" });
      expect(() => host.spawn(function* () {}, options() as never)).toThrow(HResultError);
      expect(host.liveTaskCount).toBe(1);
    },
  );
  it.each(HOSTILE_OPTIONS)("createHost({ clock: %s }) rejects with HResultError(E_INVALIDARG)", async (_, clock) => {
    await expect(createHost({ clock: clock() as never })).rejects.toSatisfy(
      (e: unknown) => e instanceof HResultError && e.hr === E_INVALIDARG,
    );
  });
});
