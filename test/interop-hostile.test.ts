// host.instantiate given hostile or unusual names and objects (issue 17): imports and exports
// are null-prototype records, read once, never through the built-in prototypes; a wrapper
// belongs to an import; an answer that cannot be inspected, a runtime suspended from an import,
// a JS stack overflow and a guest over 8 MB all leave the frames balanced.
import { describe, it, expect } from "vitest";
import {
  createHost,
  HResultError,
  E_INVALIDARG,
  E_NOTIMPL,
  HOST_E_INVALIDOPERATION,
  HOST_E_TIMEOUT,
  S_OK,
  type Host,
} from "../src/index.js";
import { expectBalanced, rejection, virtualHost } from "./support/fibers.js";
import { frameNames, hasJspi, loadGuest } from "./support/guest.js";
import { guestBytes } from "../src/demo/generated/guest-wasm.js";
import { I32, op, wasmModule, type FuncType } from "./support/wasm-writer.js";

const inBrowser = typeof window !== "undefined";
const counts = (host: Host) => {
  const c = host.rootTask.counters();
  return [c.reverseEnterRuntime, c.leaveRuntime, c.enterRuntime, c.reverseLeaveRuntime];
};
const fnType = (params: number, results = 1): FuncType => ({
  params: Array(params).fill(I32),
  results: Array(results).fill(I32),
});
const args = (n: number) => Array.from({ length: n }, (_, i) => op.localGet(i)).flat();

/** A guest exporting `call` that passes its one argument to the import module.name and answers its result. */
function callsImport(module: string, name: string): Uint8Array {
  return wasmModule({
    imports: [{ module, name, type: fnType(1) }],
    funcs: [{ type: fnType(1), body: [...op.localGet(0), ...op.call(0)] }],
    exports: [{ name: "call", kind: "func", index: 1 }],
  });
}

async function hrOf(p: Promise<unknown>): Promise<HResultError> {
  const err = await rejection(p);
  expect(err).toBeInstanceOf(HResultError);
  return err as HResultError;
}

/** The plain example guest's imports. */
const guestImports = () => ({
  host_add: (a: number, b: number) => a + b,
  host_fetch: (x: number) => x * 2,
  host_callback: () => 0,
  host_fail: () => {},
  host_note: () => {},
});

