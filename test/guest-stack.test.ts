// How instantiate finds a guest's linear-memory stack (options.stack and guest.stack): an
// exported __stack_pointer, Emscripten's stack functions, what the user names; "serial" when a
// stack is there but out of reach; "none" when no stack is there or no call can park. Bad
// options.stack values are refused with E_INVALIDARG naming the field.
import { describe, expect, it } from "vitest";
import { E_INVALIDARG, HResultError, type Host } from "../src/index.js";
import { findStack } from "../src/interop/stack-finder.js";
import { expectBalanced, rejection, virtualHost } from "./support/fibers.js";
import { deferred, hasJspi, loadGuest, until, type Deferred } from "./support/guest.js";
import { loadCGuest, type LoadedCGuest } from "./support/c-guest.js";

/** Two fibers park in keep(), the first returns, a third runs scratch(): the second must answer its own value. */
async function outOfOrder(host: Host, c: LoadedCGuest): Promise<number[]> {
  const pending: Deferred<number>[] = [];
  c.setPause(() => {
    const d = deferred<number>();
    pending.push(d);
    return d.promise;
  });
  const A = host.spawn(function* (f) {
    return yield* f.call(c.guest.exports.keep, 111);
  });
  const B = host.spawn(function* (f) {
    return yield* f.call(c.guest.exports.keep, 222);
  });
  const run = host.run();
  await until(() => pending.length === 2 || (pending.length === 1 && B.getState() === "waiting"));
  pending[0].resolve(0);
  await until(() => A.done);
  c.setPause((v) => v);
  const C = host.spawn(function* (f) {
    return yield* f.call(c.guest.exports.scratch, 333);
  });
  // Per fiber, C runs at once; serial, C waits while B is parked (or B ran after A, not parking).
  await until(
    () => (C.done && (pending.length === 2 || B.done)) || (pending.length === 2 && C.getState() === "waiting"),
  );
  pending[1]?.resolve(0);
  await run;
  return [(await A.result) as number, (await B.result) as number, (await C.result) as number];
}

describe("options.stack: 'auto' finds the stack pointer", () => {
  it("an exported __stack_pointer global: per-fiber", async () => {
    const host = await virtualHost();
    const c = await loadCGuest(host, "exported");
    expect(c.guest.stack).toBe("per-fiber");
    expect(await outOfOrder(host, c)).toEqual([111, 222, 333]);
    expectBalanced(host);
  });

  it("Emscripten's stack functions (emscripten_stack_get_current, _emscripten_stack_restore): per-fiber", async () => {
    const host = await virtualHost();
    const c = await loadCGuest(host, "emscripten");
    expect(c.guest.stack).toBe("per-fiber");
    const base = c.guest.exports.stack_now();
    expect(await outOfOrder(host, c)).toEqual([111, 222, 333]);
    expect(c.guest.exports.stack_now()).toBe(base);
    expectBalanced(host);
  });

  it("an imported __stack_pointer global given as a mutable WebAssembly.Global: per-fiber (a hand-made module)", () => {
    // (module (import "env" "__stack_pointer" (global (mut i32))))
    const name = [..."__stack_pointer"].map((ch) => ch.charCodeAt(0));
    const bytes = new Uint8Array([
      ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      ...[0x02, 24, 0x01, 0x03, 0x65, 0x6e, 0x76, 15, ...name, 0x03, 0x7f, 0x01],
    ]);
    const module = new WebAssembly.Module(bytes);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const sp = new WebAssembly.Global({ value: "i32", mutable: true }, 4096);
    const plan = findStack("auto", "asyncify", module, { memory }, { env: { __stack_pointer: sp } });
    expect(plan.kind).toBe("per-fiber");
    // The same on the JSPI path (its linear-memory frames are shared as under asyncify).
    expect(findStack("auto", "jspi", module, { memory }, { env: { __stack_pointer: sp } }).kind).toBe("per-fiber");
    plan.stack!.sp = 1024;
    expect(sp.value).toBe(1024);
    // Given as a number (WebAssembly makes an immutable global of it), it cannot be kept: serial.
    expect(findStack("auto", "asyncify", module, { memory }, { env: { __stack_pointer: 4096 } }).kind).toBe("serial");
  });

  it("a __stack_pointer named only in the name section (clang's usual output): serial", async () => {
    const host = await virtualHost();
    const c = await loadCGuest(host, "hidden");
    expect(c.guest.stack).toBe("serial");
    expect(await outOfOrder(host, c)).toEqual([111, 222, 333]);
    expectBalanced(host);
  });

  it("fiberhost's own AssemblyScript guest (no linear-memory stack): none, and its parked calls do not wait for each other", async () => {
    const host = await virtualHost();
    const { guest, setFetch } = await loadGuest(host, "asyncify");
    expect(guest.stack).toBe("none");
    const gates = [deferred(), deferred()];
    let n = 0;
    setFetch(() => gates[n++].promise);
    const a = host.spawn(function* (f) {
      return yield* f.call(guest.exports.fetchOnce, 1);
    });
    const b = host.spawn(function* (f) {
      return yield* f.call(guest.exports.fetchOnce, 2);
    });
    const run = host.run();
    await until(() => n === 2); // both parked inside the instance at once
    gates[1].resolve(20);
    gates[0].resolve(10);
    await run;
    expect([await a.result, await b.result]).toEqual([10, 20]);
  });

  it("a guest that cannot suspend (suspension 'none'): none, whatever its stack", async () => {
    const host = await virtualHost();
    const c = await loadCGuest(host, "exported", { suspension: "none" });
    expect(c.guest.stack).toBe("none");
  });
});

