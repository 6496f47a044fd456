// host.instantiate: every crossing of a real WebAssembly guest is hooked. A call into a guest
// export runs between ReverseEnterRuntime and ReverseLeaveRuntime, a call out to an import
// between LeaveRuntime(target) and EnterRuntime, on the current task; the hook policy is asked
// once per import, at instantiation.
import { describe, it, expect, vi } from "vitest";
import {
  createHost,
  HResultError,
  FIRST_IMPORT_TARGET,
  COR_E_STACKOVERFLOW,
  E_INVALIDARG,
  E_NOTIMPL,
  HOST_E_CLRNOTAVAILABLE,
  HOST_E_INVALIDOPERATION,
  HOST_E_TIMEOUT,
  S_OK,
  type Host,
} from "../src/index.js";
import { expectBalanced, rejection, virtualHost, expectFailure } from "./support/fibers.js";
import { frameNames, hasJspi, loadGuest, SUSPENDING } from "./support/guest.js";
import { guestBytes } from "../src/demo/generated/guest-wasm.js";

const counters = (host: Host) => host.rootTask.counters();

describe("a hooked export", () => {
  it("called from the root task runs between ReverseEnterRuntime and ReverseLeaveRuntime on the root task", async () => {
    const host = await virtualHost();
    const { guest } = await loadGuest(host, "plain");
    const before = counters(host);
    expect(guest.exports.add(2, 3)).toBe(5);
    const after = counters(host);
    expect(after.reverseEnterRuntime - before.reverseEnterRuntime).toBe(1);
    expect(after.reverseLeaveRuntime - before.reverseLeaveRuntime).toBe(1);
    expect(after.leaveRuntime - before.leaveRuntime).toBe(0);
    expect(host.rootTask.frames()).toEqual([]);
    expectBalanced(host);
  });

  it("is the guest's export behind a hook: instance.exports stay unhooked, memory passes through", async () => {
    const host = await virtualHost();
    const { guest } = await loadGuest(host, "plain");
    expect(guest.exports.add).not.toBe(guest.instance.exports.add);
    expect(guest.exports.memory).toBe(guest.instance.exports.memory);
    const before = counters(host);
    expect((guest.instance.exports.add as (a: number, b: number) => number)(1, 1)).toBe(2);
    expect(counters(host)).toEqual(before);
    expect(Object.isFrozen(guest.exports)).toBe(true);
  });

  it("called inside a fiber crosses on the fiber's own task, not the root task's", async () => {
    const host = await virtualHost();
    const { guest, log } = await loadGuest(host, "plain");
    const rootBefore = counters(host);
    let after: string[] = [];
    const t = host.spawn(function* (f) {
      const r = guest.exports.callAdd(4, 5);
      after = frameNames(f.task.frames());
      return r;
    });
    host.runUntilIdle();
    expect(await t.result).toBe(9);
    expect(log.frames.map(frameNames)).toEqual([["R", `L${guest.targets["env.host_add"].toString(16)}`]]);
    expect(after).toEqual([]);
    const c = t.counters();
    expect([c.reverseEnterRuntime, c.leaveRuntime, c.enterRuntime, c.reverseLeaveRuntime]).toEqual([1, 1, 1, 1]);
    expect(counters(host)).toEqual(rootBefore);
  });
});

describe("a hooked import", () => {
  it("runs between LeaveRuntime(target) and EnterRuntime: frames [R, L(target)] inside it", async () => {
    const host = await virtualHost();
    const { guest, log } = await loadGuest(host, "plain");
    const target = guest.targets["env.host_add"];
    expect(target).toBeGreaterThanOrEqual(FIRST_IMPORT_TARGET);
    expect(guest.exports.callAdd(20, 22)).toBe(42);
    expect(log.frames.map(frameNames)).toEqual([["R", `L${target.toString(16)}`]]);
    const c = counters(host);
    expect([c.reverseEnterRuntime, c.leaveRuntime, c.enterRuntime, c.reverseLeaveRuntime]).toEqual([1, 1, 1, 1]);
    expect(host.rootTask.frames()).toEqual([]);
  });

  it("export → import → export → import gives the frames R, L, R, L for real", async () => {
    const host = await virtualHost();
    const { guest, log } = await loadGuest(host, "plain");
    const cb = guest.targets["env.host_callback"].toString(16);
    expect(guest.exports.nested(2)).toBe(2);
    expect(log.frames.map(frameNames)).toEqual([
      ["R", `L${cb}`],
      ["R", `L${cb}`, "R", `L${cb}`],
    ]);
    const c = counters(host);
    expect([c.reverseEnterRuntime, c.leaveRuntime, c.enterRuntime, c.reverseLeaveRuntime]).toEqual([3, 2, 2, 3]);
    expect(host.rootTask.frames()).toEqual([]);
  });

  it("a loop of calls inside the guest crosses once per call", async () => {
    const host = await virtualHost();
    const { guest } = await loadGuest(host, "plain");
    expect(guest.exports.addLoop(100)).toBe(100);
    expect(counters(host).leaveRuntime).toBe(100);
    expectBalanced(host);
  });

  it("the same function imported twice is the same target; distinct functions have distinct targets", async () => {
    const host = await virtualHost();
    const shared = (a: number, b: number) => a + b;
    const other = () => 0;
    const imports = {
      env: { host_add: shared, host_note: shared, host_fetch: other, host_callback: () => 0, host_fail: () => {} },
    };
    const g1 = await host.instantiate(guestBytes("plain"), imports);
    const g2 = await host.instantiate(guestBytes("plain"), imports);
    expect(g1.targets["env.host_add"]).toBe(g1.targets["env.host_note"]);
    expect(g2.targets["env.host_add"]).toBe(g1.targets["env.host_add"]);
    expect(new Set(Object.values(g1.targets)).size).toBe(4);
  });
});