describe("imports are read as WebAssembly reads them, never from the built-in prototypes", () => {
  const protoToString = Object.prototype.toString;
  const objectKeys = Object.keys;

  for (const [module, name] of [
    ["__proto__", "toString"],
    ["constructor", "keys"],
  ]) {
    it(`a guest importing ${module}.${name} with {} as imports is refused as a missing import; Object.prototype and Object stay as they were`, async () => {
      const host = await virtualHost();
      const err = await hrOf(host.instantiate(callsImport(module, name), {}));
      expect(err.hr).toBe(E_INVALIDARG);
      expect(err.message).toContain(`imports.${module}`);
      expect(Object.prototype.toString).toBe(protoToString);
      expect(Object.keys).toBe(objectKeys);
      expect(String({})).toBe("[object Object]");
      expect(Object.keys({ a: 1 })).toEqual(["a"]);
      expectBalanced(host);
    });
  }

  it("an own __proto__ namespace (from JSON.parse) is the guest's import, hooked; nothing is written to Object.prototype", async () => {
    const host = await virtualHost();
    const imports = JSON.parse('{"__proto__": {}}') as Record<string, Record<string, unknown>>;
    const seen: string[][] = [];
    // biome-ignore lint/suspicious/noProto: the test is about an own property named __proto__, not the accessor
    Object.defineProperty(imports["__proto__"], "toString", {
      value: (x: number) => {
        seen.push(frameNames(host.rootTask.frames()));
        return x + 1;
      },
    });
    const g = await host.instantiate<{ call(x: number): number }>(callsImport("__proto__", "toString"), imports);
    expect(g.exports.call(41)).toBe(42);
    expect(seen).toEqual([["R", `L${g.functionImports[0].target.toString(16)}`]]);
    expect(Object.prototype.toString).toBe(protoToString);
    expect(String({})).toBe("[object Object]");
    expect(Object.hasOwn(g.targets, "__proto__.toString")).toBe(true);
    expectBalanced(host);
  });

  it("a namespace inherited from a prototype, a class instance's methods and a function used as a namespace work as in WebAssembly", async () => {
    const host = await virtualHost();
    class Env {
      host_add(a: number, b: number) {
        return a + b + 100;
      }
      host_fetch(x: number) {
        return x;
      }
      host_callback() {
        return 0;
      }
      host_fail() {}
      host_note() {}
    }
    const asFunction = Object.assign(function env() {}, guestImports());
    for (const imports of [
      Object.create({ env: guestImports() }),
      { env: new Env() },
      { env: asFunction },
      Object.assign(() => {}, { env: guestImports() }),
    ]) {
      const g = await host.instantiate<{ callAdd(a: number, b: number): number }>(guestBytes("plain"), imports);
      const direct = await WebAssembly.instantiate(guestBytes("plain") as BufferSource, imports);
      const want = (direct.instance.exports.callAdd as (a: number, b: number) => number)(1, 2);
      expect(g.exports.callAdd(1, 2)).toBe(want);
    }
    expectBalanced(host);
  });

  const throwing = (): never => {
    throw new Error("getter");
  };
  const revoked = (): object => {
    const r = Proxy.revocable({}, {});
    r.revoke();
    return r.proxy;
  };
  const hostile: [string, () => unknown, string][] = [
    ["imports.env is a throwing getter", () => Object.defineProperty({}, "env", { get: throwing }), "imports.env"],
    [
      "imports.env.host_add is a throwing getter",
      () => ({ env: Object.defineProperty(guestImports(), "host_add", { get: throwing }) }),
      "imports.env.host_add",
    ],
    ["imports is a revoked Proxy", revoked, "imports.env"],
    ["imports.env is a revoked Proxy", () => ({ env: revoked() }), "imports.env.host_"],
    ["imports.env is a number", () => ({ env: 5 }), "imports.env"],
  ];
  for (const [what, imports, path] of hostile) {
    it(`${what}: HResultError(E_INVALIDARG) naming ${path}, never the raw error`, async () => {
      const host = await virtualHost();
      const err = await hrOf(host.instantiate(guestBytes("plain"), imports() as object));
      expect(err.hr).toBe(E_INVALIDARG);
      expect(err.message).toContain(path);
      expectBalanced(host);
    });
  }

  it("each (module, name) is read once, however many imports name it", async () => {
    const host = await virtualHost();
    let reads = 0;
    const env = {
      get f() {
        reads++;
        return (...xs: number[]) => xs.reduce((a, b) => a + b, 0);
      },
    };
    const bytes = wasmModule({
      imports: [
        { module: "env", name: "f", type: fnType(1) },
        { module: "env", name: "f", type: fnType(3) },
      ],
      funcs: [],
    });
    await host.instantiate(bytes, { env });
    expect(reads).toBe(1);
  });
});

describe("exports are a null-prototype record", () => {
  it("a guest export named __proto__ is an ordinary own property of guest.exports, as constructor and toString are", async () => {
    const host = await virtualHost();
    const answer = (v: number) => ({ type: fnType(0), body: op.i32Const(v) });
    const bytes = wasmModule({
      funcs: [answer(1), answer(2), answer(3)],
      exports: [
        { name: "__proto__", kind: "func", index: 0 },
        { name: "constructor", kind: "func", index: 1 },
        { name: "toString", kind: "func", index: 2 },
      ],
    });
    const g = await host.instantiate(bytes, {});
    const exports = g.exports as Record<string, () => number>;
    expect(Object.getPrototypeOf(exports)).toBe(null);
    expect(Object.keys(exports)).toEqual(["__proto__", "constructor", "toString"]);
    expect(Object.hasOwn(exports, "__proto__")).toBe(true);
    // biome-ignore lint/suspicious/noProto: an own export named __proto__, not the accessor
    expect(exports["__proto__"]()).toBe(1);
    expect(exports.constructor()).toBe(2);
    expect(exports.toString()).toBe(3);
    expect(counts(host)).toEqual([3, 0, 0, 3]);
    expect(Object.isFrozen(exports)).toBe(true);
  });
});