// JSPI's parked wasm frames are the engine's, its linear-memory frames the guest's: fiberhost
// moves them as under asyncify (where the engine has JSPI: Chromium, not Node 20). The guest is
// clang's plain build (no asyncify pass).
describe.runIf(hasJspi)("a guest with a stack on the JSPI path", () => {
  it("an exported __stack_pointer: per-fiber; the out-of-order scenario answers right, the stack pointer back where it began", async () => {
    const host = await virtualHost();
    const c = await loadCGuest(host, "exported", { suspension: "jspi" }, "plain");
    expect(c.guest.suspension).toBe("jspi");
    expect(c.guest.stack).toBe("per-fiber");
    const before = c.guest.exports.__stack_pointer!.value;
    expect(await outOfOrder(host, c)).toEqual([111, 222, 333]);
    expect(c.guest.exports.__stack_pointer!.value).toBe(before);
    expectBalanced(host);
  });

  it("Emscripten's stack functions: per-fiber", async () => {
    const host = await virtualHost();
    const c = await loadCGuest(host, "emscripten", { suspension: "jspi" }, "plain");
    expect(c.guest.stack).toBe("per-fiber");
    const base = c.guest.exports.stack_now();
    expect(await outOfOrder(host, c)).toEqual([111, 222, 333]);
    expect(c.guest.exports.stack_now()).toBe(base);
    expectBalanced(host);
  });

  it("a stack it cannot reach (__stack_pointer in the name section only): serial, and calls wait their turn", async () => {
    const host = await virtualHost();
    const c = await loadCGuest(host, "hidden", { suspension: "jspi" }, "plain");
    expect(c.guest.suspension).toBe("jspi");
    expect(c.guest.stack).toBe("serial");
    const base = c.guest.exports.stack_now();
    expect(await outOfOrder(host, c)).toEqual([111, 222, 333]);
    expect(c.guest.exports.stack_now()).toBe(base);
    expectBalanced(host);
  });
});