describe("a guest's start function", () => {
  // (module (import "env" "f" (func)) (start 0)): the start function is the import itself.
  const startsWithImport = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x02, 0x09, 0x01, 0x03, 0x65,
    0x6e, 0x76, 0x01, 0x66, 0x00, 0x00, 0x08, 0x01, 0x00,
  ]);

  it("runs at instantiation between ReverseEnterRuntime and ReverseLeaveRuntime: its imports cross as any call's", async () => {
    const host = await virtualHost();
    const seen: string[][] = [];
    const g = await host.instantiate(startsWithImport, {
      env: { f: () => void seen.push(frameNames(host.rootTask.frames())) },
    });
    expect(seen).toEqual([["R", `L${g.targets["env.f"].toString(16)}`]]);
    expect(host.rootTask.frames()).toEqual([]);
    const c = counters(host);
    expect([c.reverseEnterRuntime, c.leaveRuntime, c.enterRuntime, c.reverseLeaveRuntime]).toEqual([1, 1, 1, 1]);
  });

  it("an exception from it rejects the instantiation with that error, pairs closed", async () => {
    const host = await virtualHost();
    const err = await rejection(
      host.instantiate(startsWithImport, {
        env: {
          f: () => {
            throw new RangeError("start");
          },
        },
      }),
    );
    expect(err).toBeInstanceOf(RangeError);
    expectBalanced(host);
    expect(host.rootTask.frames()).toEqual([]);
  });
});

describe("host.instantiate given a compiled WebAssembly.Module", () => {
  // (module (import "env" "f" (func)) (start 0)) and (module): with and without a start function.
  const withStart = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00, 0x02, 0x09, 0x01, 0x03, 0x65,
    0x6e, 0x76, 0x01, 0x66, 0x00, 0x00, 0x08, 0x01, 0x00,
  ]);
  const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const pairs = (host: Host) => {
    const c = counters(host);
    return [c.reverseEnterRuntime, c.reverseLeaveRuntime];
  };

  it("hooks the guest as from its bytes: the module itself, hooked exports, the same targets", async () => {
    const host = await virtualHost();
    const module = await WebAssembly.compile(guestBytes("plain") as BufferSource);
    const seen: string[][] = [];
    const imports = {
      env: {
        host_add: (a: number, b: number) => {
          seen.push(frameNames(host.rootTask.frames()));
          return a + b;
        },
        host_fetch: (x: number) => x,
        host_callback: () => 0,
        host_fail: () => {},
        host_note: () => {},
      },
    };
    const g = await host.instantiate<{ callAdd(a: number, b: number): number }>(module, imports);
    expect(g.module).toBe(module);
    expect(g.suspension).toBe("none");
    expect(g.exports.callAdd(2, 3)).toBe(5);
    expect(seen).toEqual([["R", `L${g.targets["env.host_add"].toString(16)}`]]);
    const fromBytes = await host.instantiate(guestBytes("plain"), imports);
    expect(fromBytes.targets).toEqual(g.targets);
    expectBalanced(host);
  });

  it("an asyncify guest's Module suspends in f.call as its bytes do", async () => {
    const host = await virtualHost();
    const module = await WebAssembly.compile(guestBytes("asyncify") as BufferSource);
    const { guest, setFetch } = await loadGuest(host, "asyncify", {}, undefined, module);
    expect(guest.suspension).toBe("asyncify");
    setFetch(async (x) => x + 1);
    const t = host.spawn(function* (f) {
      return yield* f.call(guest.exports.fetchOnce, 4);
    });
    await host.run();
    expect(await t.result).toBe(5);
    expectBalanced(host);
  });

  it("runs a start function between ReverseEnterRuntime and ReverseLeaveRuntime, as from bytes", async () => {
    const host = await virtualHost();
    const seen: string[][] = [];
    const g = await host.instantiate(await WebAssembly.compile(withStart), {
      env: { f: () => void seen.push(frameNames(host.rootTask.frames())) },
    });
    expect(seen).toEqual([["R", `L${g.targets["env.f"].toString(16)}`]]);
    expect(pairs(host)).toEqual([1, 1]);
    expectBalanced(host);
  });

  it("a Module without a start function makes no pair: the pair opens only at a start function's first hooked import", async () => {
    const host = await virtualHost();
    await host.instantiate(empty, {});
    expect(pairs(host), "bytes without a start function").toEqual([0, 0]);
    await host.instantiate(await WebAssembly.compile(empty), {});
    expect(pairs(host), "a compiled Module without one").toEqual([0, 0]);
    expect(host.rootTask.frames()).toEqual([]);
  });
});