describe("a wrapper belongs to an import (module, name, signature)", () => {
  const sum = (...xs: number[]) => xs.reduce((a, b) => a + b, 0);

  it("one (module, name) imported with two signatures: each call passes all its arguments (call3(1,2,3) answers 6)", async () => {
    const host = await virtualHost();
    const bytes = wasmModule({
      imports: [
        { module: "env", name: "f", type: fnType(1) },
        { module: "env", name: "f", type: fnType(3) },
      ],
      funcs: [
        { type: fnType(1), body: [...args(1), ...op.call(0)] },
        { type: fnType(3), body: [...args(3), ...op.call(1)] },
      ],
      exports: [
        { name: "call1", kind: "func", index: 2 },
        { name: "call3", kind: "func", index: 3 },
      ],
    });
    const g = await host.instantiate<{ call1(a: number): number; call3(a: number, b: number, c: number): number }>(
      bytes,
      { env: { f: sum } },
    );
    expect(g.exports.call3(1, 2, 3)).toBe(6);
    expect(g.exports.call1(5)).toBe(5);
    expect(g.functionImports.map((i) => `${i.module}.${i.name}`)).toEqual(["env.f", "env.f"]);
    expectBalanced(host);
  });

  it("one function imported under two names with different signatures: each wrapper has its own arity", async () => {
    const host = await virtualHost();
    const bytes = wasmModule({
      imports: [
        { module: "env", name: "three", type: fnType(3) },
        { module: "env", name: "one", type: fnType(1) },
      ],
      funcs: [
        { type: fnType(3), body: [...args(3), ...op.call(0)] },
        { type: fnType(1), body: [...args(1), ...op.call(1)] },
      ],
      exports: [
        { name: "call3", kind: "func", index: 2 },
        { name: "call1", kind: "func", index: 3 },
      ],
    });
    const g = await host.instantiate<{ call1(a: number): number; call3(a: number, b: number, c: number): number }>(
      bytes,
      { env: { one: sum, three: sum } },
    );
    expect(g.exports.call3(1, 2, 3)).toBe(6);
    expect(g.exports.call1(7)).toBe(7);
    expect(g.targets["env.one"]).toBe(g.targets["env.three"]);
  });

  it("names that collide when joined (env.x + f, env + x.f) each get their own function and wrapper", async () => {
    const host = await virtualHost();
    const bytes = wasmModule({
      imports: [
        { module: "env.x", name: "f", type: fnType(3) },
        { module: "env", name: "x.f", type: fnType(1) },
      ],
      funcs: [
        { type: fnType(3), body: [...args(3), ...op.call(0)] },
        { type: fnType(1), body: [...args(1), ...op.call(1)] },
      ],
      exports: [
        { name: "call3", kind: "func", index: 2 },
        { name: "call1", kind: "func", index: 3 },
      ],
    });
    const negate = (x: number) => -x;
    const g = await host.instantiate<{ call1(a: number): number; call3(a: number, b: number, c: number): number }>(
      bytes,
      { "env.x": { f: sum }, env: { "x.f": negate } },
    );
    expect(g.exports.call3(1, 2, 3)).toBe(6);
    expect(g.exports.call1(7)).toBe(-7);
    const [a, b] = g.functionImports;
    expect([a.module, a.name, b.module, b.name]).toEqual(["env.x", "f", "env", "x.f"]);
    expect(a.target).not.toBe(b.target);
    expectBalanced(host);
  });
});

/** A suspending import's answer that throws when asked for `then`. */
const unreadableThens: [string, () => unknown, (e: unknown) => boolean][] = [
  [
    "a throwing then getter",
    () =>
      Object.defineProperty({}, "then", {
        get() {
          throw new Error("then getter");
        },
      }),
    (e) => e instanceof Error && e.message === "then getter",
  ],
  [
    "a revoked Proxy",
    () => {
      const r = Proxy.revocable({}, {});
      r.revoke();
      return r.proxy;
    },
    (e) => e instanceof TypeError,
  ],
];