describe("options.stack names it", () => {
  it("{ pointer: 'name' } of an exported global", async () => {
    const host = await virtualHost();
    const c = await loadCGuest(host, "exported", { stack: { pointer: "__stack_pointer" } });
    expect(c.guest.stack).toBe("per-fiber");
    expect(await outOfOrder(host, c)).toEqual([111, 222, 333]);
  });

  it("{ pointer: { get, set } }, called with the pointer object as this", async () => {
    const host = await virtualHost();
    let global: WebAssembly.Global | null = null;
    let calls = 0;
    const pointer = {
      get(this: { tag: string }) {
        calls++;
        expect(this.tag).toBe("mine");
        return global!.value as number;
      },
      set(this: { tag: string }, v: number) {
        expect(this.tag).toBe("mine");
        global!.value = v;
      },
      tag: "mine",
    };
    const c = await loadCGuest(host, "exported", { stack: { pointer } });
    global = c.guest.exports.__stack_pointer!;
    expect(c.guest.stack).toBe("per-fiber");
    const before = global.value;
    expect(await outOfOrder(host, c)).toEqual([111, 222, 333]);
    expect(global.value).toBe(before);
    expect(calls).toBeGreaterThan(0);
  });

  it("'serial' on a guest whose stack fiberhost could keep: calls wait their turn instead", async () => {
    const host = await virtualHost();
    const c = await loadCGuest(host, "exported", { stack: "serial" });
    expect(c.guest.stack).toBe("serial");
    expect(await outOfOrder(host, c)).toEqual([111, 222, 333]);
  });

  it("'serial' on the AssemblyScript guest: a second f.call waits while the first is parked", async () => {
    const host = await virtualHost();
    const { guest, setFetch } = await loadGuest(host, "asyncify", { stack: "serial" });
    expect(guest.stack).toBe("serial");
    const gates = [deferred(), deferred()];
    let n = 0;
    setFetch(() => gates[n++].promise);
    const a = host.spawn(function* (f) {
      return yield* f.call(guest.exports.fetchOnce, 1);
    });
    const b = host.spawn(function* (f) {
      return yield* f.call(guest.exports.fetchOnce, 2);
    });
    const run = host.run();
    await until(() => n === 1 && b.getState() === "waiting");
    expect(b.frames()).toEqual([]);
    gates[0].resolve(10);
    await until(() => n === 2);
    gates[1].resolve(20);
    await run;
    expect([await a.result, await b.result]).toEqual([10, 20]);
    expectBalanced(host);
  });
});

describe("bad options.stack", () => {
  const cases: [string, unknown, RegExp][] = [
    ["a number", 5, /options\.stack must be/],
    ["an unknown string", "fifo", /options\.stack must be/],
    ["a pointer that is not there", { pointer: "nope" }, /options\.stack\.pointer names nope/],
    ["a pointer naming a function", { pointer: "keep" }, /options\.stack\.pointer names keep/],
    ["a pointer that is a number", { pointer: 8 }, /options\.stack\.pointer must be/],
    ["a pointer with get but no set", { pointer: { get: () => 0 } }, /options\.stack\.pointer must be/],
    [
      "an immutable global",
      { pointer: new WebAssembly.Global({ value: "i32", mutable: false }, 0) },
      /not a mutable i32/,
    ],
    ["a memory that is not one", { pointer: "__stack_pointer", memory: {} }, /options\.stack\.memory must be/],
    [
      "a throwing getter",
      Object.defineProperty({}, "pointer", {
        get() {
          throw new Error("boom");
        },
      }),
      /options\.stack could not be read \(boom\)/,
    ],
  ];
  for (const [what, stack, message] of cases) {
    it(`${what}: E_INVALIDARG naming the field`, async () => {
      const host = await virtualHost();
      const err = await rejection(loadCGuest(host, "exported", { stack: stack as never }));
      expect(err).toBeInstanceOf(HResultError);
      expect((err as HResultError).hr).toBe(E_INVALIDARG);
      expect((err as Error).message).toMatch(message);
    });
  }
});