describe("asyncify's own exports", () => {
  it("are left out of guest.exports (machinery, not the guest's API) and stay on instance.exports", async () => {
    const host = await virtualHost();
    const { guest } = await loadGuest(host, "asyncify");
    const all = WebAssembly.Module.exports(guest.module).map((d) => d.name);
    const machinery = all.filter((n) => n.startsWith("asyncify_"));
    // the pass's five, and the guest's data region (asyncify_data_address / _size)
    expect(machinery).toEqual(
      expect.arrayContaining([
        "asyncify_start_unwind",
        "asyncify_stop_unwind",
        "asyncify_start_rewind",
        "asyncify_stop_rewind",
        "asyncify_get_state",
        "asyncify_data_address",
        "asyncify_data_size",
      ]),
    );
    expect(Object.keys(guest.exports).sort()).toEqual(all.filter((n) => !n.startsWith("asyncify_")).sort());
    for (const n of machinery) expect(typeof guest.instance.exports[n], n).toBe("function");
  });
});

describe("the hook policy (createHost({ callNeedsHostHook }))", () => {
  const named: Record<string, number> = {
    host_add: 0x100,
    host_fetch: 0x200,
    host_callback: 0x300,
    host_fail: 0x400,
    host_note: 0x500,
  };

  it("is asked once per import, at instantiation, and never on a call", async () => {
    const policy = vi.fn((_t: number) => true);
    const host = await createHost({ clock: "virtual", callNeedsHostHook: policy });
    const { guest } = await loadGuest(host, "plain", { target: (_m, n) => named[n] });
    expect(policy.mock.calls.map((c) => c[0]).sort((a, b) => a - b)).toEqual([0x100, 0x200, 0x300, 0x400, 0x500]);
    guest.exports.callAdd(1, 2);
    guest.exports.nested(3);
    expect(policy).toHaveBeenCalledTimes(5);
    expect(guest.targets["env.host_add"]).toBe(0x100);
  });

  it("an import it answers false for is handed to the guest unwrapped: no frame, no transition", async () => {
    const host = await createHost({ clock: "virtual", callNeedsHostHook: (t) => t !== 0x100 });
    const { guest, log } = await loadGuest(host, "plain", { target: (_m, n) => named[n] });
    expect(guest.hooked["env.host_add"]).toBe(false);
    expect(guest.hooked["env.host_callback"]).toBe(true);
    expect(guest.exports.callAdd(1, 2)).toBe(3);
    expect(log.frames.map(frameNames)).toEqual([["R"]]);
    const c = counters(host);
    expect([c.reverseEnterRuntime, c.leaveRuntime, c.enterRuntime]).toEqual([1, 0, 0]);
    // the hooked one still crosses
    guest.exports.nested(1);
    expect(counters(host).leaveRuntime).toBe(1);
  });

  it("is the same answer that IHostTaskManager::CallNeedsHostHook gives", async () => {
    const host = await createHost({ clock: "virtual", callNeedsHostHook: (t) => t !== 0x100 });
    await loadGuest(host, "plain", { target: (_m, n) => named[n] });
    const out: { value?: boolean } = {};
    expect(host.taskManager.callNeedsHostHook(0x100, out)).toBe(S_OK);
    expect(out.value).toBe(false);
  });
});