describe("a suspending import whose answer throws when asked for then", () => {
  for (const path of hasJspi ? (["asyncify", "jspi"] as const) : (["asyncify"] as const)) {
    for (const [what, answer, isTheError] of unreadableThens) {
      it(`${what} (${path}): on the root task an HResultError, frames closed, the guest usable`, async () => {
        const host = await virtualHost();
        const { guest, setFetch } = await loadGuest(host, path === "asyncify" ? "asyncify" : "plain", {
          suspension: path,
        });
        setFetch(answer);
        let err: unknown;
        try {
          guest.exports.fetchOnce(1);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(HResultError);
        expect((err as HResultError).hr).toBe(HOST_E_INVALIDOPERATION);
        expect(host.rootTask.frames()).toEqual([]);
        expectBalanced(host);
        setFetch((x) => x * 2);
        expect(guest.exports.fetchOnce(4)).toBe(8);
      });

      it(`${what} (${path}): inside f.call the read's error reaches the caller, frames balanced, the task managed after`, async () => {
        const host = await virtualHost();
        const { guest, setFetch } = await loadGuest(host, path === "asyncify" ? "asyncify" : "plain", {
          suspension: path,
        });
        setFetch(answer);
        const t = host.spawn(function* (f) {
          return yield* f.managed(function* () {
            let err: unknown;
            try {
              yield* f.call(guest.exports.fetchOnce, 1);
            } catch (e) {
              err = e;
            }
            const after = { frames: frameNames(f.task.frames()), mode: f.task.mode };
            setFetch((x) => x * 3);
            const v = yield* f.call(guest.exports.fetchOnce, 2);
            return { err, after, v };
          });
        });
        await host.run();
        const { err, after, v } = await t.result;
        expect(isTheError(err)).toBe(true);
        expect(after).toEqual({ frames: ["R"], mode: "managed" });
        expect(v).toBe(6);
        expect(t.frames()).toEqual([]);
        expectBalanced(host);
      });
    }
  }
});

describe("an import that suspends the runtime (a collector called from the guest)", () => {
  for (const path of hasJspi ? (["asyncify", "jspi"] as const) : (["asyncify"] as const)) {
    it(`inside f.call (${path}) the return EnterRuntime waits for the resume, frames [R, L(target)] meanwhile; then the guest goes on`, async () => {
      const host = await virtualHost();
      const { guest, setFetch } = await loadGuest(host, path === "asyncify" ? "asyncify" : "plain", {
        suspension: path,
      });
      let suspended = false;
      setFetch((x) => {
        expect(host.suspendRuntime()).toBe(S_OK);
        suspended = true;
        return x * 2;
      });
      const t = host.spawn(function* (f) {
        return yield* f.call(guest.exports.fetchOnce, 21);
      });
      host.runUntilIdle();
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, 0));
        host.runUntilIdle();
      }
      expect(suspended).toBe(true);
      expect(t.done).toBe(false);
      expect(frameNames(t.frames())).toEqual(["R", `L${guest.targets["env.host_fetch"].toString(16)}`]);
      expect(host.resumeRuntime()).toBe(S_OK);
      await host.run();
      expect(await t.result).toBe(42);
      expect(t.frames()).toEqual([]);
      expectBalanced(host);
    });
  }

  for (const kind of ["a suspending import", "a synchronous import"] as const) {
    it(`${kind} on the root task: the return is refused with HOST_E_TIMEOUT (synchronous code cannot wait), its frames closed when the runtime resumes`, async () => {
      const host = await virtualHost();
      const collect = (x: number) => {
        host.suspendRuntime();
        return x;
      };
      const { guest, setFetch } = await loadGuest(host, "asyncify");
      const plain = await host.instantiate<{ callAdd(a: number, b: number): number }>(guestBytes("plain"), {
        env: { ...guestImports(), host_add: collect },
      });
      setFetch(collect);
      let err: unknown;
      try {
        if (kind === "a suspending import") guest.exports.fetchOnce(1);
        else plain.exports.callAdd(1, 2);
      } catch (e) {
        err = e;
      }
      expect((err as HResultError).hr).toBe(HOST_E_TIMEOUT);
      expect((err as Error).message).toContain("EnterRuntime");
      expect(host.resumeRuntime()).toBe(S_OK);
      expect(host.rootTask.frames()).toEqual([]);
      expectBalanced(host);
      setFetch((x) => x * 2);
      expect(guest.exports.fetchOnce(5)).toBe(10);
      expect(host.rootTask.frames()).toEqual([]);
      expectBalanced(host);
    });
  }
});

describe("a JS stack overflow inside a guest call", () => {
  it("runaway export → import → export recursion ends in a RangeError that unwinds balanced: no frame left open, the task managed after", async () => {
    const host = await createHost({ clock: "virtual", maxStackSize: 1 << 26 });
    const { guest } = await loadGuest(host, "asyncify");
    const t = host.spawn(
      function* (f) {
        return yield* f.managed(function* () {
          let err: unknown;
          try {
            yield* f.call(guest.exports.nested, 1e9);
          } catch (e) {
            err = e;
          }
          const after = { frames: frameNames(f.task.frames()), mode: f.task.mode };
          const v = yield* f.call(guest.exports.callAdd, 2, 3);
          return { err, after, v };
        });
      },
      { stackSize: 1 << 24 },
    );
    host.runUntilIdle();
    const { err, after, v } = await t.result;
    expect(err).toBeInstanceOf(RangeError);
    expect(after).toEqual({ frames: ["R"], mode: "managed" });
    expect(v).toBe(5);
    expect(t.frames()).toEqual([]);
    expectBalanced(host);
  });

  it("the same from a plain export call: the RangeError reaches the caller and the frames are closed", async () => {
    const host = await createHost({ clock: "virtual", maxStackSize: 1 << 26 });
    const { guest } = await loadGuest(host, "plain");
    const t = host.spawn(
      function* (f) {
        let err: unknown;
        try {
          guest.exports.nested(1e9);
        } catch (e) {
          err = e;
        }
        return { err, frames: f.task.frames().length };
      },
      { stackSize: 1 << 24 },
    );
    host.runUntilIdle();
    const { err, frames } = await t.result;
    expect(err).toBeInstanceOf(RangeError);
    expect(frames).toBe(0);
    expectBalanced(host);
  });
});

describe("options are read once", () => {
  it("asyncifyData is read exactly once, and its address and size once each: a getter that answers differently the second time cannot pass the check and hand back another region", async () => {
    const host = await virtualHost();
    const probe = await loadGuest(host, "asyncify");
    const x = probe.guest.instance.exports as Record<string, () => number>;
    const region = { address: x.asyncify_data_address(), size: x.asyncify_data_size() };
    const reads = { asyncifyData: 0, address: 0, size: 0 };
    const data = {
      get address() {
        return reads.address++ === 0 ? region.address : 3; // 3: not 4-aligned
      },
      get size() {
        return reads.size++ === 0 ? region.size : 8; // 8: too small
      },
    };
    const options = {
      get asyncifyData() {
        return reads.asyncifyData++ === 0 ? data : { address: 0, size: 1 << 30 };
      },
    };
    const { guest, setFetch } = await loadGuest(host, "asyncify", options as never);
    expect(reads).toEqual({ asyncifyData: 1, address: 1, size: 1 });
    setFetch((v) => Promise.resolve(v + 1));
    const t = host.spawn(function* (f) {
      return yield* f.call(guest.exports.compute, 1);
    });
    await host.run();
    expect(await t.result).toBe(234);
  });

  it("options.suspending is read once, each name once, and checked by lookup: 8,000 listed imports", async () => {
    const host = await virtualHost();
    const n = 8000;
    const bytes = wasmModule({
      imports: Array.from({ length: n }, (_, i) => ({ module: "env", name: `f${i}`, type: fnType(1) })),
      funcs: [],
    });
    const env: Record<string, () => number> = {};
    for (let i = 0; i < n; i++) env[`f${i}`] = () => i;
    const names = Array.from({ length: n }, (_, i) => `env.f${i}`);
    let reads = 0;
    const counted = new Proxy(names, {
      get(target, key, receiver) {
        reads++;
        return Reflect.get(target, key, receiver);
      },
      getOwnPropertyDescriptor(target, key) {
        reads++;
        return Reflect.getOwnPropertyDescriptor(target, key);
      },
    });
    const g = await host.instantiate(bytes, { env }, { suspending: counted, suspension: "none" });
    expect(reads).toBe(n + 1); // its length, then each name
    expect(g.functionImports.every((i) => i.suspending)).toBe(true);
  });

  it("options.target that throws, or an options getter that throws: HResultError(E_INVALIDARG) naming it", async () => {
    const host = await virtualHost();
    const env = { env: guestImports() };
    const threw = await hrOf(
      host.instantiate(guestBytes("plain"), env, {
        target: () => {
          throw new Error("target");
        },
      }),
    );
    expect(threw.hr).toBe(E_INVALIDARG);
    expect(threw.message).toContain("options.target");
    const getter = await hrOf(
      host.instantiate(
        guestBytes("plain"),
        env,
        Object.defineProperty({}, "suspending", {
          enumerable: true,
          get() {
            throw new Error("getter");
          },
        }),
      ),
    );
    expect(getter.message).toContain("options.suspending");
  });
});