describe("exceptions through the boundaries", () => {
  it("an import's exception reaches the export's caller and leaves every pair closed", async () => {
    const host = await virtualHost();
    const { guest } = await loadGuest(host, "plain");
    expect(() => guest.exports.callFail(7)).toThrow("host_fail(7)");
    expect(host.rootTask.frames()).toEqual([]);
    expectBalanced(host);
    expect(guest.exports.add(1, 1)).toBe(2); // still usable
  });

  it("a guest trap reaches the caller as the engine's RuntimeError, pairs closed", async () => {
    const host = await virtualHost();
    const { guest } = await loadGuest(host, "plain");
    expect(() => guest.exports.trap()).toThrow(WebAssembly.RuntimeError);
    expect(host.rootTask.frames()).toEqual([]);
    expectBalanced(host);
  });

  it("an exception thrown by a nested export unwinds through every level", async () => {
    const host = await virtualHost();
    const { guest } = await loadGuest(host, "plain");
    let depth = 0;
    const imports = {
      env: {
        host_add: (a: number, b: number) => a + b,
        host_fetch: (x: number) => x,
        host_callback: (n: number): number => {
          if (++depth === 3) throw new RangeError("deep");
          return g.exports.nested(n - 1);
        },
        host_fail: () => {},
        host_note: () => {},
      },
    };
    const g = await host.instantiate<typeof guest.exports>(guestBytes("plain"), imports);
    expect(() => g.exports.nested(10)).toThrow(RangeError);
    expect(host.rootTask.frames()).toEqual([]);
    expectBalanced(host);
  });
});