describe("a guest over 8 MB (Chromium refuses new WebAssembly.Instance for it on the main thread)", () => {
  // (import "env" "f" (func)) (func $start (call $f)) (start $start), a 9 MiB data segment
  const big = wasmModule({
    imports: [{ module: "env", name: "f", type: { params: [], results: [] } }],
    funcs: [
      { type: { params: [], results: [] }, body: op.call(0) },
      { type: fnType(0), body: op.i32Const(42) },
    ],
    memory: { min: 160 },
    exports: [
      { name: "memory", kind: "memory", index: 0 },
      { name: "answer", kind: "func", index: 2 },
    ],
    start: 1,
    data: [{ offset: 0, bytes: new Uint8Array(9 * 1024 * 1024).fill(7) }],
  });

  it("is over 8 MB, and in Chromium the synchronous instantiation is refused for it", async () => {
    expect(big.length).toBeGreaterThan(8 * 1024 * 1024);
    if (inBrowser) {
      const module = await WebAssembly.compile(big as BufferSource);
      expect(() => new WebAssembly.Instance(module, { env: { f: () => {} } })).toThrow(RangeError);
    }
  });

  for (const given of ["a compiled WebAssembly.Module", "its bytes (with a start section)"]) {
    it(`given as ${given}: instantiated asynchronously, the start function's crossings hooked and balanced`, async () => {
      const host = await virtualHost();
      const source = given.startsWith("a compiled") ? await WebAssembly.compile(big as BufferSource) : big;
      const seen: string[][] = [];
      const g = await host.instantiate<{ answer(): number; memory: WebAssembly.Memory }>(source, {
        env: { f: () => void seen.push(frameNames(host.rootTask.frames())) },
      });
      expect(seen).toEqual([["R", `L${g.targets["env.f"].toString(16)}`]]);
      expect(host.rootTask.frames()).toEqual([]);
      expect(counts(host)).toEqual([1, 1, 1, 1]);
      expect(g.exports.answer()).toBe(42);
      expect(new Uint8Array(g.exports.memory.buffer)[9 * 1024 * 1024 - 1]).toBe(7);
      expectBalanced(host);
    });
  }

  it("a start function that throws on the asynchronous path rejects with its error, frames closed", async () => {
    const host = await virtualHost();
    const err = await rejection(
      host.instantiate(await WebAssembly.compile(big as BufferSource), {
        env: {
          f: () => {
            throw new RangeError("start");
          },
        },
      }),
    );
    expect(err).toBeInstanceOf(RangeError);
    expect(host.rootTask.frames()).toEqual([]);
    expectBalanced(host);
  });
});

describe("suspension 'auto' and asyncify exports another runtime drives (Emscripten's Asyncify)", () => {
  const unit = { params: [], results: [] };
  const p1 = { params: [I32], results: [] };
  /** A guest exporting the five asyncify_* functions (stubs), its memory imported or exported. */
  function asyncifyStubs(memory: "imported" | "exported", dataExports: boolean): Uint8Array {
    const names: [string, FuncType, number[]][] = [
      ["asyncify_start_unwind", p1, []],
      ["asyncify_stop_unwind", unit, []],
      ["asyncify_start_rewind", p1, []],
      ["asyncify_stop_rewind", unit, []],
      ["asyncify_get_state", fnType(0), op.i32Const(0)],
    ];
    if (dataExports)
      names.push(
        ["asyncify_data_address", fnType(0), op.i32Const(16)],
        ["asyncify_data_size", fnType(0), op.i32Const(1024)],
      );
    return wasmModule({
      memoryImport: memory === "imported" ? { module: "env", name: "memory", min: 1 } : undefined,
      memory: memory === "exported" ? { min: 1 } : undefined,
      funcs: [...names.map(([, type, body]) => ({ type, body })), { type: fnType(1), body: args(1) }],
      exports: [
        ...names.map(([name], i) => ({ name, kind: "func" as const, index: i })),
        { name: "id", kind: "func" as const, index: names.length },
        ...(memory === "exported" ? [{ name: "memory", kind: "memory" as const, index: 0 }] : []),
      ],
    });
  }

  for (const [what, bytes, mode] of [
    ["its memory imported (Emscripten's shape: followed, 'external')", asyncifyStubs("imported", true), "external"],
    ["no data-region exports (asyncify_data_address/size)", asyncifyStubs("exported", false), "none"],
  ] as const) {
    it(`a guest with ${what} is not driven by fiberhost's asyncify, and keeps its asyncify_* exports, unhooked`, async () => {
      const host = await virtualHost();
      const imports = { env: { memory: new WebAssembly.Memory({ initial: 1 }) } };
      const g = await host.instantiate<Record<string, unknown>>(bytes, imports);
      expect(g.suspension).toBe(mode);
      // "none": the engine's own functions; "external": watched for the runtime's state, never crossed.
      for (const name of ["asyncify_start_unwind", "asyncify_stop_unwind", "asyncify_get_state"])
        if (mode === "none") expect(g.exports[name]).toBe(g.instance.exports[name]);
        else expect(typeof g.exports[name]).toBe("function");
      (g.exports.asyncify_get_state as () => number)();
      expect(counts(host)).toEqual([0, 0, 0, 0]);
      expect((g.exports.id as (x: number) => number)(3)).toBe(3);
      expect(counts(host)).toEqual([1, 0, 0, 1]);
    });
  }

  it("a guest built for fiberhost (memory exported, data-region exports) is still driven by its asyncify, which stays out of guest.exports", async () => {
    const host = await virtualHost();
    const g = await host.instantiate<Record<string, unknown>>(asyncifyStubs("exported", true), {});
    expect(g.suspension).toBe("asyncify");
    expect("asyncify_start_unwind" in g.exports).toBe(false);
  });

  it("with suspension 'none', the example asyncify guest keeps its asyncify_* exports (whoever drives them needs them)", async () => {
    const host = await virtualHost();
    const { guest } = await loadGuest(host, "asyncify", { suspension: "none" });
    const exports = guest.exports as unknown as Record<string, unknown>;
    expect(exports.asyncify_start_unwind).toBe(guest.instance.exports.asyncify_start_unwind);
    const auto = await loadGuest(host, "asyncify");
    expect(auto.guest.suspension).toBe("asyncify");
    expect("asyncify_start_unwind" in auto.guest.exports).toBe(false);
  });
});

describe.runIf(hasJspi)("JSPI and one name imported with two signatures", () => {
  it("a suspending import imported with two signatures is refused with E_NOTIMPL (one trampoline per signature)", async () => {
    const host = await virtualHost();
    const bytes = wasmModule({
      imports: [
        { module: "env", name: "f", type: fnType(1) },
        { module: "env", name: "f", type: fnType(3) },
      ],
      funcs: [],
    });
    const err = await hrOf(host.instantiate(bytes, { env: { f: async () => 0 } }, { suspension: "jspi" }));
    expect(err.hr).toBe(E_NOTIMPL);
    expect(err.message).toContain("env.f with several");
  });
});