describe("a transition that fails: HResultError, and the crossing does not happen", () => {
  it("a disabled runtime: HOST_E_CLRNOTAVAILABLE, the export does not run", async () => {
    const host = await virtualHost();
    const { guest, log } = await loadGuest(host, "plain");
    host.disable("test");
    const err = (() => {
      try {
        guest.exports.callAdd(1, 2);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(HResultError);
    expect((err as HResultError).hr).toBe(HOST_E_CLRNOTAVAILABLE);
    expect(log.frames).toEqual([]);
  });

  it("a suspended runtime in synchronous code: HOST_E_TIMEOUT at once, nothing crossed", async () => {
    const host = await virtualHost();
    const { guest, log } = await loadGuest(host, "plain");
    expect(host.suspendRuntime()).toBe(S_OK);
    const before = counters(host);
    const err = (() => {
      try {
        guest.exports.callAdd(1, 2);
      } catch (e) {
        return e;
      }
    })() as HResultError;
    expect(err.hr).toBe(HOST_E_TIMEOUT);
    expect(err.message).toContain("ReverseEnterRuntime");
    expect(counters(host)).toEqual(before);
    expect(log.frames).toEqual([]);
    host.resumeRuntime();
    expect(guest.exports.callAdd(1, 2)).toBe(3);
  });

  it("a full reservation: COR_E_STACKOVERFLOW where the frame does not fit, the rest unwinds balanced", async () => {
    const host = await virtualHost();
    const { guest, log } = await loadGuest(host, "plain");
    const t = host.spawn(
      function* () {
        return guest.exports.nested(100); // 200 frames; the reservation holds 16
      },
      { stackSize: 16 * 8 },
    );
    host.runUntilIdle();
    const err = (await expectFailure(t)) as HResultError;
    expect(err).toBeInstanceOf(HResultError);
    expect(err.hr).toBe(COR_E_STACKOVERFLOW);
    // 16 frames fit: the 8th callback never ran (its LeaveRuntime or the next export's ReverseEnter failed)
    expect(log.frames.length).toBeLessThan(9);
    const c = t.counters();
    expect(c.leaveRuntime).toBe(c.enterRuntime);
    expect(c.reverseEnterRuntime).toBe(c.reverseLeaveRuntime);
  });
});

describe("host.instantiate: bad input", () => {
  const imports = () => ({
    env: { host_add: () => 0, host_fetch: () => 0, host_callback: () => 0, host_fail: () => {}, host_note: () => {} },
  });
  const hrOf = async (p: Promise<unknown>): Promise<number> => {
    const err = await rejection(p);
    expect(err).toBeInstanceOf(HResultError);
    return (err as HResultError).hr;
  };

  it("a source that is not a module or its bytes, or bytes that are not wasm: E_INVALIDARG", async () => {
    const host = await virtualHost();
    for (const source of [undefined, null, 42, "wasm", {}, [0, 97, 115, 109]]) {
      expect(await hrOf(host.instantiate(source as never, imports()))).toBe(E_INVALIDARG);
    }
    expect(await hrOf(host.instantiate(new Uint8Array([0, 1, 2, 3]), imports()))).toBe(E_INVALIDARG);
  });

  it("imports or options not objects; a function import missing or not a function: E_INVALIDARG", async () => {
    const host = await virtualHost();
    const bytes = guestBytes("plain");
    expect(await hrOf(host.instantiate(bytes, 5 as never))).toBe(E_INVALIDARG);
    expect(await hrOf(host.instantiate(bytes, imports(), "x" as never))).toBe(E_INVALIDARG);
    expect(await hrOf(host.instantiate(bytes, {}))).toBe(E_INVALIDARG);
    const missing = imports() as { env: Record<string, unknown> };
    missing.env.host_add = 3;
    const err = await rejection(host.instantiate(bytes, missing));
    expect((err as HResultError).hr).toBe(E_INVALIDARG);
    expect((err as Error).message).toContain("env.host_add");
  });

  it("options of the wrong kind: E_INVALIDARG", async () => {
    const host = await virtualHost();
    const bytes = guestBytes("asyncify");
    const bad = [
      { suspending: "env.host_fetch" },
      { suspending: [1] },
      { suspending: ["env.nothing"] },
      { suspension: "fast" },
      { target: 5 },
      { target: () => -1 },
      { target: () => 1.5 },
      { asyncifyData: { address: 3, size: 1024 } },
      { asyncifyData: { address: 1024, size: 8 } },
      { asyncifyData: { address: 0x7ffffff0, size: 1024 } },
      { asyncifyData: 7 },
    ];
    for (const options of bad)
      expect(await hrOf(host.instantiate(bytes, imports(), options as never)), JSON.stringify(options)).toBe(
        E_INVALIDARG,
      );
  });

  it("suspension 'asyncify' for a guest without the pass: E_INVALIDARG", async () => {
    const host = await virtualHost();
    expect(await hrOf(host.instantiate(guestBytes("plain"), imports(), { suspension: "asyncify" }))).toBe(E_INVALIDARG);
  });

  it.runIf(!hasJspi)("suspension 'jspi' where the engine has no WebAssembly.Suspending: E_NOTIMPL", async () => {
    const host = await virtualHost();
    expect(
      await hrOf(host.instantiate(guestBytes("plain"), imports(), { suspension: "jspi", suspending: SUSPENDING })),
    ).toBe(E_NOTIMPL);
  });

  it.runIf(hasJspi)("suspension 'jspi' where the engine has WebAssembly.Suspending: a JSPI guest", async () => {
    const host = await virtualHost();
    const g = await host.instantiate(guestBytes("plain"), imports(), { suspension: "jspi", suspending: SUSPENDING });
    expect(g.suspension).toBe("jspi");
  });

  it("a runtime not started or disabled: HOST_E_CLRNOTAVAILABLE", async () => {
    const host = await createHost({ startRuntime: false });
    expect(await hrOf(host.instantiate(guestBytes("plain"), imports()))).toBe(HOST_E_CLRNOTAVAILABLE);
    const h2 = await virtualHost();
    h2.disable();
    expect(await hrOf(h2.instantiate(guestBytes("plain"), imports()))).toBe(HOST_E_CLRNOTAVAILABLE);
  });

  it("a synchronous import that answers a promise: HOST_E_INVALIDOPERATION (and no unhandled rejection)", async () => {
    const host = await virtualHost();
    const i = imports() as { env: Record<string, unknown> };
    i.env.host_add = () => Promise.reject(new Error("never seen"));
    const g = await host.instantiate<{ callAdd(a: number, b: number): number }>(guestBytes("plain"), i);
    const err = (() => {
      try {
        g.exports.callAdd(1, 2);
      } catch (e) {
        return e;
      }
    })() as HResultError;
    expect(err.hr).toBe(HOST_E_INVALIDOPERATION);
    expect(err.message).toContain("env.host_add");
    expectBalanced(host);
  });

  it("f.call of something that is not a guest export, or another host's: E_INVALIDARG thrown in the fiber", async () => {
    const host = await virtualHost();
    const other = await virtualHost();
    const { guest: foreign } = await loadGuest(other, "plain");
    const { guest } = await loadGuest(host, "plain");
    const seen: number[] = [];
    host.spawn(function* (f) {
      for (const fn of [() => 1, guest.instance.exports.add, foreign.exports.add, 42, undefined]) {
        try {
          yield* f.call(fn as (a: number, b: number) => number, 1, 2);
        } catch (e) {
          seen.push((e as HResultError).hr);
        }
      }
      expect(yield* f.call(guest.exports.add, 1, 2)).toBe(3);
    });
    host.runUntilIdle();
    expect(seen).toEqual([E_INVALIDARG, E_INVALIDARG, E_INVALIDARG, E_INVALIDARG, E_INVALIDARG]);
  });
});
